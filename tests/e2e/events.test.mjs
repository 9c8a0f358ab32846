// The Events page: new events appear without reloading (SSE, filtered on the server), labels
// show in the detail drawer, and baselines (known-good periods) are added and deleted.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { api, createUser, ingest, launch, shot, signIn, unlabelledControls } from "./lib.mjs";

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

const rows = (text) => page.locator('[data-testid="event-row"]', { hasText: text });

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

  await page.getByTestId("events-filter").fill('proc.name = "tailkeep"');
  await page.getByTestId("events-filter").press("Enter");
  await page.getByTestId("events-empty").waitFor();
  await page.getByTestId("events-stream-status").filter({ hasText: "Streaming" }).waitFor();
  // Interleaved in one batch: the ones the filter drops come first, so had they been sent they
  // would be on the page before the last kept one.
  const batch = [];
  for (let i = 0; i < 3; i++) batch.push(...events("taildrop", 1), ...events("tailkeep", 1, { "proc.cmdline": `tailkeep ${i}` }));
  await ingest(batch);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="event-row"]').length === 3);
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
  await page.locator(`[data-testid="event-row"][data-event-id="${id}"]`).click();
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
