// Issue #11's browser-session findings, in a real browser: a page served from another port of
// the same host (the same *site*, so SameSite=Strict still sends the cookie) tries a change
// with the signed-in user's cookie and to frame the Admin page; both fail. The studio's own
// page works under its Content-Security-Policy.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { MAIN, api, createUser, launch, signIn } from "./lib.mjs";

const USER = { username: "sally", password: "sally-password-1", role: "admin" };
let browser;
let page;
let evil;
let evilBase;
const cspErrors = [];

/// The other origin's pages: one posts to the studio with the visitor's cookie, one frames it.
const PAGES = {
  "/post": () => `<!doctype html><html><body><script>
      fetch(${JSON.stringify(`${MAIN.base}/api/v1/users/${USER.username}/tokens`)}, {
        method: "POST", mode: "no-cors", credentials: "include",
        headers: { "Content-Type": "text/plain" },
        body: JSON.stringify({ name: "planted-by-fetch" }),
      }).finally(() => { document.title = "sent"; });
    </script>
    <form id="f" method="POST" enctype="text/plain" target="sink"
          action=${JSON.stringify(`${MAIN.base}/api/v1/users/${USER.username}/tokens`)}>
      <input name='{"name":"planted-by-form","x":"' value='"}'>
    </form>
    <iframe name="sink"></iframe>
    <script>document.getElementById("f").submit();</script></body></html>`,
  "/frame": () =>
    `<!doctype html><html><body><iframe id="victim" src="${MAIN.base}/admin" width="800" height="600"></iframe></body></html>`,
};

before(async () => {
  evil = http.createServer((req, res) => {
    const page = PAGES[req.url];
    res.writeHead(page ? 200 : 404, { "Content-Type": "text/html" });
    res.end(page ? page() : "");
  });
  await new Promise((resolve) => evil.listen(0, "127.0.0.1", resolve));
  evilBase = `http://127.0.0.1:${evil.address().port}`;
  browser = await launch();
  await createUser(USER);
  page = await signIn(browser, USER);
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
  });
});

after(async () => {
  await browser?.close();
  evil?.close();
});

const tokenNames = async () =>
  (await api("GET", `/users/${USER.username}/tokens`)).tokens.map((t) => t.name);

test("the studio's own page works under its CSP and may change things with the cookie", async () => {
  await page.getByTestId("nav-admin").click();
  await page.getByRole("heading", { name: "Users" }).first().waitFor();
  const status = await page.evaluate(async (name) => {
    const r = await fetch(`/api/v1/users/${name}/tokens`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: "made-by-own-page" }),
    });
    return r.status;
  }, USER.username);
  assert.equal(status, 201);
  assert.ok((await tokenNames()).includes("made-by-own-page"));
  assert.deepEqual(cspErrors, [], "the studio's page broke its own CSP");
});

test("a page on another port cannot make a change with the cookie", async () => {
  const other = await page.context().newPage();
  const refused = other.waitForResponse((r) => r.url().includes("/tokens") && r.request().method() === "POST");
  await other.goto(`${evilBase}/post`);
  const answer = await refused;
  assert.equal(answer.status(), 403);
  await other.waitForFunction(() => document.title === "sent");
  // Give the second (form) request its answer too before looking.
  await other.waitForLoadState("networkidle");
  const names = await tokenNames();
  assert.ok(!names.some((n) => n.startsWith("planted")), `planted tokens: ${names}`);
  await other.close();
});

test("a page on another port cannot frame the Admin page", async () => {
  const other = await page.context().newPage();
  const messages = [];
  other.on("console", (m) => messages.push(m.text()));
  await other.goto(`${evilBase}/frame`);
  await other.waitForLoadState("networkidle");
  const frame = other.frames().find((f) => f !== other.mainFrame());
  assert.ok(frame, "no child frame");
  // Blocked, the frame shows Chromium's error page, never the studio.
  assert.equal(await frame.locator('[data-testid="current-user"]').count(), 0);
  assert.ok(!frame.url().startsWith(MAIN.base) || (await frame.content()).indexOf("rulestudio.js") < 0,
    `the Admin page loaded in a frame: ${frame.url()}`);
  assert.ok(messages.some((m) => m.includes("frame-ancestors")), messages.join("\n"));
  await other.close();
});
