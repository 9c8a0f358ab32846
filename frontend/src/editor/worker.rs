//! The lint in a Web Worker (`lint-worker.js`): the same module, started without the app,
//! holding its own [`Workspace`]. The page posts the live set's files once, then each text to
//! lint; the worker answers each with its report as JSON, so typing never waits for a lint.

use super::lint::{LintReport, Workspace};
use rulestudio_api::live::{RulesFile, source_files};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct LintWorker {
    workspace: Workspace,
}

#[wasm_bindgen]
impl LintWorker {
    /// `files`: the live set's files as JSON (`[{name, content}]`).
    #[wasm_bindgen(constructor)]
    pub fn new(files: &str) -> Result<LintWorker, JsError> {
        let files: Vec<RulesFile> = serde_json::from_str(files)
            .map_err(|e| JsError::new(&format!("the live set's files: {e}")))?;
        Ok(LintWorker {
            workspace: Workspace::new(source_files(&files)),
        })
    }

    /// The lint report of `draft` as JSON.
    pub fn lint(&mut self, draft: &str) -> Result<String, JsError> {
        serde_json::to_string(&self.workspace.lint(draft)).map_err(|e| JsError::new(&e.to_string()))
    }
}

/// The page's side: the worker running [`LintWorker`], and what to do with its reports.
pub struct LintClient {
    worker: web_sys::Worker,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
}

/// What the worker says.
pub enum Reply {
    /// Its workspace is ready: texts may be posted.
    Ready,
    /// The report for the text posted with `seq`, and the lint's time.
    Report {
        seq: u32,
        report: LintReport,
        ms: f64,
    },
    /// It could not start or lint (the page lints by itself then).
    Failed(String),
}

impl LintClient {
    /// Starts `lint-worker.js` on the live set's `files`; `on_reply` gets its answers.
    pub fn start(
        files: &[RulesFile],
        mut on_reply: impl FnMut(Reply) + 'static,
    ) -> Result<Self, String> {
        let options = web_sys::WorkerOptions::new();
        options.set_type(web_sys::WorkerType::Module);
        let worker = web_sys::Worker::new_with_options("/lint-worker.js", &options)
            .map_err(|e| format!("the lint worker did not start: {e:?}"))?;
        let on_message =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                on_reply(reply(&ev.data()));
            });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        let files = serde_json::to_string(files).map_err(|e| e.to_string())?;
        let msg = js_sys::Object::new();
        js_sys::Reflect::set(&msg, &"files".into(), &files.into()).map_err(|e| format!("{e:?}"))?;
        worker.post_message(&msg).map_err(|e| format!("{e:?}"))?;
        Ok(LintClient {
            worker,
            _on_message: on_message,
        })
    }

    /// Asks for the report of `text`, answered with `seq`.
    pub fn post(&self, seq: u32, text: &str) -> Result<(), String> {
        let msg = js_sys::Object::new();
        js_sys::Reflect::set(&msg, &"seq".into(), &seq.into()).map_err(|e| format!("{e:?}"))?;
        js_sys::Reflect::set(&msg, &"text".into(), &text.into()).map_err(|e| format!("{e:?}"))?;
        self.worker.post_message(&msg).map_err(|e| format!("{e:?}"))
    }
}

fn reply(data: &JsValue) -> Reply {
    let get = |key: &str| {
        js_sys::Reflect::get(data, &key.into())
            .ok()
            .filter(|v| !v.is_undefined())
    };
    if let Some(e) = get("error") {
        return Reply::Failed(e.as_string().unwrap_or_default());
    }
    if get("ready").is_some() {
        return Reply::Ready;
    }
    let (Some(seq), Some(report), Some(ms)) = (
        get("seq").and_then(|v| v.as_f64()),
        get("report").and_then(|v| v.as_string()),
        get("ms").and_then(|v| v.as_f64()),
    ) else {
        return Reply::Failed("an answer the page does not understand".into());
    };
    match serde_json::from_str(&report) {
        Ok(report) => Reply::Report {
            seq: seq as u32,
            report,
            ms,
        },
        Err(e) => Reply::Failed(format!("a report the page does not understand: {e}")),
    }
}

impl Drop for LintClient {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}
