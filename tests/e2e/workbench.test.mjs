// The editor's workbench beyond the main flow: sample events show their labels and become rule
// tests that run in the browser with the verdicts `rulestudio test` gives; the preview window
// is the last N events or a time range; suggest-exception offers the benign matches' fields
// and values, exact or generalised, shows what the picked exception removes, and applies it;
// a long preview shows progress and can be cancelled; the Rules page shows match counts; every
// page has labelled controls and fits the screen.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  DESKTOP, FALCO_RULES, artifact, LAPTOP, MAIN, RULESTUDIO_BIN, WORK, api, createUser, editorValue, fillEditor, horizontalOverflow,
  ingest, launch, leaveEditorBy, localInput, runPreview, shot, shotOf, signIn, unlabelledControls,
} from "./lib.mjs";

const RULE = "E2E ksh in container";
const USER = { username: "carol", password: "carol-password-1", role: "author" };
const ADMIN = { username: "admin", password: MAIN.adminPassword };
const draft = (extra = "") => `- rule: ${RULE}
  desc: A Korn shell started inside a container
  condition: spawned_process and container and proc.name = ksh${extra}
  output: "ksh in container (cmd=%proc.cmdline container=%container.name)"
  priority: NOTICE
  tags: [e2e]
`;
// The newest event, which the test labels benign and then excludes.
const FIXED = draft(' and proc.cmdline != "ksh -c job-0"');

let browser;
let page;
const state = {};

/// 12 ksh starts in a container two seconds apart (newest first) and 3 on the host.
function events(now) {
  const out = [];
  for (let i = 0; i < 12; i++)
    out.push({ "evt.time": now - i * 2e9, "evt.type": "execve", "proc.name": "ksh", "proc.cmdline": `ksh -c job-${i}`, "proc.pname": "cron", "user.name": "batch", "container.id": "2b7d3e4f2a9c", "container.name": "jobs-1" });
  for (let i = 0; i < 3; i++)
    out.push({ "evt.time": now - i * 2e9 - 1e9, "evt.type": "execve", "proc.name": "ksh", "proc.cmdline": "ksh", "user.name": "ops", "container.id": "host" });
  return out;
}

/// `rulestudio test` with the live set's file and `rules` on `tests`: exit code and summary.
function cliTest(rules, tests) {
  writeFileSync(join(WORK, "wb-draft.yaml"), rules);
  writeFileSync(join(WORK, "wb-tests.yaml"), tests);
  const r = spawnSync(RULESTUDIO_BIN, ["test", "--rules", FALCO_RULES, "--rules", join(WORK, "wb-draft.yaml"), join(WORK, "wb-tests.yaml")], { encoding: "utf8" });
  return { code: r.status, summary: r.stdout.trim().split("\n").pop() };
}

const result = () => page.locator(`[data-testid="preview-rule"][data-rule="${RULE}"]`);

async function preview() {
  await runPreview(page);
  await result().waitFor();
}

before(async () => {
  browser = await launch();
  await createUser(USER);
  state.events = events(Date.now() * 1e6);
  // Oldest first, as a collector sends them: the newest event gets the highest id.
  await ingest([...state.events].reverse());
  page = await signIn(browser, USER);
});

after(async () => {
  await browser?.close();
});

test("samples show their labels and become rule tests that agree with `rulestudio test`", async () => {
  await page.getByTestId("nav-rules").click();
  await page.getByTestId("rule-new").click();
  await fillEditor(page, draft());
  await preview();
  assert.equal(Number(await result().getByTestId("preview-matched").textContent()), 12);

  const newest = result().getByTestId("preview-sample").first();
  const id = await newest.getAttribute("data-event-id");
  await newest.getByTestId("label-benign").click();
  // After the preview runs again, the sample carries its stored label.
  const labelled = result().locator(`[data-testid="preview-sample"][data-event-id="${id}"][data-label="benign"]`);
  await labelled.locator('[data-testid="label-benign"][aria-pressed="true"]').waitFor();
  assert.equal(Number(await result().getByTestId("preview-fp").textContent()), 1);

  await labelled.getByTestId("sample-add-test").click();
  await result().getByTestId("preview-sample").nth(1).getByTestId("sample-add-test").click();
  await page.getByTestId("tab-tests").filter({ hasText: "Tests (2)" }).click();
  await page.getByTestId("tests-run").click();
  await page.getByTestId("tests-summary").filter({ hasText: "1 passed, 1 failed" }).waitFor();
  const failing = page.locator('[data-testid="test-result"][data-status="fail"]');
  assert.match(await failing.textContent(), /expected no_match, got match/);
  const tests = await page.getByTestId("rule-tests").inputValue();
  assert.deepEqual(cliTest(draft(), tests), { code: 1, summary: "1 passed, 1 failed" });

  // The fix the failing test asks for makes both pass, in the browser and in CI.
  await fillEditor(page, FIXED);
  await page.getByTestId("tests-run").click();
  await page.getByTestId("tests-summary").filter({ hasText: "2 passed, 0 failed" }).waitFor();
  await shot(page, "15-editor-tests");
  assert.deepEqual(cliTest(FIXED, tests), { code: 0, summary: "2 passed, 0 failed" });

  // The tests stay with the rule in this browser.
  await page.reload();
  await page.getByTestId("tab-tests").filter({ hasText: "Tests (2)" }).click();
  assert.equal(await page.getByTestId("rule-tests").inputValue(), tests);
});

test("the preview window can be a time range", async () => {
  await fillEditor(page, FIXED);
  await page.getByTestId("tab-preview").click();
  const t = (i) => state.events[i]["evt.time"];
  // Whole seconds around events 3..7: event 2 is 2 s newer than 3, event 8 2 s older than 7.
  const since = localInput(t(7));
  const until = localInput(t(2));
  await page.getByTestId("preview-window").selectOption("range");
  await page.getByTestId("preview-since").fill(since);
  await page.getByTestId("preview-until").fill(until);
  await preview();
  assert.equal(Number(await result().getByTestId("preview-matched").textContent()), 5);
  await shot(page, "16-editor-window");

  await page.getByTestId("preview-window").selectOption("last:1000");
  await preview();
  assert.equal(Number(await result().getByTestId("preview-matched").textContent()), 11);
});

test("the preview: a histogram over the window with axes, group-by any fields, samples of what the change adds", async () => {
  await fillEditor(page, FIXED);
  await page.getByTestId("preview-window").selectOption("ago:15m");
  await page.getByTestId("preview-group-by").fill("user.name, container.name");
  await preview();
  // Sixty buckets from the window's start, holding the 11 matches; the count axis tops at the
  // fullest bucket, the time axis has start, middle and end.
  const buckets = result().getByTestId("preview-bucket");
  assert.equal(await buckets.count(), 60);
  const counts = (await buckets.evaluateAll((bs) => bs.map((b) => Number(b.getAttribute("data-count")))));
  assert.equal(counts.reduce((a, b) => a + b, 0), 11);
  assert.equal(Number(await result().getByTestId("preview-axis-max").textContent()), Math.max(...counts));
  assert.equal(await result().getByTestId("preview-axis-time").count(), 3);
  // Grouped by the two fields typed.
  assert.deepEqual(
    (await result().getByTestId("preview-group").allTextContents()),
    ["batch | jobs-111"],
  );
  assert.equal(await result().locator('[data-testid="preview-groups"] th').first().textContent(), "user.name, container.name");
  // The rule is not live: every match is an addition, none a removal.
  assert.equal(await result().getByTestId("preview-added-sample").count(), 11);
  assert.equal(await result().getByTestId("preview-removed-sample").count(), 0);
  await shot(page, "24-preview-histogram-groups");
});

test("suggest exception shows the change before applying it, then writes it into the rule it tunes", async () => {
  // The newest match was labelled benign above; the draft without the fix still matches it.
  await fillEditor(page, draft());
  await preview();
  await result().getByTestId("suggest-exception").click();
  const suggestion = result().locator(".suggestion");
  await suggestion.waitFor();
  assert.match(await suggestion.textContent(), /With it: 11 matched \(was 12\), 0 false positives \(was 1\)/);
  assert.match(await suggestion.locator("pre").textContent(), /fields: \[proc\.cmdline\][\s\S]*"ksh -c job-0"/);
  await suggestion.getByTestId("apply-exception").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="rule-editor"]')?.value.includes("rulestudio_suggested"));
  const text = await editorValue(page);
  // Inside the rule's own item, not an override appended after it.
  assert.ok(text.startsWith(`- rule: ${RULE}\n`), text);
  assert.equal((text.match(/- rule:/g) || []).length, 1, text);
  assert.ok(!text.includes("override"), text);
  await preview();
  assert.equal(Number(await result().getByTestId("preview-matched").textContent()), 11);
});

test("suggest exception: pick fields and values, exact or generalised, see what goes, apply exactly that", async () => {
  const TMP_RULE = "E2E temporary files written";
  const tmpDraft = `- rule: ${TMP_RULE}
  desc: A build tool wrote below /tmp
  condition: evt.type = openat and fd.name startswith /tmp/ and proc.name = tmpwriter
  output: "tmpwriter wrote %fd.name (container=%container.id)"
  priority: NOTICE
  tags: [e2e]
`;
  // Two temporary files of builds in fresh containers of one image (benign), and one file
  // elsewhere by another image (kept).
  const now = Date.now() * 1e6;
  const ev = (i, file, id, image) => ({ "evt.time": now + i, "evt.type": "openat", "proc.name": "tmpwriter", "fd.name": file,
    "container.id": id, "container.image.repository": image, "user.name": "build" });
  await ingest([
    ev(0, "/tmp/build/tmp.Xa81Kq", "a1b2c3d4e5f6", "registry.local/builder"),
    ev(1, "/tmp/build/tmp.P02mZz", "0f9e8d7c6b5a", "registry.local/builder"),
    ev(2, "/tmp/keep/report.txt", "5a6b7c8d9e0f", "registry.local/app"),
  ]);
  const found = await api("GET", `/events?filter=${encodeURIComponent("proc.name = tmpwriter")}`);
  const benign = found.events.filter((e) => e.fields["fd.name"].startsWith("/tmp/build/")).map((e) => e.id);
  for (const id of benign) {
    await api("POST", `/events/${encodeURIComponent(id)}/label`, JSON.stringify({ label: "benign", rule: TMP_RULE }), { "Content-Type": "application/json" });
  }

  await fillEditor(page, tmpDraft);
  await page.getByTestId("preview-window").selectOption("last:1000");
  const tmpResult = page.locator(`[data-testid="preview-rule"][data-rule="${TMP_RULE}"]`);
  await runPreview(page);
  await tmpResult.getByTestId("suggest-exception").click();
  const suggestion = tmpResult.getByTestId("exception-suggestion");
  await suggestion.waitFor();
  // The candidates: each field of the benign matches with its values, and the generalisation
  // offered (the directory of a temporary file, the image of a container).
  const field = (name) => suggestion.locator(`[data-testid="exception-field"][data-field="${name}"]`);
  const value = (name, v) => field(name).locator(`[data-testid="exception-value"][data-value="${v}"]`);
  assert.equal(await value("fd.name", "/tmp/build/tmp.Xa81Kq").getAttribute("data-general"), "/tmp/build/");
  assert.equal(await value("container.id", "a1b2c3d4e5f6").getAttribute("data-general"), "registry.local/builder");
  assert.equal(await field("proc.name").getByTestId("exception-form-general").count(), 0);

  // Nothing picked is said, not sent.
  for (const box of await suggestion.getByTestId("exception-field-pick").all()) await box.uncheck();
  await suggestion.getByTestId("exception-update").click();
  await suggestion.getByTestId("exception-pick-nothing").waitFor();
  // Only the temporary files' directory.
  await field("fd.name").getByTestId("exception-field-pick").check();
  await field("fd.name").getByTestId("exception-form-general").check();
  const answered = page.waitForResponse((r) => r.url().endsWith("/preview/suggest-exception") && r.request().postDataJSON().picks.length === 1);
  await suggestion.getByTestId("exception-update").click();
  const sent = (await answered).request().postDataJSON();
  assert.deepEqual(sent.picks, [{ field: "fd.name", general: true, values: ["/tmp/build/tmp.P02mZz", "/tmp/build/tmp.Xa81Kq"] }]);
  const yaml = suggestion.getByTestId("exception-yaml");
  await yaml.filter({ hasText: "startswith" }).waitFor();
  const entry = `- name: rulestudio_suggested
  fields: [fd.name]
  comps: ["startswith"]
  values:
    - ["/tmp/build/"]
`;
  assert.equal(await yaml.textContent(), entry);
  // The delta before applying: 3 matches become 1, and the two removed are shown.
  const delta = suggestion.getByTestId("exception-delta");
  assert.deepEqual(
    [await delta.getAttribute("data-before"), await delta.getAttribute("data-after"), await delta.getAttribute("data-removed")],
    ["3", "1", "2"],
  );
  assert.deepEqual(
    (await suggestion.getByTestId("exception-removed-sample").evaluateAll((xs) => xs.map((x) => x.dataset.eventId))).sort(),
    [...benign].sort(),
  );
  await shotOf(suggestion, "26-exception-picks");

  await suggestion.getByTestId("apply-exception").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="rule-editor"]')?.value.includes("rulestudio_suggested"));
  // The draft holds exactly that exception, inside the rule.
  const indented = entry.split("\n").filter(Boolean).map((l) => `    ${l}\n`).join("");
  assert.equal(await editorValue(page), `${tmpDraft}  exceptions:\n${indented}`);
  await runPreview(page);
  assert.equal(Number(await tmpResult.getByTestId("preview-matched").textContent()), 1);
});

test("a long preview shows progress and can be cancelled", async () => {
  // Hold the request back, as a preview over millions of events would take long.
  await page.route("**/api/v1/preview", async (route) => {
    await new Promise((r) => setTimeout(r, 5000));
    await route.continue().catch(() => {});
  });
  await page.getByTestId("preview-run").click();
  const progress = page.getByTestId("preview-progress");
  await progress.filter({ hasText: /\d\.\d s/ }).waitFor();
  await shot(page, "17-preview-progress");
  await progress.getByTestId("preview-cancel").click();
  await page.getByTestId("preview-cancelled").waitFor();
  assert.equal(await progress.count(), 0);
  assert.equal(await page.getByTestId("preview-run").isEnabled(), true);
  await page.unrouteAll({ behavior: "ignoreErrors" });
});

test("the Rules page shows how often each rule matched", async () => {
  await ingest([{ "evt.time": Date.now() * 1e6, "evt.type": "execve", "proc.name": "zsh", "proc.cmdline": "zsh -i", "proc.pname": "runc", "proc.tty": 34816, "user.name": "root", "container.id": "7d3e4f2a9c1b", "container.name": "tools-1" }]);
  const rule = "Terminal shell in container";
  const counts = await api("GET", "/alerts/counts?since=-24h");
  const want = counts.rules.find((r) => r.rule === rule)?.count ?? 0;
  assert.ok(want >= 1, JSON.stringify(counts));
  await leaveEditorBy(page, "nav-rules");
  const cell = page.locator(`[data-testid="rule-row"][data-rule="${rule}"] [data-testid="rule-matches"]`);
  await cell.filter({ hasText: String(want) }).waitFor();
  await shot(page, "02-rules");
});

test("every page has labelled controls and fits a 1280 px and a laptop screen", async () => {
  // A proposal with evidence and a diff, for its page.
  const layout = "- rule: E2E layout check\n  desc: d\n  condition: spawned_process and proc.name = layout-check\n  output: \"%proc.cmdline\"\n  priority: NOTICE\n";
  const proposal = await api("POST", "/proposals", JSON.stringify({ title: "Layout check", files: [{ name: "e2e_layout_rules.yaml", content: layout }] }), { "Content-Type": "application/json" });
  const pages = ["/events", "/rules", "/rules/new", "/proposals", `/proposals/${proposal.id}`, "/live", "/alerts", "/admin"];
  for (const viewport of [DESKTOP, LAPTOP]) {
    const admin = await signIn(browser, ADMIN, { viewport });
    for (const path of pages) {
      await admin.goto(MAIN.base + path);
      await admin.locator("main h1").first().waitFor();
      await admin.waitForLoadState("networkidle").catch(() => {});
      assert.deepEqual(await unlabelledControls(admin), [], `${path} at ${viewport.width}x${viewport.height}`);
      assert.ok((await horizontalOverflow(admin)) <= 0, `${path} scrolls sideways at ${viewport.width}x${viewport.height}`);
      await artifact(admin, `size-${viewport.width}${path.replaceAll("/", "-")}`);
    }
    await admin.context().close();
  }
});
