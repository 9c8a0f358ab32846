// Issue #7's demo, seen in the UI: a second server in all-in-one mode (`serve --collector`:
// real eBPF, needs root), `rulestudio demo` performs the article's seven behaviours, and the
// editor's preview of the fixed article rules shows each of the seven rules matching.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, RULESTUDIO_BIN, WORK, api, fillEditor, launch, leaveEditorBy, runPreview, shot, signIn } from "./lib.mjs";

const RULES = readFileSync(join(ROOT, "tests/fixtures/article-rules.fixed.yaml"), "utf8");
const RULE_NAMES = [...RULES.matchAll(/^- rule: (.+)$/gm)].map((m) => m[1].trim());
const ADMIN = { username: "admin", password: "demo-admin-password" };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let server;
let demo;
let browser;

/// Polls `check` until it returns a value other than undefined, or fails after `seconds`.
async function until(seconds, what, check) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what} within ${seconds} s`);
    await sleep(500);
  }
}

before(async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  demo = { base: `http://127.0.0.1:${port}`, token: `demo-e2e-token-${port}` };
  const log = openSync(join(WORK, "demo-server.log"), "w");
  server = spawn(
    RULESTUDIO_BIN,
    ["serve", "--collector", "--db", join(WORK, "demo.db"), "--listen", `127.0.0.1:${port}`, "--static-dir", join(ROOT, "frontend/dist")],
    { env: { ...process.env, RULESTUDIO_ADMIN_TOKEN: demo.token, RULESTUDIO_ADMIN_PASSWORD: ADMIN.password }, stdio: ["ignore", log, log] },
  );
  // The collector heartbeats once its eBPF program is loaded.
  await until(60, "a collector reporting (serve --collector needs root for eBPF)", async () => {
    const c = await api("GET", "/collectors", undefined, {}, demo);
    return c.collectors.length > 0 ? true : undefined;
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    server.kill("SIGINT");
    await new Promise((r) => server.once("exit", r));
  }
});

test("after `rulestudio demo`, previewing the fixed article rules shows all seven matching", async () => {
  assert.equal(RULE_NAMES.length, 7);
  const run = spawnSync(RULESTUDIO_BIN, ["demo"], { encoding: "utf8" });
  assert.equal(run.status, 0, `rulestudio demo failed:\n${run.stdout}\n${run.stderr}`);

  const page = await signIn(browser, ADMIN, { server: demo });
  await page.getByTestId("nav-rules").click();
  await page.getByTestId("rule-new").click();
  await fillEditor(page, RULES);
  await page.locator('[data-testid="diagnostic"].error').first().waitFor({ state: "detached", timeout: 2000 }).catch(() => {});
  assert.equal(await page.locator('[data-testid="diagnostic"].error').count(), 0, "the fixed rules load without errors");
  await page.getByTestId("preview-window").selectOption("ago:15m");

  // The collector delivers in batches: preview again until the demo's events are all in.
  const matched = await until(90, "every article rule matching in the preview", async () => {
    await runPreview(page);
    const counts = {};
    for (const name of RULE_NAMES) {
      const cell = page.locator(`[data-testid="preview-rule"][data-rule="${name}"] [data-testid="preview-matched"]`);
      counts[name] = Number(await cell.textContent({ timeout: 1000 }));
    }
    return Object.values(counts).every((n) => n > 0) ? counts : undefined;
  });
  console.log(`demo preview in the UI: ${JSON.stringify(matched)}`);
  await shot(page, "20-demo-preview");

  // The collector, as the admin sees it.
  await leaveEditorBy(page, "nav-admin");
  await page.getByTestId("collector-row").first().waitFor();
  await shot(page, "18-admin-collector");

  // The same through the REST API.
  const resp = await api("POST", "/preview", JSON.stringify({ rules: RULES, window: { since: "-15m" }, samples: 1 }), { "Content-Type": "application/json" }, demo);
  for (const name of RULE_NAMES) {
    const r = resp.rules.find((x) => x.name === name);
    assert.ok(r && r.matched > 0, `${name} through POST /api/v1/preview: ${JSON.stringify(r)}`);
  }
});
