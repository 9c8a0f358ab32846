// The "Done means" flow of issue #6 in real headless Chromium against a real server:
// log in; type a rule with an error and see the diagnostic; fix it; preview and read the count
// `rulestudio eval` gives; label a match benign and see the FP count change; propose; approve as
// a second user; promote; see a live alert for a newly ingested matching event.
// Screenshots of every page go to tests/e2e/artifacts/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const BASE = process.env.E2E_BASE_URL;
const TOKEN = process.env.E2E_ADMIN_TOKEN;
const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD;
const WORK = process.env.E2E_WORK;
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

async function api(method, path, body, headers = {}) {
  const resp = await fetch(`${BASE}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, ...headers },
    body,
  });
  const text = await resp.text();
  if (!resp.ok) throw new Error(`${method} ${path}: ${resp.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

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

async function ingest(list) {
  const body = list.map((e) => JSON.stringify(e)).join("\n") + "\n";
  return api("POST", "/events", body, { "Content-Type": "application/x-ndjson" });
}

async function signIn(user) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error(`[page error] ${e.message}`));
  await page.goto(BASE + "/");
  await page.getByTestId("login-username").fill(user.username);
  await page.getByTestId("login-password").fill(user.password);
  await page.getByTestId("login-submit").click();
  await page.getByTestId("current-user").waitFor();
  return page;
}

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  });
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
  await editor.waitFor();
  await page.waitForFunction(() => !document.querySelector('[data-testid="rule-editor"]').disabled);
  await editor.fill(BAD);
  const diag = page.getByTestId("diagnostic").filter({ hasText: "proc.nme" });
  await diag.first().waitFor();
  await shot(page, "03-editor-diagnostic");

  // The did-you-mean fix, applied from the diagnostic, makes the rule clean.
  await diag.first().getByTestId("diagnostic-fix").click();
  await page.getByTestId("no-diagnostics").waitFor();
  assert.equal(await editor.inputValue(), GOOD);

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
  await editor.fill(GOOD);
  await page.getByTestId("no-diagnostics").waitFor();

  // Completion offers fields as the user types.
  await page.keyboard.press("Control+End");
  await page.keyboard.type("proc.exe");
  await page.getByTestId("completion").waitFor();
  await shot(page, "04-editor-completion");
  await page.keyboard.press("Escape");
  await editor.fill(GOOD);

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
  await page.getByTestId("nav-events").click();
  await page.getByTestId("event-row").first().waitFor();
  await page.getByTestId("events-filter").fill("proc.name = sh");
  await page.getByTestId("events-filter").press("Enter");
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="event-row"]')].length === 10);
  await page.getByTestId("event-row").first().click();
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
  await page.waitForFunction(() => !document.querySelector('[data-testid="rule-editor"]').disabled);
  await page.getByTestId("rule-editor").fill(GOOD);
  await page.getByTestId("proposal-title").fill("Detect shells in containers");
  await page.getByTestId("propose").click();
  await page.getByTestId("proposal-status").filter({ hasText: "open" }).waitFor();
  // The author cannot promote without a second person's approval, and the page says why.
  assert.equal(await page.getByTestId("proposal-promote").isDisabled(), true);
  await page.getByTestId("promote-blockers").filter({ hasText: "approvals it needs" }).waitFor();
  await shot(page, "10-proposal-author");
  state.proposalUrl = page.url();

  const reviewer = await signIn(REVIEWER);
  await reviewer.goto(state.proposalUrl);
  await reviewer.getByTestId("review-approve").click();
  await reviewer.getByTestId("proposal-status").filter({ hasText: "approved" }).waitFor();
  await reviewer.waitForFunction(() => !document.querySelector('[data-testid="proposal-promote"]').disabled);
  await reviewer.getByTestId("proposal-promote").click();
  await reviewer.getByTestId("proposal-notice").waitFor();
  await reviewer.getByTestId("proposal-status").filter({ hasText: "promoted" }).waitFor();
  await shot(reviewer, "11-proposal-promoted");

  const after = await api("GET", "/live");
  assert.equal(after.version, before.version + 1);
  assert.equal(after.proposal, Number(state.proposalUrl.split("/").pop()));
  assert.ok(after.files.some((f) => f.content.includes(`- rule: ${RULE}`)), "the promoted rule is live");
  assert.match(await reviewer.getByTestId("proposal-notice").textContent(), new RegExp(`version ${after.version}`));
  state.promoted = true;
  await reviewer.context().close();
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
