// The everyday loop of issue #17 in Chromium against a real server: editing a live rule opens
// the whole rule and proposing it changes exactly that rule (also for a name full of YAML
// specials); a draft's tests leave with its proposal; the evidence uses the author's preview
// window; promote and rollback confirm and record a reason, and a proposal says when its
// version was rolled back; sign-out leaves nothing for the next user, who lands on a page they
// may see; the preview window starts at the last 15 minutes and is remembered per user.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { MAIN, api, createUser, editorValue, fillEditor, ingest, launch, runPreview, signIn } from "./lib.mjs";

const BASE = MAIN.base;
const AUTHOR = { username: "edith", password: "edith-password-1", role: "author" };
const REVIEWER = { username: "rita", password: "rita-password-1", role: "reviewer" };
const ADMIN = { username: "admin", password: MAIN.adminPassword };
const FILE = "everyday_rules.yaml";
// Quotes, a colon and space, a slash, a hash, a percent sign and an apostrophe.
const TRICKY = `Shell "quoted" in: /tmp #1 50% it's`;
const OTHER = "Everyday untouched rule";
const CONTENT = `- list: everyday_shells
  items: [bash, zsh]

- macro: everyday_spawn
  condition: evt.type = execve and proc.name in (everyday_shells)

# The rule under test.
- rule: '${TRICKY.replaceAll("'", "''")}'
  desc: >
    A shell, as an everyday example
    over two lines
  condition: everyday_spawn and proc.cmdline contains "everyday"
  output: "everyday shell %proc.cmdline"
  priority: WARNING
  tags: [everyday]

- rule: ${OTHER}
  desc: Stays as it is
  condition: everyday_spawn and proc.cmdline contains "untouched"
  output: "untouched %proc.cmdline"
  priority: WARNING
`;

let browser;
let reviewerApi;
let initialVersion;
const json = { "Content-Type": "application/json" };
const post = (path, body, server = MAIN) => api("POST", path, JSON.stringify(body), json, server);

/// Proposes `files` as the admin, approves as the reviewer, promotes with a reason.
async function promoteOverRest(title, files, reason) {
  const p = await post("/proposals", { title, files });
  await post(`/proposals/${p.id}/reviews`, { verdict: "approve", body: "ok" }, reviewerApi);
  return (await post(`/proposals/${p.id}/promote`, { reason }, reviewerApi)).live_version;
}


async function openLiveRule(page, name) {
  await page.getByTestId("nav-rules").click();
  await page.locator(`[data-testid="live-edit"][data-rule="${name.replaceAll('"', '\\"')}"]`).click();
  await page.getByRole("heading", { name: `Edit: ${name}`, exact: true }).waitFor();
  const text = await editorValue(page);
  assert.doesNotMatch(text, /My new rule/, "the live rule, not the new-rule template");
  return text;
}

async function propose(page, title) {
  await page.getByTestId("proposal-title").fill(title);
  await page.getByTestId("propose").click();
  await page.getByTestId("proposal-status").waitFor();
  return api("GET", `/proposals/${page.url().split("/").pop()}`);
}

before(async () => {
  browser = await launch();
  for (const u of [AUTHOR, REVIEWER]) await createUser(u);
  const { token } = await post(`/users/${REVIEWER.username}/tokens`, { name: "everyday-e2e" });
  reviewerApi = { ...MAIN, token };
  initialVersion = (await api("GET", "/live")).version;
  await promoteOverRest("Everyday rules", [{ name: FILE, content: CONTENT }], "set-up of the everyday tests");
  // A match five minutes ago: inside the default preview window.
  const now = Date.now() * 1_000_000;
  await ingest([{ "evt.time": now - 300e9, "evt.type": "execve", "proc.name": "bash", "proc.cmdline": "bash -c everyday-job" }]);
});

after(async () => {
  // Leave the live set as the other test files expect it.
  if (initialVersion !== undefined && (await api("GET", "/live")).version !== initialVersion)
    await post("/live/rollback", { version: initialVersion, reason: "everyday e2e clean-up" });
  await browser?.close();
});

test("Edit opens a whole live rule with what it uses, and proposing changes only that rule", async () => {
  const page = await signIn(browser, AUTHOR);
  const live = await api("GET", "/live");
  const falco = live.files.find((f) => f.name === "falco_rules.yaml").content;

  // A stable rule: its whole item, as written, with its macros and lists reachable.
  const name = "Terminal shell in container";
  const start = falco.indexOf(`- rule: ${name}\n`);
  const item = falco.slice(start, falco.indexOf("\n\n", start)) + "\n";
  assert.equal(await openLiveRule(page, name), item);
  const uses = page.getByTestId("rule-uses");
  for (const used of ["spawned_process", "container", "shell_procs", "shell_binaries"]) {
    await uses.locator(`[data-testid="rule-use"][data-name="${used}"]`).first().waitFor();
    assert.equal(await uses.locator(`[data-testid="rule-use"][data-name="${used}"]`).count(), 1, used);
  }
  await uses.locator('[data-testid="rule-use"][data-name="shell_procs"] summary').click();
  await uses.locator('[data-testid="rule-use"][data-name="shell_procs"] pre').filter({ hasText: "proc.name in (shell_binaries)" }).waitFor();
  const edited = item.replace("priority: NOTICE", "priority: WARNING");
  await fillEditor(page, edited);
  const p = await propose(page, "Terminal shells are warnings");
  assert.deepEqual(p.files.map((f) => f.name), ["falco_rules.yaml"]);
  assert.equal(p.files[0].content, falco.replace(item, edited), "exactly that rule changed");
  assert.deepEqual(p.evidence.removed_rules, []);
  assert.deepEqual(p.evidence.rules.map((r) => r.name), [name]);
  await post(`/proposals/${p.id}/close`, {});

  // A name with quotes, a colon, a slash, a hash and a percent sign.
  const text = await openLiveRule(page, TRICKY);
  const own = CONTENT.slice(CONTENT.indexOf("- rule: '"), CONTENT.indexOf("\n\n- rule: " + OTHER)) + "\n";
  assert.equal(text, own);
  await page.locator('[data-testid="rule-use"][data-name="everyday_shells"]').waitFor();
  assert.deepEqual(
    await page.locator('[data-testid="rule-use"]').evaluateAll((els) => els.map((e) => e.dataset.name)),
    ["everyday_spawn", "everyday_shells"],
  );
  await fillEditor(page, own.replace("priority: WARNING", "priority: ERROR"));
  const q = await propose(page, "Everyday shells are errors");
  const file = q.files.find((f) => f.name === FILE);
  assert.equal(file.content, CONTENT.replace("priority: WARNING", "priority: ERROR"), "only the first rule's priority");
  assert.deepEqual(q.evidence.removed_rules, []);
  assert.deepEqual(q.evidence.rules.map((r) => r.name), [TRICKY]);
  await post(`/proposals/${q.id}/close`, {});
  await page.context().close();
});

test("a new rule's tests leave with its proposal; the evidence uses the preview window", async () => {
  const page = await signIn(browser, AUTHOR);
  await page.getByTestId("nav-rules").click();
  await page.getByTestId("rule-new").click();
  await fillEditor(page, "- rule: Everyday new rule\n  desc: d\n  condition: evt.type = execve and proc.cmdline contains \"everyday\"\n  output: \"new %proc.cmdline\"\n  priority: INFO\n");
  // The default window is a time window in which the match of five minutes ago shows.
  assert.equal(await page.getByTestId("preview-window").inputValue(), "ago:15m");
  await runPreview(page);
  assert.equal(await page.locator('[data-testid="preview-rule"][data-rule="Everyday new rule"] [data-testid="preview-matched"]').first().textContent(), "1");
  await page.getByTestId("preview-window").selectOption("ago:1h");
  await page.getByTestId("tab-tests").click();
  await page.getByTestId("rule-tests").fill('- name: everyday job\n  rule: Everyday new rule\n  expect: match\n  event: {"evt.type": "execve", "proc.cmdline": "bash -c everyday"}\n');
  const p = await propose(page, "A new everyday rule");
  assert.deepEqual(p.tests.map((t) => t.name), ["everyday job"]);
  assert.deepEqual(p.evidence.window, { since: "-1h", until: null });
  assert.match(await page.getByTestId("evidence-summary").textContent(), /since -1h/);

  // The next drafts, new or edited, start without those tests, and propose none.
  await page.getByTestId("nav-rules").click();
  await page.getByTestId("rule-new").click();
  await page.getByTestId("tab-tests").click();
  assert.equal(await page.getByTestId("rule-tests").inputValue(), "");
  const text = await openLiveRule(page, OTHER);
  await fillEditor(page, text.replace("Stays as it is", "Changed once"));
  const q = await propose(page, "Unrelated change");
  assert.deepEqual(q.files.map((f) => f.name), [FILE]);
  assert.deepEqual(q.tests, []);
  await post(`/proposals/${p.id}/close`, {});
  await post(`/proposals/${q.id}/close`, {});
  await page.context().close();
});

test("promote and rollback confirm and keep a reason; the proposal tells what became of its version", async () => {
  const author = await signIn(browser, AUTHOR);
  const text = await openLiveRule(author, OTHER);
  await fillEditor(author, text.replace("priority: WARNING", "priority: CRITICAL"));
  const p = await propose(author, "Untouched rule is critical");
  const at = CONTENT.indexOf(`- rule: ${OTHER}`);
  assert.deepEqual(p.files, [{ name: FILE, content: CONTENT.slice(0, at) + CONTENT.slice(at).replace("priority: WARNING", "priority: CRITICAL") }]);
  await author.context().close();
  await post(`/proposals/${p.id}/reviews`, { verdict: "approve", body: "fine" }, reviewerApi);

  const page = await signIn(browser, ADMIN);
  await page.goto(`${BASE}/proposals/${p.id}`);
  await page.getByTestId("promote-ready").waitFor();
  // Cancelling does nothing; confirming needs a reason.
  await page.getByTestId("proposal-promote").click();
  const confirm = page.getByTestId("promote-confirm");
  assert.equal(await confirm.getByTestId("confirm-ok").isDisabled(), true);
  await confirm.getByTestId("confirm-cancel").click();
  assert.equal(await confirm.count(), 0);
  assert.equal((await api("GET", `/proposals/${p.id}`)).status, "approved");
  await page.getByTestId("proposal-promote").click();
  await confirm.getByTestId("confirm-reason").fill("Critical after the incident review");
  await confirm.getByTestId("confirm-ok").click();
  await page.getByTestId("proposal-fate").waitFor();
  const promoted = (await api("GET", `/proposals/${p.id}`)).live_version;
  const audit = (await api("GET", "/audit?limit=20")).entries;
  const promote = audit.find((e) => e.action === "proposal.promote" && e.target === `proposal:${p.id}`);
  assert.equal(promote.details.reason, "Critical after the incident review");

  // Rollback is offered for every version but the current one.
  await page.getByTestId("nav-live").click();
  const current = page.locator(`[data-testid="live-version-row"][data-version="${promoted}"]`);
  await current.waitFor();
  assert.equal(await current.getByTestId("live-rollback").count(), 0);
  const previous = page.locator(`[data-testid="live-version-row"][data-version="${promoted - 1}"]`);
  await previous.getByTestId("live-rollback").click();
  const rollback = page.getByTestId("rollback-confirm");
  await rollback.getByTestId("confirm-reason").fill("Too noisy at night");
  await rollback.getByTestId("confirm-ok").click();
  await page.getByTestId("live-notice").waitFor();
  const live = await api("GET", "/live");
  assert.equal(live.version, promoted + 1);
  const row = page.locator(`[data-testid="live-version-row"][data-version="${live.version}"]`);
  await row.filter({ hasText: "Too noisy at night" }).waitFor();
  const entry = (await api("GET", "/audit?limit=5")).entries.find((e) => e.action === "live.rollback");
  assert.deepEqual(entry.details, { to: promoted - 1, reason: "Too noisy at night" });
  // The current version cannot be rolled back to over REST either.
  await assert.rejects(post("/live/rollback", { version: live.version, reason: "no-op" }), /409/);

  await page.goto(`${BASE}/proposals/${p.id}`);
  const fate = await page.getByTestId("proposal-fate").textContent();
  assert.match(fate, new RegExp(`Promoted as live set version ${promoted}, rolled back by admin at .* \\(Too noisy at night\\)`));
  assert.deepEqual((await api("GET", `/proposals/${p.id}`)).rolled_back.to, promoted - 1);
  await page.context().close();
});

test("line comments attach to the line they were made on, past `++` lines and without a final newline", async () => {
  // In unified diff text the added line "++ plus" reads "+++ plus", like a file header, and the
  // last line is followed by "\\ No newline at end of file": the UI numbers lines from the
  // server's hunks, not from that text.
  const content = "- list: e2e_plus\n  items: [a]\n++ plus line\n- list: e2e_tail\n  items: [b]";
  const p = await post("/proposals", { title: "Diff edge cases", files: [{ name: "e2e_diff_edges.yaml", content }] });
  const page = await signIn(browser, AUTHOR);
  await page.goto(`${BASE}/proposals/${p.id}`);
  const diff = page.locator('[data-testid="proposal-diff"][data-file="e2e_diff_edges.yaml"]');
  // The diff renders after the proposal loads: wait for its last line before reading them all.
  await diff.locator('[data-testid="diff-line"][data-line="5"]').waitFor();
  const numbers = await diff.getByTestId("diff-line").evaluateAll((els) => els.map((e) => Number(e.dataset.line)));
  assert.deepEqual(numbers, [1, 2, 3, 4, 5], "one row per line of the file");
  for (const [line, text] of [[3, "++ plus line"], [4, "- list: e2e_tail"], [5, "items: [b]"]])
    await diff.locator("tr").filter({ has: page.locator(`[data-testid="diff-line"][data-line="${line}"]`) }).filter({ hasText: text }).waitFor();
  await diff.locator('[data-testid="diff-line"][data-line="4"]').click();
  await page.getByTestId("line-comment-body").fill("The tail list.");
  await page.getByTestId("line-comment-submit").click();
  await diff.locator('[data-testid="line-comment"][data-line="4"]').filter({ hasText: "The tail list." }).waitFor();
  const comments = (await api("GET", `/proposals/${p.id}`)).comments;
  assert.deepEqual(comments.map((c) => [c.file, c.line]), [["e2e_diff_edges.yaml", 4]]);
  assert.equal(content.split("\n")[3], "- list: e2e_tail");
  await post(`/proposals/${p.id}/close`, {});
  await page.context().close();
});

test("sign-out clears the page and the drafts; the next user lands on a page they may see", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const login = async (user) => {
    await page.getByTestId("login-username").fill(user.username);
    await page.getByTestId("login-password").fill(user.password);
    await page.getByTestId("login-submit").click();
    await page.getByTestId("current-user").filter({ hasText: user.username }).waitFor();
  };
  // Signing out loads the page afresh at /.
  const signOut = async () => {
    await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Sign out" }).click()]);
    await page.getByTestId("login-username").waitFor();
  };
  await page.goto(`${BASE}/`);
  await login(AUTHOR);
  await page.getByTestId("nav-rules").click();
  await page.getByTestId("rule-new").click();
  await editorValue(page);
  // A remembered preview window, and a draft's tests kept in the browser.
  await page.getByTestId("preview-window").selectOption("ago:24h");
  await page.getByTestId("tab-tests").click();
  await page.getByTestId("rule-tests").fill("- name: edith's draft test\n");
  await signOut();
  const kept = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("rulestudio.tests")));
  assert.deepEqual(kept, [], "no draft left in the browser");

  await login(REVIEWER);
  await page.getByTestId("nav-rules").click();
  await page.getByTestId("rule-new").click();
  await editorValue(page);
  assert.equal(await page.getByTestId("preview-window").inputValue(), "ago:15m", "the default, not edith's choice");
  await page.getByTestId("tab-tests").click();
  assert.equal(await page.getByTestId("rule-tests").inputValue(), "");
  await signOut();
  await login(AUTHOR);
  await page.getByTestId("nav-rules").click();
  await page.getByTestId("rule-new").click();
  await editorValue(page);
  assert.equal(await page.getByTestId("preview-window").inputValue(), "ago:24h", "edith's choice, remembered");
  await signOut();

  // An admin signs out on /admin: the next user starts at a page every role may see.
  await login(ADMIN);
  await page.getByTestId("nav-admin").click();
  await page.waitForURL(`${BASE}/admin`);
  await signOut();
  await login(REVIEWER);
  assert.equal(new URL(page.url()).pathname, "/");
  await page.getByTestId("nav-rules").waitFor();
  assert.equal(await page.locator('[role="alert"]').count(), 0);
  // A session that ends on /admin (it expired): the next non-admin lands on the rules page.
  await signOut();
  await login(ADMIN);
  await page.getByTestId("nav-admin").click();
  await page.waitForURL(`${BASE}/admin`);
  await context.clearCookies();
  await page.reload();
  await page.getByTestId("login-username").waitFor();
  await login(AUTHOR);
  await page.waitForURL(`${BASE}/rules`);
  await page.getByText("Live set version").waitFor();
  assert.equal(await page.locator('[role="alert"]').count(), 0);
  await context.close();
});
