// The rule editor (CodeMirror hosted by the wasm app), in Chromium under the studio's real
// Content-Security-Policy: line numbers, Tab, brackets, find and replace; each fix one undo step;
// diagnostics in the gutter, inline and all of them in the problems panel; completion only where
// a name can stand; hover help; "Fix all safe fixes"; the lint off the keystroke path; drafts
// restored after reload and Back, asked about before leaving, and gone at sign-out.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { FALCO_RULES, MAIN, createUser, editorReady, editorValue, fillEditor, launch, leaveEditorBy, signIn } from "./lib.mjs";

const USER = { username: "ellen", password: "ellen-password-1", role: "author" };
const rule = (name, condition) =>
  `- rule: ${name}\n  desc: d\n  condition: ${condition}\n  output: "%proc.name"\n  priority: WARNING\n`;

let browser;
let page;
/// Content-Security-Policy violations the page reported.
const violations = [];

/// The editor's lint passes so far.
const lints = () => page.getByTestId("lint-time").getAttribute("data-lints").then(Number);

/// Waits for a lint pass after the `before`th.
async function linted(before) {
  await page.waitForFunction((b) => Number(document.querySelector('[data-testid="lint-time"]').dataset.lints) > b, before);
}

/// Fills the editor and waits for the lint of that text (a lint of the text before may still
/// have been due).
async function fill(text) {
  const before = await lints();
  await fillEditor(page, text);
  await page.waitForFunction(([b, bytes]) => {
    const el = document.querySelector('[data-testid="lint-time"]');
    return Number(el.dataset.lints) > b && Number(el.dataset.bytes) === bytes;
  }, [before, Buffer.byteLength(text)]);
}

/// A new rule's editor, from any page but the Rules page (answering "Leave" when asked).
async function newRule() {
  await leaveEditorBy(page, "nav-rules");
  await page.getByTestId("rule-new").click();
  await editorReady(page);
}

/// Replaces the current line (its automatic indentation included) with `text`.
async function typeLine(text) {
  await page.keyboard.press("Shift+Home");
  await page.keyboard.type(text);
}

/// Accepts the completion list once it offers `label`. CodeMirror ignores Enter for 75 ms after
/// a list appears (its `interactionDelay`, so that a key meant for the text is not taken by a
/// list that has just popped up); a person's reaction takes longer than that.
async function accept(label) {
  await page.locator(".cm-tooltip-autocomplete").filter({ hasText: label }).waitFor();
  await page.waitForTimeout(100);
  await page.keyboard.press("Enter");
}

/// Puts the cursor at the end of the first line holding `text`.
async function endOfLine(text) {
  await page.getByTestId("rule-editor").focus();
  await page.keyboard.press("Control+Home");
  const lines = (await editorValue(page)).split("\n");
  const n = lines.findIndex((l) => l.includes(text));
  assert.ok(n >= 0, text);
  for (let i = 0; i < n; i++) await page.keyboard.press("ArrowDown");
  await page.keyboard.press("End");
}

/// Clicks into the editor's text (at its end), as a user returns to it from a button.
async function backToEditor() {
  await page.locator(".cm-content .cm-line").last().click();
  await page.waitForFunction(() => document.activeElement?.dataset.testid === "rule-editor");
}

/// Moves the mouse over the first occurrence of `word` in the editor.
async function hoverWord(word) {
  const box = await page.evaluate((w) => {
    const root = document.querySelector('[data-testid="rule-editor"]');
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const i = n.textContent.indexOf(w);
      if (i >= 0) {
        const r = document.createRange();
        r.setStart(n, i);
        r.setEnd(n, i + w.length);
        const b = r.getBoundingClientRect();
        return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
      }
    }
    return null;
  }, word);
  assert.ok(box, `${word} is shown`);
  await page.mouse.move(box.x, box.y);
}

before(async () => {
  browser = await launch();
  await createUser(USER);
  page = await signIn(browser, USER);
  page.on("console", (m) => {
    if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text());
  });
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => console.error(`Content-Security-Policy violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
});

after(async () => {
  await browser?.close();
});

test("under the real CSP: line numbers, Tab indents, bracket matching, find and replace", async () => {
  const resp = await page.goto(`${MAIN.base}/rules/new`);
  const csp = resp.headers()["content-security-policy"];
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval';/);
  assert.match(csp, /style-src 'self';/);
  await editorReady(page);
  // CodeMirror's own styles apply (adopted, not an inline <style> the policy refuses).
  assert.equal(await page.locator(".cm-gutters").evaluate((g) => getComputedStyle(g).display), "flex");
  assert.equal(await page.locator('style:not([nonce])').count(), 0);
  await fill(rule("Brackets", "spawned_process and proc.name in (bash, sh)"));
  assert.equal(await page.locator(".cm-lineNumbers .cm-gutterElement", { hasText: /^5$/ }).count(), 1);

  // Tab indents and keeps the focus in the editor.
  await endOfLine("priority: WARNING");
  await page.keyboard.press("Enter");
  await page.keyboard.press("Home");
  await page.keyboard.press("Tab");
  await page.keyboard.type("x");
  assert.match(await editorValue(page), /priority: WARNING\n\s*  x/);
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), "rule-editor");
  await page.keyboard.press("Backspace");

  // The bracket before the cursor and its partner are marked.
  await endOfLine("condition:");
  assert.equal(await page.locator(".cm-matchingBracket").count(), 2);

  // Find and replace.
  await page.keyboard.press("Control+f");
  await page.locator('.cm-search input[name="search"]').fill("bash");
  await page.locator('.cm-search input[name="replace"]').fill("zsh");
  await page.locator('.cm-search button[name="replaceAll"]').click();
  assert.match(await editorValue(page), /proc\.name in \(zsh, sh\)/);
  await page.keyboard.press("Escape");
  assert.deepEqual(violations, []);
});

test("undo and redo take each fix as one step", async () => {
  const bad = rule("Undo", "spawned_process and proc.nme = bash");
  await fill(bad);
  const diag = page.getByTestId("diagnostic").filter({ hasText: "proc.nme" });
  await diag.getByTestId("diagnostic-fix").click();
  const fixed = bad.replace("proc.nme", "proc.name");
  await page.waitForFunction((t) => document.querySelector('[data-testid="rule-editor"]').value === t, fixed);
  await backToEditor();
  await page.keyboard.press("Control+z");
  assert.equal(await editorValue(page), bad);
  await page.keyboard.press("Control+y");
  assert.equal(await editorValue(page), fixed);
});

test("diagnostics show in the gutter, under the text, and all of them in the problems panel", async () => {
  const text = Array.from({ length: 14 }, (_, i) => rule(`Many ${i}`, `spawned_process and proc.nme = p${i}`)).join("\n");
  await fill(text);
  const problems = page.getByTestId("diagnostic").filter({ hasText: "proc.nme" });
  assert.equal(await problems.count(), 14);
  for (const cls of await problems.evaluateAll((els) => els.map((e) => e.className))) assert.match(cls, /\b(error|warning)\b/);
  assert.ok(await page.locator(".cm-lint-marker-error").count() >= 1, "a gutter marker");
  assert.ok(await page.locator(".cm-lintRange-error").count() >= 1, "an inline mark");
  // The panel lists them all at full height: the last one is reachable on the page.
  await problems.last().scrollIntoViewIfNeeded();
  assert.ok(await problems.last().isVisible());
});

test("completion only where a field, macro, list, operator, priority or key can stand", async () => {
  await fill("");
  await page.getByTestId("rule-editor").focus();
  // A rule's name: Enter is a new line, whatever the name looks like.
  let before = await lints();
  await page.keyboard.type("- rule: spaw");
  await linted(before);
  assert.equal(await page.locator(".cm-tooltip-autocomplete").count(), 0);
  await page.keyboard.press("Enter");
  assert.match(await editorValue(page), /^- rule: spaw\n *$/);
  // A description: nothing either.
  before = await lints();
  await typeLine("  desc: a shell spaw");
  await linted(before);
  assert.equal(await page.locator(".cm-tooltip-autocomplete").count(), 0);
  await page.keyboard.press("Enter");
  assert.match(await editorValue(page), /^  desc: a shell spaw\n *$/m);
  // A condition: macros and fields; Enter accepts.
  await typeLine("  condition: spawned_proc");
  await accept("spawned_process");
  assert.match(await editorValue(page), /condition: spawned_process$/m);
  // A key, then a priority.
  await page.keyboard.press("Enter");
  await typeLine("  prio");
  await accept("priority");
  await page.keyboard.type(": WARN");
  await accept("WARNING");
  assert.match(await editorValue(page), /^  priority: WARNING$/m);
});

test("hover help for fields and macros, with the macro's definition", async () => {
  await fill(rule("Hover", "spawned_process and proc.name = bash"));
  await hoverWord("proc.name");
  await page.getByTestId("hover-doc").filter({ hasText: /^proc\.name \(CHARBUF\)/ }).waitFor();
  await page.mouse.move(0, 0);
  await hoverWord("spawned_process");
  await page.getByTestId("hover-doc").filter({ hasText: /^macro spawned_process: .*evt\.type/ }).waitFor();
  await page.mouse.move(0, 0);
});

test("Fix all applies every safe fix, in one undo step; unsafe fixes are marked and applied one by one", async () => {
  const text = rule("Fix all", 'spawned_process and fd.rport !in (80, 443) and proc.name contains "" and proc.cmdline contains "" and fd.name = /tmp/*');
  await fill(text);
  const fixAll = page.getByTestId("fix-all");
  await fixAll.filter({ hasText: "(3)" }).waitFor();
  const unsafe = page.locator('[data-testid="diagnostic-fix"][data-applicability="unsafe"]');
  assert.equal(await unsafe.count(), 1);
  assert.match(await unsafe.textContent(), /^Fix \(unsafe\): /);
  await fixAll.click();
  await page.getByTestId("fix-all-count").filter({ hasText: "3 fixed" }).waitFor();
  const fixed = await editorValue(page);
  assert.match(fixed, /not fd\.rport in \(80, 443\) and proc\.name exists and proc\.cmdline exists and fd\.name = \/tmp\/\*/);
  assert.equal(await fixAll.isDisabled(), true);
  assert.equal(await page.locator('[data-testid="diagnostic-fix"][data-applicability="safe"]').count(), 0);
  // One step back is the text before "Fix all".
  await backToEditor();
  await page.keyboard.press("Control+z");
  assert.equal(await editorValue(page), text);
  await page.keyboard.press("Control+y");
  assert.equal(await editorValue(page), fixed);
  // The unsafe fix, by itself.
  await unsafe.click();
  await page.waitForFunction(() => document.querySelector('[data-testid="rule-editor"]').value.includes("fd.name glob /tmp/*"));
  await page.locator('[data-testid="diagnostic-fix"][data-applicability="unsafe"]').waitFor({ state: "detached" });
});

test("the lint runs off the keystroke path, also on falco_rules.yaml", async () => {
  await fill(readFileSync(FALCO_RULES, "utf8"));
  await endOfLine("- macro: open_write");
  assert.equal(await page.locator(".cm-lineNumbers .cm-gutterElement", { hasText: /^42$/ }).count(), 1);
  // No lint starts between a keystroke and its text on the screen: the lint waits for a pause
  // (a timer of 30 ms armed by the change; a 0 ms timer queued when the text changes on the
  // screen runs before it). The report of an earlier lint may still arrive meanwhile.
  const seen = page.evaluate(() => new Promise((resolve) => {
    const started = () => Number(document.querySelector('[data-testid="lint-time"]').dataset.started);
    const ed = document.querySelector('[data-testid="rule-editor"]');
    let before = null;
    ed.addEventListener("keydown", () => { before = started(); }, { capture: true, once: true });
    const obs = new MutationObserver(() => setTimeout(() => {
      if (ed.value.includes("- macro: open_writeQ") && ed.textContent.includes("open_writeQ")) {
        obs.disconnect();
        resolve({ before, atKeystroke: started() });
      }
    }, 0));
    obs.observe(ed, { subtree: true, characterData: true, childList: true });
  }));
  const lintsBefore = await lints();
  await page.keyboard.type("Q");
  const { before, atKeystroke } = await seen;
  assert.equal(atKeystroke, before, "no lint started between the keystroke and its text on screen");
  await linted(lintsBefore);
  await page.keyboard.press("Backspace");
});

test("drafts survive reload and Back, leaving asks first, and sign-out clears them", async () => {
  await newRule();
  const draft = rule("Ellen's draft", "spawned_process and proc.name = ellen");
  await fill(draft);
  // A keystroke: the browser asks before unloading only a page the user has used.
  await endOfLine("proc.name = ellen");
  const before = await lints();
  await page.keyboard.type("1");
  await linted(before);
  const typed = draft.replace("= ellen", "= ellen1");

  const asked = new Promise((resolve) => page.once("dialog", async (d) => { resolve(d.type()); await d.accept(); }));
  await Promise.all([page.waitForEvent("load"), page.evaluate(() => setTimeout(() => location.reload(), 0))]);
  assert.equal(await asked, "beforeunload");
  await page.getByTestId("draft-restored").waitFor();
  assert.equal(await editorValue(page), typed);

  // An in-app link asks; Stay keeps everything, Leave goes, and Back finds the draft.
  await page.getByTestId("nav-events").click();
  await page.getByTestId("confirm-leave").waitFor();
  await page.getByTestId("confirm-leave-stay").click();
  assert.equal(new URL(page.url()).pathname, "/rules/new");
  assert.equal(await editorValue(page), typed);
  await page.getByTestId("nav-events").click();
  await page.getByTestId("confirm-leave-go").click();
  await page.waitForURL(`${MAIN.base}/events`);
  await page.goBack();
  await page.getByTestId("draft-restored").waitFor();
  assert.equal(await editorValue(page), typed);

  // Discarding returns to where the draft started; nothing is asked then.
  await page.getByTestId("draft-discard").click();
  assert.match(await editorValue(page), /My new rule/);
  await page.getByTestId("nav-events").click();
  await page.waitForURL(`${MAIN.base}/events`);

  // Sign-out takes the draft away, without asking.
  await newRule();
  await fill(typed);
  const stored = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("rulestudio.draft:")));
  assert.deepEqual(stored, ["rulestudio.draft:ellen:"]);
  await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Sign out" }).click()]);
  await page.getByTestId("login-username").waitFor();
  assert.deepEqual(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("rulestudio.draft"))), []);
  await page.getByTestId("login-username").fill(USER.username);
  await page.getByTestId("login-password").fill(USER.password);
  await page.getByTestId("login-submit").click();
  await page.getByTestId("current-user").waitFor();
  await newRule();
  assert.match(await editorValue(page), /My new rule/);
  assert.equal(await page.getByTestId("draft-restored").count(), 0);
});
