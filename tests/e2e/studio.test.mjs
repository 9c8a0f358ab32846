// The "Done means" flow of issue #6 in real headless Chromium against a real server:
// log in; type a rule with an error and see the diagnostic; fix it; preview and read the count
// `rulestudio eval` gives; label a match benign and see the FP count change; propose; approve as
// a second user; promote; see a live alert for a newly ingested matching event.
// Screenshots of every page go to tests/e2e/artifacts/ (and to E2E_SCREENSHOTS_DIR when set).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { MAIN, WORK, api, editorValue, fillEditor, ingest, launch, leaveEditorBy, runPreview, shot, shotOf, signIn as signInAs } from "./lib.mjs";

const BASE = MAIN.base;
const TOKEN = MAIN.token;
const ADMIN_PASSWORD = MAIN.adminPassword;
const ARTIFACTS = new URL("./artifacts/", import.meta.url).pathname;
const RULE = "E2E shell in container";
const AUTHOR = { username: "alice", password: "alice-password-1", role: "author" };
const REVIEWER = { username: "bob", password: "bob-password-1", role: "reviewer" };

const draft = (condition) => `- rule: ${RULE}
  desc: A shell started inside a container
  condition: ${condition}
  output: "Shell in container (user=%user.name proc=%proc.name container=%container.name)"
  priority: WARNING
  tags: [e2e]
`;
const GOOD = draft("spawned_process and container and proc.name in (bash, sh)");
const BAD = draft("spawned_process and container and proc.nme in (bash, sh)");

let browser;
const state = {};

/// Deterministic, realistic-looking process events: shells in and out of containers, plus file
/// opens that no shell rule should match.
function events(now) {
  const out = [];
  const ev = (i, f) => out.push({ "evt.time": now - i * 1_000_000_000, "evt.num": i, ...f });
  for (let i = 0; i < 30; i++)
    ev(i, { "evt.type": "execve", "proc.name": "bash", "proc.cmdline": `bash -c job-${i}`, "proc.pname": "python3", "user.name": "root", "container.id": "4f2a9c1b7d3e", "container.name": "web-1", "proc.tty": 0 });
  for (let i = 30; i < 40; i++)
    ev(i, { "evt.type": "execve", "proc.name": "sh", "proc.cmdline": "sh -c healthcheck", "proc.pname": "containerd-shim", "user.name": "app", "container.id": "9b8c7d6e5f4a", "container.name": "db-1", "proc.tty": 0 });
  for (let i = 40; i < 60; i++)
    ev(i, { "evt.type": "execve", "proc.name": "bash", "proc.cmdline": "bash", "proc.pname": "sshd", "user.name": "ops", "container.id": "host", "proc.tty": 34816 });
  for (let i = 60; i < 80; i++)
    ev(i, { "evt.type": "openat", "proc.name": "nginx", "fd.name": "/etc/nginx/nginx.conf", "evt.arg.flags": "O_RDONLY", "user.name": "www-data", "container.id": "4f2a9c1b7d3e", "container.name": "web-1" });
  return out;
}

const signIn = (user) => signInAs(browser, user);

before(async () => {
  browser = await launch();
  for (const u of [AUTHOR, REVIEWER]) await api("POST", "/users", JSON.stringify(u), { "Content-Type": "application/json" });
  state.events = events(Date.now() * 1_000_000);
  const r = await ingest(state.events);
  assert.equal(r.accepted, state.events.length);
});

after(async () => {
  await browser?.close();
});

test("a wrong password is refused with a clear message", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(BASE + "/");
  await shot(page, "01-login");
  await page.getByTestId("login-username").fill(AUTHOR.username);
  await page.getByTestId("login-password").fill("not-the-password");
  await page.getByTestId("login-submit").click();
  await page.getByTestId("login-error").waitFor();
  await context.close();
});

test("author writes a rule: diagnostic, fix, preview equals `rulestudio eval`, FP after labelling", async () => {
  const page = await signIn(AUTHOR);
  state.author = page;
  await page.getByTestId("nav-rules").click();
  await page.locator('[data-testid="rule-row"]').first().waitFor();
  await shot(page, "02-rules");

  await page.getByTestId("rule-new").click();
  const editor = page.getByTestId("rule-editor");
  await fillEditor(page, BAD);
  const diag = page.getByTestId("diagnostic").filter({ hasText: "proc.nme" });
  await diag.first().waitFor();
  await shot(page, "03-editor-diagnostic");

  // The did-you-mean fix, applied from the diagnostic, makes the rule clean.
  await diag.first().getByTestId("diagnostic-fix").click();
  await page.getByTestId("no-diagnostics").waitFor();
  assert.equal(await editorValue(page), GOOD);

  // Lint time per keystroke on the whole live set (falco_rules.yaml) plus the draft.
  const times = [];
  await editor.focus();
  await page.keyboard.press("End");
  for (const ch of " and not proc.name = zsh".split("")) {
    const before = await page.getByTestId("lint-time").getAttribute("data-ms");
    await page.keyboard.type(ch);
    await page.waitForFunction((b) => document.querySelector('[data-testid="lint-time"]').dataset.ms !== b, before, { timeout: 5000 }).catch(() => {});
    times.push(Number(await page.getByTestId("lint-time").getAttribute("data-ms")));
  }
  times.sort((a, b) => a - b);
  const figure = { median_ms: times[Math.floor(times.length / 2)], max_ms: times[times.length - 1], samples: times.length };
  console.log(`lint-as-you-type in Chromium (falco_rules.yaml + draft): ${JSON.stringify(figure)}`);
  writeFileSync(join(ARTIFACTS, "lint-times.json"), JSON.stringify(figure, null, 2));
  await fillEditor(page, GOOD);
  await page.getByTestId("no-diagnostics").waitFor();

  // Completion offers fields as the user types a condition (line 3).
  await editor.focus();
  await page.keyboard.press("Control+Home");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("End");
  await page.keyboard.type(" and proc.exe");
  await page.locator(".cm-tooltip-autocomplete").waitFor();
  await shot(page, "04-editor-completion");
  await page.keyboard.press("Escape");
  await fillEditor(page, GOOD);

  // What `rulestudio eval` says on the same events, with the live set loaded first.
  const ndjson = join(WORK, "events.ndjson");
  const draftFile = join(WORK, "draft.yaml");
  writeFileSync(ndjson, state.events.map((e) => JSON.stringify(e)).join("\n") + "\n");
  writeFileSync(draftFile, GOOD);
  const evalOut = execFileSync(process.env.RULESTUDIO_BIN, ["eval", "--rules", process.env.E2E_FALCO_RULES, "--rules", draftFile, "--events", ndjson], { encoding: "utf8" });
  const expected = evalOut.split("\n").filter((l) => l.trim() && JSON.parse(l).rule === RULE).length;
  assert.equal(expected, 40, "30 bash + 10 sh events in containers");

  await page.getByTestId("preview-run").click();
  const result = page.locator(`[data-testid="preview-rule"][data-rule="${RULE}"]`);
  await result.waitFor();
  assert.equal(Number(await result.getByTestId("preview-matched").textContent()), expected);
  assert.equal(Number(await result.getByTestId("preview-fp").textContent()), 0);
  // An untagged rule alerts; the preview says so as the rules page does.
  assert.equal(await result.getByTestId("preview-action").locator("[data-action]").getAttribute("data-action"), "alert");
  await shot(page, "05-editor-preview");

  await result.getByTestId("preview-sample").first().getByTestId("label-benign").click();
  await page.waitForFunction(
    (rule) => document.querySelector(`[data-testid="preview-rule"][data-rule="${rule}"] [data-testid="preview-fp"]`)?.textContent === "1",
    RULE,
  );
  await shot(page, "06-editor-labelled");
});

test("events, live set and admin pages render", async () => {
  const page = state.author;
  await leaveEditorBy(page, "nav-events");
  await page.getByTestId("events-row").first().waitFor();
  await page.getByTestId("events-search").fill("proc.name = sh");
  await page.getByTestId("events-search").press("Enter");
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="events-row"]')].length === 10);
  await page.getByTestId("events-row").first().click();
  await page.getByTestId("event-detail").waitFor();
  await shot(page, "07-events");
  await page.getByTestId("nav-live").click();
  await page.getByTestId("live-version").waitFor();
  await shot(page, "08-live");

  const admin = await signIn({ username: "admin", password: ADMIN_PASSWORD });
  await admin.getByTestId("nav-admin").click();
  await admin.getByText(REVIEWER.username, { exact: true }).waitFor();
  await shot(admin, "09-admin");
  await admin.context().close();
});

test("propose, approve as a second user, promote", async () => {
  // The reviewer is a second user, created over REST in `before` like every user here.
  const reviewerUser = (await api("GET", "/users")).users.find((u) => u.username === REVIEWER.username);
  assert.equal(reviewerUser.role, "reviewer");
  const before = await api("GET", "/live");

  const page = state.author;
  await page.getByTestId("nav-rules").click();
  await page.getByTestId("rule-new").click();
  await fillEditor(page, GOOD);
  // An unlabelled match becomes a rule test ("must match"), which travels with the proposal.
  await runPreview(page);
  const rule = page.locator(`[data-testid="preview-rule"][data-rule="${RULE}"]`);
  await rule.locator('[data-testid="preview-sample"][data-label=""]').first().getByTestId("sample-add-test").click();
  await page.getByTestId("proposal-title").fill("Detect shells in containers");
  await page.getByTestId("propose").click();
  await page.getByTestId("proposal-status").filter({ hasText: "open" }).waitFor();
  state.proposalUrl = page.url();
  const id = Number(state.proposalUrl.split("/").pop());

  // The evidence shown is the server's: counts of the changed rule, lint, the rule test.
  const proposal = await api("GET", `/proposals/${id}`);
  const evidence = proposal.evidence.rules.find((r) => r.name === RULE);
  assert.equal(evidence.matched, 40, "the 40 shells in containers");
  assert.equal(evidence.false_positives, 1, "the match labelled benign in the editor");
  const shown = page.locator(`[data-testid="evidence-rule"][data-rule="${RULE}"]`);
  assert.equal(await shown.getByTestId("evidence-matched").textContent(), String(evidence.matched));
  assert.equal(await shown.getByTestId("evidence-fp").textContent(), String(evidence.false_positives));
  assert.equal(await shown.getByTestId("evidence-unlabeled").textContent(), String(evidence.unlabeled));
  assert.equal(await shown.getByTestId("evidence-added").textContent(), `+${evidence.added}`);
  assert.equal(await shown.getByTestId("evidence-action").locator("[data-action]").getAttribute("data-action"), evidence.action);
  assert.deepEqual(proposal.evidence.tests.map((t) => t.passed), [true]);
  assert.equal(await page.locator('[data-testid="evidence-tests"] [data-testid="test-result"][data-status="pass"]').count(), 1);
  assert.equal(await page.getByTestId("evidence-errors").textContent(), String(proposal.evidence.errors));

  // The author cannot promote without a second person's approval, and the page says why.
  assert.equal(await page.getByTestId("proposal-promote").isDisabled(), true);
  await page.getByTestId("promote-blockers").filter({ hasText: "approvals it needs" }).waitFor();
  await shot(page, "10-proposal-author");

  // A comment on the rule's condition line, anchored to that line of the new file.
  const file = proposal.diff[0].file;
  const content = proposal.files.find((f) => f.name === file).content.split("\n");
  const line = content.findIndex((l, i) => l.trim().startsWith("condition:") && content[i - 2]?.includes(RULE)) + 1;
  assert.ok(line > 0, "the condition line of the new rule");
  const diff = page.locator(`[data-testid="proposal-diff"][data-file="${file}"]`);
  await diff.locator(`[data-testid="diff-line"][data-line="${line}"]`).click();
  await page.getByTestId("line-comment-body").fill("Should this also cover zsh and ksh?");
  await page.getByTestId("line-comment-submit").click();
  const comment = diff.locator(`[data-testid="line-comment"][data-line="${line}"]`);
  await comment.filter({ hasText: "zsh and ksh" }).waitFor();
  const comments = (await api("GET", `/proposals/${id}`)).comments;
  assert.deepEqual(comments.map((c) => [c.author, c.file, c.line]), [[AUTHOR.username, file, line]]);

  const reviewer = await signIn(REVIEWER);
  await reviewer.goto(state.proposalUrl);
  await reviewer.locator(`[data-testid="line-comment"][data-line="${line}"]`).waitFor();
  await shotOf(reviewer.locator(`[data-testid="proposal-diff"][data-file="${file}"]`), "11-proposal-line-comment");
  // Evidence is computed again on request, over the same window: the same counts.
  await reviewer.getByTestId("evidence-refresh").click();
  await reviewer.getByTestId("proposal-notice").filter({ hasText: "Evidence computed again" }).waitFor();
  assert.equal(
    await reviewer.locator(`[data-testid="evidence-rule"][data-rule="${RULE}"]`).getByTestId("evidence-matched").textContent(),
    String(evidence.matched),
  );
  // Over another window: the summary names it.
  assert.doesNotMatch(await reviewer.getByTestId("evidence-summary").textContent(), /the last 1,000 stored events/);
  await reviewer.getByTestId("evidence-window").selectOption("last:1000");
  await reviewer.getByTestId("evidence-refresh").click();
  await reviewer.getByTestId("evidence-summary").filter({ hasText: "the last 1,000 stored events" }).waitFor();
  await reviewer.getByTestId("review-body").fill("Looks right; the benign match is the CI job.");
  await reviewer.getByTestId("review-approve").click();
  await reviewer.getByTestId("proposal-status").filter({ hasText: "approved" }).waitFor();
  await reviewer.getByTestId("promote-ready").waitFor();
  await reviewer.getByTestId("proposal-promote").click();
  const confirm = reviewer.getByTestId("promote-confirm");
  await confirm.getByTestId("confirm-reason").fill("Reviewed with the evidence.");
  await confirm.getByTestId("confirm-ok").click();
  await reviewer.getByTestId("proposal-notice").filter({ hasText: "Promoted" }).waitFor();
  await reviewer.getByTestId("proposal-status").filter({ hasText: "promoted" }).waitFor();
  await shot(reviewer, "11-proposal-promoted");

  const after = await api("GET", "/live");
  assert.equal(after.version, before.version + 1);
  assert.equal(after.proposal, id);
  assert.ok(after.files.some((f) => f.content.includes(`- rule: ${RULE}`)), "the promoted rule is live");
  assert.match(await reviewer.getByTestId("proposal-notice").textContent(), new RegExp(`version ${after.version}`));
  state.promoted = true;
  await reviewer.context().close();
});

test("a proposal's lint warnings and failing rule test are shown with their places, and promote says why", async () => {
  const rule = "E2E tool writes below /etc";
  const content = `- rule: ${rule}
  desc: A tool writes a file below /etc
  condition: evt.type = openat and fd.name startswith /etc and proc.name = e2e-tool
  output: "e2e-tool opened %fd.name"
  priority: ERROR
`;
  const test = { name: "e2e-tool writing /etc/passwd is not an alert", rule, expect: "no_match", event: { "evt.type": "openat", "fd.name": "/etc/passwd", "proc.name": "e2e-tool" } };
  const body = { title: "Writes below /etc", description: "A deliberately flawed proposal.", files: [{ name: "e2e_review_rules.yaml", content }], tests: [test] };
  const p = await api("POST", "/proposals", JSON.stringify(body), { "Content-Type": "application/json" });
  const warning = p.evidence.diagnostics.find((d) => d.code === "RS009");
  assert.ok(warning, JSON.stringify(p.evidence.diagnostics));
  assert.deepEqual(p.evidence.tests.map((t) => t.passed), [false]);

  const page = await signIn({ username: "admin", password: ADMIN_PASSWORD });
  await page.goto(`${BASE}/proposals/${p.id}`);
  const shown = page.locator('[data-testid="evidence-diagnostic"][data-code="RS009"]');
  await shown.waitFor();
  // The place links to the line in the diff, which shows the whole new file.
  const place = shown.getByRole("link", { name: `${warning.file}:${warning.line}:${warning.column}` });
  await place.click();
  await page.locator("#changes tr[data-target]").filter({ hasText: "startswith /etc" }).waitFor();
  assert.ok(page.url().endsWith(`#diff-0-L${warning.line}`), page.url());
  const failing = page.locator('[data-testid="evidence-tests"] [data-testid="test-result"][data-status="fail"]');
  assert.equal(await failing.count(), 1);
  const why = await failing.textContent();
  assert.ok(why.includes(p.evidence.tests[0].message), `${why} does not say: ${p.evidence.tests[0].message}`);
  assert.equal(await page.getByTestId("proposal-promote").isDisabled(), true);
  const blockers = await page.getByTestId("promote-blockers").locator("li").allTextContents();
  assert.deepEqual(blockers, p.blockers);
  assert.ok(blockers.some((b) => b.includes("rule test")), JSON.stringify(blockers));
  await page.getByTestId("proposal-evidence").scrollIntoViewIfNeeded();
  await shotOf(page.getByTestId("proposal-evidence"), "10-proposal-evidence-blocked");

  // Closing asks first; a closed proposal has no actions left.
  await page.getByTestId("proposal-close").click();
  await page.getByTestId("proposal-close-confirm").click();
  await page.getByTestId("proposal-status").filter({ hasText: "closed" }).waitFor();
  assert.equal(await page.getByTestId("proposal-promote").count(), 0);
  assert.equal((await api("GET", `/proposals/${p.id}`)).status, "closed");
  await page.context().close();
});

test("a newly ingested matching event shows up as a live alert", async () => {
  const page = await signIn(REVIEWER);
  await page.getByTestId("nav-alerts").click();
  await page.getByTestId("alerts-stream-status").filter({ hasText: "Streaming" }).waitFor();
  // Matches the stock "Terminal shell in container" rule (and the new rule once promoted).
  await ingest([{ "evt.time": Date.now() * 1_000_000, "evt.type": "execve", "proc.name": "bash", "proc.cmdline": "bash -i", "proc.pname": "runc", "proc.tty": 34816, "user.name": "root", "container.id": "4f2a9c1b7d3e", "container.name": "web-1" }]);
  const expectRule = state.promoted ? RULE : "Terminal shell in container";
  await page.locator(`[data-testid="alert"][data-rule="${expectRule}"]`).first().waitFor({ timeout: 10_000 });
  await shot(page, "12-alerts");
  await page.context().close();
});
