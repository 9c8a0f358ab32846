// What the end-to-end test files share: the server under test (started by ./run), the REST
// calls they make as the admin, signing in through the UI, screenshots and page checks.

import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

/// The server ./run started: its URL and the admin's API token and password.
export const MAIN = {
  base: process.env.E2E_BASE_URL,
  token: process.env.E2E_ADMIN_TOKEN,
  adminPassword: process.env.E2E_ADMIN_PASSWORD,
};
export const WORK = process.env.E2E_WORK;
export const RULESTUDIO_BIN = process.env.RULESTUDIO_BIN;
export const FALCO_RULES = process.env.E2E_FALCO_RULES;
export const ROOT = new URL("../../", import.meta.url).pathname;
const ARTIFACTS = new URL("./artifacts/", import.meta.url).pathname;
/// Where the guide's screenshots go when set (docs/img).
const SCREENSHOTS = process.env.E2E_SCREENSHOTS_DIR;
export const DESKTOP = { width: 1280, height: 800 };
export const LAPTOP = { width: 1366, height: 768 };

export async function api(method, path, body, headers = {}, server = MAIN) {
  const resp = await fetch(`${server.base}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${server.token}`, ...headers },
    body,
  });
  const text = await resp.text();
  if (!resp.ok) throw new Error(`${method} ${path}: ${resp.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

export async function ingest(list, server = MAIN) {
  const body = list.map((e) => JSON.stringify(e)).join("\n") + "\n";
  return api("POST", "/events", body, { "Content-Type": "application/x-ndjson" }, server);
}

export async function createUser(user, server = MAIN) {
  return api("POST", "/users", JSON.stringify(user), { "Content-Type": "application/json" }, server);
}

export async function launch() {
  mkdirSync(ARTIFACTS, { recursive: true });
  if (SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  });
}

/// A new browser context signed in as `user` through the login page.
export async function signIn(browser, user, { server = MAIN, viewport = DESKTOP } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error(`[page error] ${e.message}`));
  await page.goto(server.base + "/");
  await page.getByTestId("login-username").fill(user.username);
  await page.getByTestId("login-password").fill(user.password);
  await page.getByTestId("login-submit").click();
  await page.getByTestId("current-user").waitFor();
  return page;
}

/// Saves a screenshot as a test artifact; returns its path.
export async function artifact(page, name) {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}

/// A screenshot for the guide too, when E2E_SCREENSHOTS_DIR is set.
export async function shot(page, name) {
  const path = await artifact(page, name);
  if (SCREENSHOTS) copyFileSync(path, join(SCREENSHOTS, `${name}.png`));
}

/// Like `shot`, of one element only (smaller images of what a guide section is about).
export async function shotOf(locator, name) {
  const path = join(ARTIFACTS, `${name}.png`);
  await locator.screenshot({ path });
  if (SCREENSHOTS) copyFileSync(path, join(SCREENSHOTS, `${name}.png`));
}

/// Form controls without an accessible name (a <label for>, a wrapping <label>, aria-label,
/// aria-labelledby, or, for buttons and links, their text), described for the failure message.
export async function unlabelledControls(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("input, select, textarea, button, a[href]")]
      .filter((el) => el.offsetParent !== null && el.type !== "hidden")
      .filter((el) => {
        if (el.getAttribute("aria-label")?.trim() || el.getAttribute("aria-labelledby")) return false;
        if (el.labels && el.labels.length > 0) return false;
        if ((el.tagName === "BUTTON" || el.tagName === "A") && el.textContent.trim()) return false;
        if (el.tagName === "A" && el.querySelector("img[alt]:not([alt=''])")) return false;
        return true;
      })
      .map((el) => el.outerHTML.slice(0, 120)),
  );
}

/// How far the page is wider than the window (0: no horizontal scrolling).
export async function horizontalOverflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/// A datetime-local value (local time) for nanoseconds since the epoch, rounded down to the
/// second: `YYYY-MM-DDTHH:MM:SS`, or without `:SS` on a whole minute, as Chromium writes it.
export function localInput(ns) {
  const d = new Date(Math.floor(ns / 1e9) * 1000);
  const p = (n) => String(n).padStart(2, "0");
  const seconds = d.getSeconds() ? `:${p(d.getSeconds())}` : "";
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}${seconds}`;
}

/// Waits until the rule editor holds its rule (the live set has loaded into it).
export async function editorReady(page) {
  await page.locator('.code[data-ready="true"] [data-testid="rule-editor"]').waitFor();
}

/// The rule editor's whole text: its `value`, as a textarea's.
export async function editorValue(page) {
  await editorReady(page);
  return page.getByTestId("rule-editor").evaluate((el) => el.value);
}

/// Replaces the rule editor's text (through its `value`, as a paste would) once it is ready.
export async function fillEditor(page, text) {
  await editorReady(page);
  await page.getByTestId("rule-editor").evaluate((el, t) => { el.value = t; }, text);
}

/// Follows the in-app link `testid` away from the editor; when the editor holds changes not
/// proposed, answers its question with "Leave".
export async function leaveEditorBy(page, testid) {
  const from = page.url();
  await page.getByTestId(testid).click();
  await page.waitForFunction((f) => location.href !== f || document.querySelector('[data-testid="confirm-leave"]'), from);
  if (await page.getByTestId("confirm-leave").count()) await page.getByTestId("confirm-leave-go").click();
  await page.waitForFunction((f) => location.href !== f, from);
}

/// Runs the editor's preview and waits for its answer (the panel counts completed runs).
export async function runPreview(page) {
  const panel = page.getByTestId("preview-panel");
  const before = Number(await panel.getAttribute("data-runs"));
  await page.getByTestId("preview-run").click();
  await page.locator(`[data-testid="preview-panel"][data-runs="${before + 1}"]`).waitFor();
}
