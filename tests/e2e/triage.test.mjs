// Alerts a team can work with and administration (issue #19), in Chromium against a real
// server: the alerts' counts over time with a time axis and counts, grouped by rule, priority,
// node and state; triage buttons that set a state the list shows and filters by, where a false
// positive becomes a label; a "Tune" link to the rule; viewers see states but cannot change
// them; admins change roles, set passwords and delete users, see collectors' losses, and read
// the audit trail with filters, a page at a time.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  DESKTOP, LAPTOP, MAIN, api, createUser, horizontalOverflow, ingest, launch, shot, signIn, unlabelledControls,
} from "./lib.mjs";

const RULE = "Terminal shell in container";
const NODE = "triage-node-1";
const AUTHOR = { username: "tess", password: "tess-password-1", role: "author" };
const VIEWER = { username: "vera", password: "vera-password-1", role: "viewer" };
const ADMIN = { username: "admin", password: MAIN.adminPassword };
const json = { "Content-Type": "application/json" };

let browser;

/// Six interactive shells in a container over the last hour, on NODE: six alerts of RULE.
function shells(now) {
  return Array.from({ length: 6 }, (_, i) => ({
    "evt.time": now - i * 9 * 60e9, "evt.type": "execve", "evt.hostname": NODE, "proc.name": "bash",
    "proc.cmdline": `bash -i triage-${i}`, "proc.pname": "runc", "proc.tty": 34816, "user.name": "root",
    "container.id": "3c4d5e6f7a8b", "container.name": "triage-1",
  }));
}

const select = (page, testid, value) => page.getByTestId(testid).selectOption(value);
const group = (page, key) => page.locator(`[data-testid="alerts-group"][data-key="${key}"]`);

before(async () => {
  browser = await launch();
  for (const u of [AUTHOR, VIEWER]) await createUser(u);
  await ingest(shells(Date.now() * 1e6));
});

after(async () => {
  await browser?.close();
});

test("alerts show counts over time with axes, grouped by rule, priority, node and state", async () => {
  const page = await signIn(browser, AUTHOR);
  await page.getByTestId("nav-alerts").click();
  const summary = await api("GET", "/alerts/summary?since=-24h");
  assert.ok(summary.total >= 6, JSON.stringify(summary));
  // The bars add up to the window's alerts, under a count axis and a time axis.
  await page.getByTestId("alerts-histogram").waitFor();
  await page.locator('[data-testid="alerts-bucket"]').first().waitFor({ state: "attached" }); // empty bars have no height
  const counts = await page.locator('[data-testid="alerts-bucket"]').evaluateAll((bars) => bars.map((b) => Number(b.dataset.count)));
  assert.equal(counts.length, summary.buckets.length);
  assert.equal(counts.reduce((a, b) => a + b, 0), summary.total);
  assert.equal(await page.getByTestId("alerts-axis-max").textContent(), String(Math.max(...counts)));
  assert.equal(await page.getByTestId("alerts-axis-time").count(), 3);
  // A day's window shows dates on its time axis (its ends share their time of day).
  assert.match(await page.getByTestId("alerts-axis-time").first().textContent(), /^\d\d-\d\d \d\d:\d\d$/);

  const byRule = summary.groups.find((g) => g.key === RULE);
  await group(page, RULE).waitFor();
  assert.equal(await group(page, RULE).getAttribute("data-count"), String(byRule.count));

  await select(page, "alerts-group-by", "priority");
  await group(page, "Notice").waitFor();
  const byPriority = await api("GET", "/alerts/summary?since=-24h&group_by=priority");
  assert.equal(await group(page, "Notice").getAttribute("data-count"), String(byPriority.groups.find((g) => g.key === "Notice").count));

  // Every alert of the six shells is on NODE (other rules of the live set may match them too).
  await select(page, "alerts-group-by", "node");
  await group(page, NODE).waitFor();
  const onNode = (await api("GET", "/alerts/summary?since=-24h&group_by=node")).groups.find((g) => g.key === NODE).count;
  assert.ok(onNode >= 6, String(onNode));
  assert.equal(await group(page, NODE).getAttribute("data-count"), String(onNode));

  // The last hour shows times of day only, and holds all of the shells' alerts.
  await select(page, "alerts-window", "-1h");
  await page.getByTestId("alerts-axis-time").first().filter({ hasText: /^\d\d:\d\d$/ }).waitFor();
  await group(page, NODE).waitFor();
  assert.equal(await group(page, NODE).getAttribute("data-count"), String(onNode));
  await page.context().close();
});

test("triage buttons set a state the list shows and filters by; a false positive is a label", async () => {
  const page = await signIn(browser, AUTHOR);
  await page.getByTestId("nav-alerts").click();
  const row = page.locator(`[data-testid="alert"][data-rule="${RULE}"]`).first();
  await row.waitFor();
  const id = await row.getAttribute("data-id");
  const mine = page.locator(`[data-testid="alert"][data-id="${id}"]`);
  assert.equal(await mine.getByTestId("alert-state").textContent(), "New");

  await mine.getByTestId("triage-acknowledged").click();
  await mine.getByTestId("alert-state").filter({ hasText: "Acknowledged" }).waitFor();
  await mine.getByTestId("triage-false_positive").click();
  await mine.getByTestId("alert-state").filter({ hasText: "False positive" }).waitFor();
  const alert = await api("GET", `/alerts/${id}`);
  assert.equal(alert.triage.state, "false_positive");
  assert.equal(alert.triage.by, AUTHOR.username);
  const labels = await api("GET", `/labels?events=${alert.event_id}`);
  assert.deepEqual(labels.labels.filter((l) => l.rule === RULE).map((l) => l.label), ["benign"]);

  // The state filter asks the server for that state only.
  await select(page, "alerts-state-filter", "false_positive");
  await page.locator(`[data-testid="alert"][data-id="${id}"][data-state="false_positive"]`).waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="alert"]')].every((a) => a.dataset.state === "false_positive"));
  const listed = await api("GET", "/alerts?state=false_positive");
  assert.equal(await page.locator('[data-testid="alert"]').count(), listed.total);

  // Counts by state follow the triage.
  await select(page, "alerts-group-by", "state");
  await group(page, "false_positive").waitFor();
  assert.equal(await group(page, "false_positive").getAttribute("data-count"), String(listed.total));
  await shot(page, "12-alerts-triage");

  // Tune opens the rule in the workbench.
  const tune = mine.getByTestId("alert-tune");
  assert.equal(await tune.getAttribute("href"), `/rules/edit?rule=${encodeURIComponent(RULE)}`);
  await tune.click();
  await page.waitForURL((u) => u.pathname === "/rules/edit");
  await page.context().close();
});

test("a viewer sees triage states but no buttons to change them", async () => {
  const page = await signIn(browser, VIEWER);
  await page.getByTestId("nav-alerts").click();
  await page.locator('[data-testid="alert"]').first().waitFor();
  await page.locator('[data-testid="alert-state"]').first().waitFor();
  assert.equal(await page.locator('[data-testid^="triage-"]').count(), 0);
  await page.context().close();
});

test("admins change roles, set passwords and delete users; collectors show their losses", async () => {
  const target = { username: "ulla", password: "ulla-password-1", role: "viewer" };
  await createUser(target);
  await api("POST", "/collectors/heartbeat", JSON.stringify({ node: NODE, captured: 900, filtered: 41, lost_kernel: 7, spooled: 3, sent: 850, dropped: 2, records_truncated: 4, threads_evicted: 6 }), json);
  const page = await signIn(browser, ADMIN);
  page.on("dialog", (d) => d.accept());
  await page.getByTestId("nav-admin").click();
  const row = page.locator(`[data-testid="user-row"][data-user="${target.username}"]`);
  await row.waitFor();

  // One's own role and account are not offered for change.
  const own = page.locator('[data-testid="user-row"][data-user="admin"]');
  assert.equal(await own.getByTestId("user-role").isDisabled(), true);
  assert.equal(await own.getByTestId("user-delete").count(), 0);

  const changed = page.waitForResponse((r) => r.request().method() === "PATCH");
  await row.getByTestId("user-role").selectOption("reviewer");
  assert.equal((await changed).status(), 200);
  assert.equal((await api("GET", "/users")).users.find((u) => u.username === target.username).role, "reviewer");

  await row.getByTestId("user-password").click();
  await page.getByTestId("set-password").fill("ulla-new-password");
  await page.getByTestId("set-password-submit").click();
  await page.getByTestId("set-password-done").waitFor();
  const signedIn = await signIn(browser, { username: target.username, password: "ulla-new-password" });
  assert.match(await signedIn.getByTestId("current-user").textContent(), /reviewer/);
  await signedIn.context().close();

  const collector = page.locator(`[data-testid="collector-row"][data-node="${NODE}"]`);
  await collector.waitFor();
  const cells = await collector.locator("td").allTextContents();
  // Every loss by reason: the kernel's, the spool's, and the others (zero ones left out); then
  // the protocol its heartbeat spoke (none named: version 1, as nodes before the field).
  assert.deepEqual(cells.slice(3), ["41", "7", "3", "2", "truncated 4, threads evicted 6", "1"]);

  await row.getByTestId("user-delete").click();
  await row.waitFor({ state: "detached" });
  assert.equal((await api("GET", "/users")).users.some((u) => u.username === target.username), false);
  await page.context().close();
});

test("the audit page filters by who, what and when and pages back", async () => {
  // Sixty changes by the admin token's user: more than a page.
  for (let i = 0; i < 30; i++) await createUser({ username: `audit-${i}`, role: "viewer" });
  for (let i = 0; i < 30; i++) await api("DELETE", `/users/audit-${i}`);
  const page = await signIn(browser, ADMIN);
  await page.getByTestId("nav-audit").click();
  await page.locator('[data-testid="audit-row"]').first().waitFor();
  assert.equal(await page.locator('[data-testid="audit-row"]').count(), 50);
  await page.getByTestId("audit-more").click();
  await page.locator('[data-testid="audit-row"]').nth(50).waitFor();

  await page.getByTestId("audit-action").fill("alert");
  await page.getByTestId("audit-apply").click();
  await page.locator('[data-testid="audit-row"][data-action="alert.triage"]').first().waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="audit-row"]')].every((r) => r.dataset.action === "alert.triage"));
  const triaged = await api("GET", "/audit?action=alert");
  assert.equal(await page.locator('[data-testid="audit-row"]').count(), triaged.entries.length);

  await page.getByTestId("audit-action").fill("user.role");
  await page.getByTestId("audit-actor").fill("admin");
  await page.getByTestId("audit-since").fill("-1h");
  await page.getByTestId("audit-apply").click();
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('[data-testid="audit-row"]')];
    return rows.length > 0 && rows.every((r) => r.dataset.action === "user.role");
  });
  await shot(page, "19-audit");

  await page.getByTestId("audit-since").fill("yesterday-ish");
  await page.getByTestId("audit-apply").click();
  await page.getByRole("alert").filter({ hasText: "since" }).waitFor();
  await page.context().close();
});

test("the alerts, admin and audit pages have labelled controls and fit the screen", async () => {
  for (const viewport of [DESKTOP, LAPTOP]) {
    const page = await signIn(browser, ADMIN, { viewport });
    for (const path of ["/alerts", "/admin", "/audit"]) {
      await page.goto(MAIN.base + path);
      await page.locator("main h1").first().waitFor();
      await page.waitForLoadState("networkidle").catch(() => {});
      assert.deepEqual(await unlabelledControls(page), [], `${path} at ${viewport.width}x${viewport.height}`);
      assert.ok((await horizontalOverflow(page)) <= 0, `${path} scrolls sideways at ${viewport.width}x${viewport.height}`);
    }
    await page.context().close();
  }
});
