// The Live set page tells an admin which live version each node evaluates (issue #14): a node
// on the current version, one behind, and one that cannot compile the newest, as their
// heartbeats (the documented REST call the collector makes) report them.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { MAIN, api, launch, signIn } from "./lib.mjs";

const ADMIN = { username: "admin", password: MAIN.adminPassword };
let browser;

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

function beat(node, extra) {
  const body = { node, captured: 0, filtered: 0, lost_kernel: 0, spooled: 0, sent: 0, dropped: 0, ...extra };
  return api("POST", "/collectors/heartbeat", JSON.stringify(body), { "Content-Type": "application/json" });
}

test("the live set page shows which version each node runs and why one cannot compile", async () => {
  const live = await api("GET", "/live");
  await beat("node-current", { live_version: live.version, engine_version: "0.63.0" });
  await beat("node-behind", {
    live_version: live.version - 1,
    engine_version: "0.62.0",
    compile_error: `live set version ${live.version} does not compile with engine 0.62.0: rules.yaml: rule 'x': LOAD_ERR_COMPILE_CONDITION unknown field`,
  });
  const page = await signIn(browser, ADMIN);
  await page.goto(MAIN.base + "/live");
  const current = page.locator('[data-testid="live-node-row"][data-node="node-current"]');
  const behind = page.locator('[data-testid="live-node-row"][data-node="node-behind"]');
  await current.waitFor();
  await behind.waitFor();
  assert.match(await current.innerText(), new RegExp(`${live.version} \\(current\\)`));
  const text = await behind.innerText();
  assert.match(text, new RegExp(`${live.version - 1} \\(behind\\)`));
  assert.match(text, /does not compile/);
  await page.context().close();
});
