// The Events page: search by any condition within a time range, paging to the oldest stored
// event, columns kept per user; new events appear without reloading (SSE, filtered on the
// server), labels show in the detail drawer, and baselines (known-good periods) are added and
// deleted; an event's page lists the live rules it matches, and "Tune" on one opens its draft
// with the event labelled a false positive; the search, its range and columns live in the
// address (reload, shared link, Back).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { api, createUser, editorReady, ingest, launch, localInput, runPreview, shot, signIn, unlabelledControls } from "./lib.mjs";

const USER = { username: "erin", password: "erin-password-1", role: "author" };
let browser;
let page;

/// Process events of a made-up tool (`marker`), outside any container, so no shell rule of
/// the other tests counts them.
const events = (marker, n, extra = {}) =>
  Array.from({ length: n }, (_, i) => ({
    "evt.time": Date.now() * 1_000_000 + i,
    "evt.type": "execve",
    "proc.name": marker,
    "proc.cmdline": `${marker} --run ${i}`,
    "user.name": "svc",
    "container.id": "host",
    ...extra,
  }));

const rows = (text) => page.locator('[data-testid="events-row"]', { hasText: text });
const rowCount = () => page.locator('[data-testid="events-row"]').count();

/// Searches for `condition` in the time range `range` (a preset's value).
async function search(condition, range = "all") {
  await page.getByTestId("events-range").selectOption(range);
  await page.getByTestId("events-search").fill(condition);
  await page.getByTestId("events-search").press("Enter");
}

const DAY_NS = 86_400 * 1e9;

before(async () => {
  browser = await launch();
  await createUser(USER);
  page = await signIn(browser, USER);
  await page.getByTestId("nav-events").click();
});

after(async () => {
  await browser?.close();
});

test("new events appear as they are stored, filtered on the server", async () => {
  await page.getByTestId("events-stream-status").filter({ hasText: "Streaming" }).waitFor();
  await ingest(events("tailprobe", 3));
  await rows("tailprobe").nth(2).waitFor();
  assert.equal(await rows("tailprobe").count(), 3);

  await page.getByTestId("events-search").fill('proc.name = "tailkeep"');
  await page.getByTestId("events-search").press("Enter");
  await page.getByTestId("events-empty").waitFor();
  await page.getByTestId("events-stream-status").filter({ hasText: "Streaming" }).waitFor();
  // Interleaved in one batch: the ones the filter drops come first, so had they been sent they
  // would be on the page before the last kept one.
  const batch = [];
  for (let i = 0; i < 3; i++) batch.push(...events("taildrop", 1), ...events("tailkeep", 1, { "proc.cmdline": `tailkeep ${i}` }));
  await ingest(batch);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="events-row"]').length === 3);
  assert.equal(await rows("tailkeep").count(), 3);
  assert.equal(await rows("taildrop").count(), 0);
  await shot(page, "13-events-live");
});

test("the detail drawer shows the event's stored label", async () => {
  const row = rows("tailkeep").first();
  const id = await row.getAttribute("data-event-id");
  await row.click();
  const drawer = page.getByTestId("event-detail");
  await drawer.getByTestId("label-malicious").click();
  await drawer.locator('[data-testid="label-malicious"][aria-pressed="true"]').waitFor();
  await drawer.getByRole("button", { name: "Close detail" }).click();
  // Reopened (a fresh look-up), the button says what is stored.
  await page.locator(`[data-testid="events-row"][data-event-id="${id}"]`).click();
  await page.getByTestId("event-detail").locator('[data-testid="label-malicious"][aria-pressed="true"]').waitFor();
  const labels = await api("GET", `/labels?events=${id}`);
  assert.deepEqual(labels.labels.map((l) => [l.label, l.rule]), [["malicious", null]]);
  assert.deepEqual(await unlabelledControls(page), []);
});

test("baselines: add a known-good period, then delete it", async () => {
  const section = page.getByTestId("baselines");
  await section.getByTestId("baseline-note").fill("e2e maintenance window");
  await section.getByTestId("baseline-add").click();
  const row = section.getByTestId("baseline-row").filter({ hasText: "e2e maintenance window" });
  await row.waitFor();
  const stored = (await api("GET", "/baselines")).baselines.find((b) => b.note === "e2e maintenance window");
  assert.ok(stored, "the server has the baseline");
  // The form's default period is the last hour, to the second.
  const hours = (stored.until - stored.since) / 3.6e12;
  assert.ok(hours > 0.99 && hours < 1.01, `period of ${hours} h`);
  await row.scrollIntoViewIfNeeded();
  await shot(page, "14-baselines");
  await row.getByTestId("baseline-delete").click();
  await row.waitFor({ state: "detached" });
  assert.equal((await api("GET", "/baselines")).baselines.some((b) => b.id === stored.id), false);
});

test("a condition that does not compile is answered with the problem and its place", async () => {
  await search("proc.name = bash and proc.nme = x");
  const alert = page.getByRole("alert").filter({ hasText: "proc.nme" });
  await alert.waitFor();
  // Line 1, column 22: where `proc.nme` starts in the search text.
  assert.match(await alert.textContent(), /1:22: .*proc\.nme/);
  assert.equal(await rowCount(), 0);
});

test("search pages older results down to the oldest stored event", async () => {
  const n = 450;
  await ingest(events("pager", n));
  await search("proc.name = pager");
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="events-row"]').length === 200);
  // Newest first.
  assert.match(await rows("pager").first().textContent(), /pager --run 449/);
  while (await page.getByTestId("events-older").count()) {
    const before = await rowCount();
    await page.getByTestId("events-older").click();
    await page.waitForFunction((b) => document.querySelectorAll('[data-testid="events-row"]').length > b
      || !document.querySelector('[data-testid="events-older"]'), before);
  }
  assert.equal(await rowCount(), n);
  assert.match(await rows("pager").last().textContent(), /pager --run 0\b/);
});

test("the time range bounds the search: presets and from/to", async () => {
  const now = Date.now() * 1e6;
  const old = now - 3 * DAY_NS;
  await ingest([
    ...events("ranged", 2, { "proc.cmdline": "ranged recent" }),
    ...events("ranged", 3, { "evt.time": old, "proc.cmdline": "ranged old" }).map((e, i) => ({ ...e, "evt.time": old + i })),
  ]);
  await search("proc.name = ranged", "-24h");
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="events-row"]').length === 2);
  assert.equal(await rows("ranged old").count(), 0);
  await search("proc.name = ranged", "all");
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="events-row"]').length === 5);
  // From/to around the old events only.
  await page.getByTestId("events-range").selectOption("range");
  await page.getByTestId("events-since").fill(localInput(old - DAY_NS));
  await page.getByTestId("events-until").fill(localInput(old + DAY_NS));
  await page.getByTestId("events-search").press("Enter");
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="events-row"]').length === 3);
  assert.equal(await rows("ranged recent").count(), 0);
  // A range that ended has nothing to tail.
  await page.getByTestId("events-stream-status").filter({ hasText: "Paused" }).waitFor();
  await shot(page, "21-events-search");
  await page.getByTestId("events-range").selectOption("all");
});

test("the live tail at 10,000 events a second: sampled on the server, bounded, with pause", async () => {
  await search('proc.name = "flood"');
  await page.getByTestId("events-stream-status").filter({ hasText: "Streaming" }).waitFor();
  // Batches of 1,000 every 100 ms (or as fast as the server takes them) for 3 s.
  const flood = (from, n) =>
    events("flood", n).map((e, i) => ({ ...e, "proc.cmdline": `flood ${from + i}` }));
  const started = Date.now();
  let posted = 0;
  while (Date.now() - started < 3000) {
    const tick = Date.now();
    await ingest(flood(posted, 1000));
    posted += 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - tick))));
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(`posted ${posted} events in ${seconds.toFixed(1)} s (${Math.round(posted / seconds)}/s)`);
  // The page says it shows a sample, and how many events each shown one stands for.
  const sampled = page.getByTestId("events-sampled");
  await sampled.waitFor();
  assert.match(await sampled.textContent(), /^sampled 1 in \d+$/);
  assert.ok(Number(await sampled.getAttribute("data-n")) > 1);
  // Far fewer rows than events: the burst, then at most 25 a second.
  const shown = await rowCount();
  assert.ok(shown < posted / 10, `${shown} rows for ${posted} events`);
  await shot(page, "22-events-sampled");

  // Paused: nothing more arrives.
  await page.getByTestId("events-live").uncheck();
  await page.getByTestId("events-stream-status").filter({ hasText: "Paused" }).waitFor();
  await page.locator('[data-testid="events-row"]').first().waitFor();
  const paused = await page.locator('[data-testid="events-row"]').first().getAttribute("data-event-id");
  await ingest(flood(posted, 5));
  await page.waitForTimeout(500);
  assert.equal(await page.locator('[data-testid="events-row"]').first().getAttribute("data-event-id"), paused);
  // Resumed: the newest stored events are listed, and new ones tailed again.
  await page.getByTestId("events-live").check();
  await page.getByTestId("events-stream-status").filter({ hasText: "Streaming" }).waitFor();
  await rows(`flood ${posted + 4}`).waitFor();
  await ingest(flood(posted + 5, 1));
  await rows(`flood ${posted + 5}`).waitFor();
});

test("an event's page: its fields as searches, its process tree and its process's events nearby", async () => {
  const t = Date.now() * 1e6;
  const proc = {
    "proc.name": "leafproc", "proc.pid": 4242, "proc.cmdline": "leafproc --go",
    "proc.aname[1]": "bash", "proc.apid[1]": 4000,
    "proc.aname[2]": "sshd", "proc.apid[2]": 100,
    "proc.aname[3]": "systemd", "proc.apid[3]": 1,
    "evt.hostname": "host-e2e", "container.id": "host",
  };
  await ingest([
    { ...proc, "evt.time": t, "evt.type": "openat", "fd.name": "/etc/leaf conf" },
    { ...proc, "evt.time": t + 1, "evt.type": "execve" },
    { ...proc, "evt.time": t + 2, "evt.type": "openat", "fd.name": "/tmp/leaf" },
    // Another process of the same name, and the same pid on another host: not nearby.
    { ...proc, "proc.pid": 4243, "evt.time": t + 3, "evt.type": "openat", "fd.name": "/tmp/other" },
    { ...proc, "evt.hostname": "elsewhere", "evt.time": t + 4, "evt.type": "openat", "fd.name": "/tmp/other" },
  ]);
  const listed = await api("GET", `/events?filter=${encodeURIComponent('proc.name = leafproc and evt.type = execve')}`);
  const id = listed.events[0].id;
  // From the drawer's link.
  await search("proc.name = leafproc and evt.type = execve");
  await page.locator(`[data-testid="events-row"][data-event-id="${id}"]`).click();
  await page.getByTestId("event-detail").getByTestId("event-open").click();
  await page.getByTestId("event-page").waitFor();
  assert.equal(new URL(page.url()).pathname, `/events/${encodeURIComponent(id)}`);

  const tree = page.getByTestId("event-tree-node");
  await tree.first().waitFor();
  assert.deepEqual(
    (await tree.allTextContents()).map((s) => s.trim()),
    ["systemd (1)", "sshd (100)", "bash (4000)", "leafproc (4242) ← this event"],
  );
  const nearby = page.getByTestId("event-nearby-row");
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="event-nearby-row"]').length === 3);
  assert.equal(await page.locator('[data-testid="event-nearby-row"].selected').getAttribute("data-event-id"), id);
  assert.equal(await nearby.filter({ hasText: "/tmp/other" }).count(), 0);
  await shot(page, "23-event-page");

  // A field's value opens the search for it, quoted as a Falco string.
  await page.locator('[data-testid="event-fields"] [data-field="proc.cmdline"]').click();
  await page.getByTestId("events-search").waitFor();
  assert.equal(await page.getByTestId("events-search").inputValue(), 'proc.cmdline = "leafproc --go"');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="events-row"]').length === 5);

  // An ancestor opens the search for its pid.
  await page.goto(`${new URL(page.url()).origin}/events/${encodeURIComponent(id)}`);
  await page.getByTestId("event-tree-node").filter({ hasText: "bash" }).getByRole("link").click();
  assert.equal(await page.getByTestId("events-search").inputValue(), "proc.pid = 4000");
});

test("an event's page lists the live rules it matches; Tune labels it a false positive and opens the rule's draft", async () => {
  const RULE = "Terminal shell in container";
  const t = Date.now() * 1e6;
  // An interactive shell in a container: the official rule matches it; a read on the host does not.
  await ingest([
    { "evt.time": t, "evt.type": "execve", "proc.name": "zsh", "proc.cmdline": "zsh -i tune-probe", "proc.pname": "runc",
      "proc.tty": 34816, "user.name": "root", "container.id": "7a8b9c0d1e2f", "container.name": "tune-1" },
    { "evt.time": t + 1, "evt.type": "openat", "proc.name": "tuneread", "fd.name": "/tmp/tune-probe", "container.id": "host" },
  ]);
  const idOf = async (cond) => (await api("GET", `/events?filter=${encodeURIComponent(cond)}`)).events[0].id;
  const shell = await idOf('proc.cmdline = "zsh -i tune-probe"');
  const quiet = await idOf("proc.name = tuneread");
  const own = await signIn(browser, USER);
  own.on("dialog", (d) => d.accept());
  const base = new URL(own.url()).origin;

  // The rules listed are those the live set matches, as its alerts say.
  await own.goto(`${base}/events/${encodeURIComponent(shell)}`);
  const listed = own.getByTestId("event-rule");
  await listed.first().waitFor();
  const judged = await api("GET", `/events/${encodeURIComponent(shell)}/matches`);
  assert.deepEqual(await listed.evaluateAll((rs) => rs.map((r) => r.dataset.rule)), judged.matches.map((m) => m.rule));
  const alerts = (await api("GET", "/alerts?limit=1000")).alerts.filter((a) => a.event_id === shell);
  assert.deepEqual(judged.matches.map((m) => m.rule).sort(), alerts.map((a) => a.rule).sort());
  const row = own.locator(`[data-testid="event-rule"][data-rule="${RULE}"]`);
  assert.equal(await row.getByRole("link", { name: RULE }).getAttribute("href"), `/rules/edit?rule=${encodeURIComponent(RULE)}`);
  assert.match(await row.textContent(), /Notice/);
  assert.deepEqual(await unlabelledControls(own), []);
  await row.scrollIntoViewIfNeeded();
  await shot(own, "25-event-rules");

  // Tune: the event becomes a false positive of the rule, and the rule's draft opens, where
  // the preview shows it labelled benign.
  await row.getByTestId("event-rule-tune").click();
  await own.waitForURL((u) => u.pathname === "/rules/edit" && u.searchParams.get("rule") === RULE);
  const labels = await api("GET", `/labels?events=${encodeURIComponent(shell)}`);
  assert.deepEqual(labels.labels.map((l) => [l.label, l.rule]), [["benign", RULE]]);
  await editorReady(own);
  await runPreview(own);
  await own.locator(`[data-testid="preview-sample"][data-event-id="${shell}"][data-label="benign"]`).waitFor();

  // An event no live rule matches says so.
  await own.goto(`${base}/events/${encodeURIComponent(quiet)}`);
  await own.getByTestId("event-rules-none").waitFor();
  await own.context().close();
});

test("the columns the user chooses are kept in this browser under their name", async () => {
  // The Events page itself, not the search a link opened.
  await page.getByTestId("nav-events").click();
  await page.waitForURL((u) => u.pathname === "/events" && u.search === "");
  await search("proc.name = ranged");
  const columns = page.getByTestId("events-columns");
  await columns.fill("evt.type, user.name, proc.cmdline");
  await columns.press("Tab");
  const headers = () => page.locator('[data-testid="events-table"] th').allTextContents();
  assert.deepEqual(await headers(), ["evt.type", "user.name", "proc.cmdline"]);
  assert.match(await rows("ranged").first().textContent(), /execvesvcranged/);
  await page.reload();
  await page.locator('[data-testid="events-row"]').first().waitFor();
  assert.deepEqual(await headers(), ["evt.type", "user.name", "proc.cmdline"]);
  assert.equal(await columns.inputValue(), "evt.type, user.name, proc.cmdline");
});

test("the search, its time range and its columns live in the address: reload, a shared link and Back open them", async () => {
  const now = Date.now() * 1e6;
  const old = now - 3 * DAY_NS;
  await ingest([
    ...events("addressed", 2, { "proc.cmdline": "addressed recent" }),
    ...events("addressed", 3, { "proc.cmdline": "addressed old" }).map((e, i) => ({ ...e, "evt.time": old + i })),
  ]);
  const count = (n) => page.waitForFunction((n) => document.querySelectorAll('[data-testid="events-row"]').length === n, n);
  const param = (name) => new URL(page.url()).searchParams.get(name);
  await page.getByTestId("nav-events").click();
  // A `%` in the search survives the address as typed.
  const condition = 'proc.name = addressed and proc.cmdline != "100%41"';
  await search(condition, "-24h");
  await page.waitForURL((u) => u.searchParams.get("q") === condition);
  assert.equal(param("from"), "-24h");
  assert.equal(param("to"), null);
  await count(2);

  // A reload opens the same search.
  await page.reload();
  await count(2);
  assert.equal(await page.getByTestId("events-search").inputValue(), condition);
  assert.equal(await page.getByTestId("events-range").inputValue(), "-24h");

  // A from/to range, then Back to the previous search.
  await page.getByTestId("events-range").selectOption("range");
  await page.getByTestId("events-since").fill(localInput(old - DAY_NS));
  await page.getByTestId("events-until").fill(localInput(old + DAY_NS));
  await page.getByTestId("events-search").press("Enter");
  await page.waitForURL((u) => u.searchParams.get("to") !== null);
  await count(3);
  const shared = page.url();
  await page.goBack();
  await page.waitForURL((u) => u.searchParams.get("from") === "-24h");
  await count(2);
  assert.equal(await page.getByTestId("events-range").inputValue(), "-24h");

  // Columns chosen go into the address too; the link opens the same search, range and columns
  // for another user in another browser.
  const columns = page.getByTestId("events-columns");
  await columns.fill("proc.cmdline, evt.type");
  await columns.press("Tab");
  await page.waitForURL((u) => u.searchParams.get("cols") === "proc.cmdline, evt.type");
  await page.goForward();
  await page.waitForURL((u) => u.searchParams.get("to") !== null);
  const viewer = { username: "ezra", password: "ezra-password-1", role: "viewer" };
  await createUser(viewer);
  const other = await signIn(browser, viewer);
  await other.goto(shared.replace(/&cols=[^&]*/, "") + "&cols=" + encodeURIComponent("proc.cmdline, evt.type"));
  await other.waitForFunction(() => document.querySelectorAll('[data-testid="events-row"]').length === 3);
  assert.equal(await other.getByTestId("events-range").inputValue(), "range");
  assert.equal(await other.getByTestId("events-since").inputValue(), localInput(old - DAY_NS));
  assert.deepEqual(await other.locator('[data-testid="events-table"] th').allTextContents(), ["proc.cmdline", "evt.type"]);
  assert.match(await other.locator('[data-testid="events-row"]').first().textContent(), /^addressed old/);
  await other.context().close();
});
