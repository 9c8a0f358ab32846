//! The thin bridge to CodeMirror 6, which `editor.js` (bundled from `frontend/editor-js/`)
//! defines as the global `RulestudioEditor`: the view is created with hooks into the engine
//! (completion and hover help come from here), and driven through a few calls. Positions
//! crossing the bridge are JavaScript string indices (UTF-16 units), converted here.

use super::complete::{self, Vocabulary};
use rulestudio_api::diagnostic::DiagnosticJson;
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = RulestudioEditor, js_name = create, catch)]
    fn cm_create(
        parent: &web_sys::HtmlElement,
        text: &str,
        hooks: &js_sys::Object,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = RulestudioEditor, js_name = getValue)]
    fn cm_get_value(view: &JsValue) -> String;
    #[wasm_bindgen(js_namespace = RulestudioEditor, js_name = setText)]
    fn cm_set_text(view: &JsValue, text: &str, user_event: &str);
    #[wasm_bindgen(js_namespace = RulestudioEditor, js_name = setDiagnostics)]
    fn cm_set_diagnostics(view: &JsValue, json: &str);
    #[wasm_bindgen(js_namespace = RulestudioEditor, js_name = goTo)]
    fn cm_go_to(view: &JsValue, line: u32, column: u32);
    #[wasm_bindgen(js_namespace = RulestudioEditor, js_name = destroy)]
    fn cm_destroy(view: &JsValue);
}

/// UTF-16 index (what JavaScript counts) → byte offset in `text`.
pub fn byte_offset(text: &str, utf16: usize) -> usize {
    let mut units = 0;
    for (i, c) in text.char_indices() {
        if units >= utf16 {
            return i;
        }
        units += c.len_utf16();
    }
    text.len()
}

/// Byte offset in `text` → UTF-16 index.
pub fn utf16_index(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].encode_utf16().count()
}

#[derive(Serialize)]
struct Option_ {
    label: String,
    #[serde(rename = "type")]
    kind: &'static str,
    detail: String,
}

#[derive(Serialize)]
struct CompletionJson {
    from: usize,
    options: Vec<Option_>,
}

#[derive(Serialize)]
struct HoverJson {
    from: usize,
    to: usize,
    text: String,
}

/// At most this many candidates go to the editor, which narrows them as the word grows (all the
/// fields starting with one letter fit).
const MAX_CANDIDATES: usize = 1000;

/// The completion hook's answer for `doc` at JavaScript index `pos`, as JSON.
fn completion_json(doc: &str, pos: usize, vocab: &Vocabulary) -> Option<String> {
    let cursor = byte_offset(doc, pos);
    let c = complete::complete(doc, cursor, vocab, MAX_CANDIDATES)?;
    serde_json::to_string(&CompletionJson {
        from: utf16_index(doc, c.start),
        options: c
            .candidates
            .into_iter()
            .map(|c| Option_ {
                label: c.text,
                kind: c.kind.label(),
                detail: c.detail,
            })
            .collect(),
    })
    .ok()
}

fn hover_json(doc: &str, pos: usize, vocab: &Vocabulary) -> Option<String> {
    let (range, text) = complete::hover(doc, byte_offset(doc, pos), vocab)?;
    serde_json::to_string(&HoverJson {
        from: utf16_index(doc, range.start),
        to: utf16_index(doc, range.end),
        text,
    })
    .ok()
}

/// One CodeMirror view and the callbacks it holds into the app; destroyed when dropped.
pub struct Editor {
    view: JsValue,
    _changed: Closure<dyn FnMut()>,
    _complete: Closure<dyn FnMut(String, usize) -> Option<String>>,
    _hover: Closure<dyn FnMut(String, usize) -> Option<String>>,
}

impl Editor {
    /// Creates the editor in `parent` holding `text`. `changed` runs after every change of
    /// the document; `with_vocab(f)` calls `f` with the macros and lists that completion and
    /// hover help know.
    pub fn new(
        parent: &web_sys::HtmlElement,
        text: &str,
        changed: impl FnMut() + 'static,
        with_vocab: impl Fn(&dyn Fn(&Vocabulary) -> Option<String>) -> Option<String> + Clone + 'static,
    ) -> Result<Editor, String> {
        let changed = Closure::<dyn FnMut()>::new(changed);
        let v = with_vocab.clone();
        let complete = Closure::<dyn FnMut(String, usize) -> Option<String>>::new(
            move |doc: String, pos: usize| v(&|vocab| completion_json(&doc, pos, vocab)),
        );
        let hover = Closure::<dyn FnMut(String, usize) -> Option<String>>::new(
            move |doc: String, pos: usize| with_vocab(&|vocab| hover_json(&doc, pos, vocab)),
        );
        let hooks = js_sys::Object::new();
        for (name, f) in [
            ("changed", changed.as_ref()),
            ("complete", complete.as_ref()),
            ("hover", hover.as_ref()),
        ] {
            js_sys::Reflect::set(&hooks, &name.into(), f)
                .map_err(|_| "the editor's hooks could not be set".to_string())?;
        }
        let view = cm_create(parent, text, &hooks).map_err(|e| {
            format!(
                "The code editor (editor.js) did not start: {}",
                e.as_string()
                    .or_else(|| js_sys::Error::from(e).message().as_string())
                    .unwrap_or_default()
            )
        })?;
        Ok(Editor {
            view,
            _changed: changed,
            _complete: complete,
            _hover: hover,
        })
    }

    pub fn text(&self) -> String {
        cm_get_value(&self.view)
    }

    /// Replaces the text as one undoable step (a fix, "Fix all", an applied exception).
    pub fn replace(&self, text: &str, user_event: &str) {
        cm_set_text(&self.view, text, user_event);
    }

    /// Shows `diagnostics`, which must have been computed on the current text.
    pub fn show(&self, diagnostics: &[DiagnosticJson]) {
        #[derive(Serialize)]
        struct Mark<'a> {
            line: u32,
            column: u32,
            end_line: u32,
            end_column: u32,
            severity: &'a str,
            message: &'a str,
        }
        let marks: Vec<Mark> = diagnostics
            .iter()
            .filter(|d| d.line > 0)
            .map(|d| Mark {
                line: d.line,
                column: d.column,
                end_line: d.end_line,
                end_column: d.end_column,
                severity: d.severity.as_str(),
                message: &d.message,
            })
            .collect();
        if let Ok(json) = serde_json::to_string(&marks) {
            cm_set_diagnostics(&self.view, &json);
        }
    }

    pub fn go_to(&self, line: u32, column: u32) {
        cm_go_to(&self.view, line, column);
    }
}

impl Drop for Editor {
    fn drop(&mut self) {
        cm_destroy(&self.view);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_and_byte_offsets_agree() {
        let text = "a: Tập 😀 x";
        for (byte, _) in text.char_indices() {
            assert_eq!(byte_offset(text, utf16_index(text, byte)), byte);
        }
        assert_eq!(utf16_index(text, text.len()), text.encode_utf16().count());
        assert_eq!(byte_offset(text, 999), text.len());
    }
}
