// The rule editor's bridge between the Leptos app (wasm) and CodeMirror 6. Bundled by esbuild
// into `editor.js`, which defines the global `RulestudioEditor` that
// `frontend/src/editor/bridge.rs` binds to. It only hosts CodeMirror: what to complete, what a
// word means, the diagnostics and the fixes all come from the engine in wasm, through `hooks`.
// Positions crossing this bridge are JavaScript string indices (UTF-16 units); diagnostics
// come as 1-based line and character column, as the engine reports them.

import { StyleModule } from "style-mod";
import { EditorState, Transaction } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  drawSelection, hoverTooltip,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab, isolateHistory } from "@codemirror/commands";
import { search, searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { bracketMatching, syntaxHighlighting, defaultHighlightStyle, indentUnit } from "@codemirror/language";
import { lintGutter, setDiagnostics as cmSetDiagnostics } from "@codemirror/lint";
import { yaml } from "@codemirror/lang-yaml";

// CodeMirror injects its styles with a <style> element, which the studio's
// Content-Security-Policy (`style-src 'self'`) refuses. A constructed stylesheet adopted by the
// document is not an inline style element, so the same rules go there instead, in the order
// CodeMirror mounts them (later modules win, as with its own style element).
const mounted = [];
let sheet = null;
StyleModule.mount = (root, modules) => {
  const doc = root.ownerDocument || root;
  if (!sheet) {
    sheet = new doc.defaultView.CSSStyleSheet();
    doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
  }
  let changed = false;
  let at = 0;
  for (const mod of Array.isArray(modules) ? modules : [modules]) {
    const index = mounted.indexOf(mod);
    if (index === -1) {
      mounted.splice(at, 0, mod);
      changed = true;
      at += 1;
    } else if (index >= at) {
      at = index + 1;
    } else {
      // Mounted earlier than where this call orders it: move it here.
      mounted.splice(index, 1);
      mounted.splice(at - 1, 0, mod);
      changed = true;
    }
  }
  if (changed) sheet.replaceSync(mounted.map((m) => m.getRules()).join("\n"));
};

// The string index of 1-based `line` and character `column` in `doc`, clamped to the text.
function posOf(doc, line, column) {
  if (line < 1) return 0;
  if (line > doc.lines) return doc.length;
  const l = doc.line(line);
  let pos = l.from;
  let chars = 1;
  for (const ch of l.text) {
    if (chars >= column) break;
    pos += ch.length;
    chars += 1;
  }
  return Math.min(pos, l.to);
}

const SEVERITIES = new Set(["error", "warning", "info", "hint"]);

// CodeMirror's lint styles draw the wavy underlines and the gutter markers with `data:` images,
// which the policy (`img-src 'self'`) refuses: the same marks from CSS alone.
const MARK_COLORS = { error: "#d92d20", warning: "#dc6803", info: "#667085", hint: "#6172f3" };
const lintMarks = EditorView.theme(
  Object.fromEntries(
    Object.entries(MARK_COLORS).flatMap(([sev, color]) => [
      [`.cm-lintRange-${sev}`, {
        backgroundImage: "none",
        textDecoration: `underline wavy ${color}`,
        textDecorationSkipInk: "none",
        textUnderlineOffset: "3px",
      }],
      [`.cm-lint-marker-${sev}`, {
        content: "none",
        backgroundColor: color,
        borderRadius: "50%",
        width: ".6em",
        height: ".6em",
        margin: ".3em auto 0",
      }],
    ]),
  ),
);

// Creates the editor in `parent` holding `text`. `hooks`:
// - `changed()`: the document changed (the app reads it with `getValue` when it lints);
// - `complete(doc, pos)`: `{from, options: [{label, type, detail}]}` as JSON, or null;
// - `hover(doc, pos)`: `{from, to, text}` as JSON, or null.
// The element that receives typing carries `data-testid="rule-editor"` and a `value`
// property holding the whole document, as a textarea's does (setting it replaces the text).
export function create(parent, text, hooks) {
  const completionSource = (context) => {
    const json = hooks.complete(context.state.doc.toString(), context.pos);
    if (!json) return null;
    const result = JSON.parse(json);
    // The engine answers for the word's place (what may stand there) with every candidate for
    // its start; typing on within the word narrows them here without asking again, so the
    // list stays put under the user's eyes (and under Enter).
    return { from: result.from, options: result.options, validFor: /^[\w.\-]*$/ };
  };
  const hover = hoverTooltip((view, pos) => {
    const json = hooks.hover(view.state.doc.toString(), pos);
    if (!json) return null;
    const h = JSON.parse(json);
    return {
      pos: h.from,
      end: h.to,
      above: true,
      create() {
        const dom = document.createElement("div");
        dom.className = "cm-hover-doc";
        dom.setAttribute("data-testid", "hover-doc");
        dom.textContent = h.text;
        return { dom };
      },
    };
  });
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: text,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        history(),
        drawSelection(),
        indentUnit.of("  "),
        EditorState.tabSize.of(2),
        bracketMatching(),
        closeBrackets(),
        search({ top: true }),
        highlightSelectionMatches(),
        highlightActiveLine(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        yaml(),
        autocompletion({ override: [completionSource], icons: false }),
        hover,
        lintGutter(),
        lintMarks,
        keymap.of([
          ...closeBracketsKeymap,
          ...completionKeymap,
          ...searchKeymap,
          ...historyKeymap,
          indentWithTab,
          ...defaultKeymap,
        ]),
        EditorView.contentAttributes.of({
          "data-testid": "rule-editor",
          "aria-label": "Rule YAML",
          spellcheck: "false",
          autocapitalize: "off",
          autocorrect: "off",
        }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) hooks.changed();
        }),
      ],
    }),
  });
  Object.defineProperty(view.contentDOM, "value", {
    get: () => view.state.doc.toString(),
    set: (value) => setText(view, String(value), "input.set"),
  });
  return view;
}

export function getValue(view) {
  return view.state.doc.toString();
}

// Replaces the document with `text` as one undoable step of its own, changing only the part
// that differs (so the cursor and the scroll position stay where they were).
export function setText(view, text, userEvent) {
  const old = view.state.doc.toString();
  if (old === text) return;
  let start = 0;
  const max = Math.min(old.length, text.length);
  while (start < max && old.charCodeAt(start) === text.charCodeAt(start)) start += 1;
  let oldEnd = old.length;
  let newEnd = text.length;
  while (oldEnd > start && newEnd > start && old.charCodeAt(oldEnd - 1) === text.charCodeAt(newEnd - 1)) {
    oldEnd -= 1;
    newEnd -= 1;
  }
  view.dispatch({
    changes: { from: start, to: oldEnd, insert: text.slice(start, newEnd) },
    annotations: [isolateHistory.of("full"), Transaction.userEvent.of(userEvent)],
  });
}

// Shows `diagnostics` (JSON: `[{line, column, end_line, end_column, severity, message}]`,
// the engine's positions in the current document) in the gutter and under the text.
export function setDiagnostics(view, json) {
  const doc = view.state.doc;
  const diagnostics = JSON.parse(json).map((d) => {
    const from = posOf(doc, d.line, d.column);
    const to = Math.max(from, posOf(doc, d.end_line, d.end_column));
    return {
      from,
      to,
      severity: SEVERITIES.has(d.severity) ? d.severity : "info",
      message: d.message,
    };
  });
  view.dispatch(cmSetDiagnostics(view.state, diagnostics));
}

// Puts the cursor at 1-based `line` and character `column`, scrolled into view, and focuses.
export function goTo(view, line, column) {
  const pos = posOf(view.state.doc, line, column);
  view.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
  view.focus();
}

export function destroy(view) {
  view.destroy();
}
