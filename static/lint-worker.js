// The editor's lint, off the page's thread: the app's own module, started without the app
// (`editor/worker.rs`). Messages in: {files} once (the live set, as JSON), then {seq, text};
// out: {ready} or {error}, then {seq, report, ms} for each text (the report as JSON).
import init, { LintWorker } from "/rulestudio.js";

let worker = null;
const ready = init({ module_or_path: "/rulestudio_bg.wasm" });

onmessage = async (event) => {
  await ready;
  const msg = event.data;
  try {
    if (msg.files !== undefined) {
      worker = new LintWorker(msg.files);
      postMessage({ ready: true });
    } else if (worker) {
      const t0 = performance.now();
      const report = worker.lint(msg.text);
      postMessage({ seq: msg.seq, report, ms: performance.now() - t0 });
    }
  } catch (e) {
    postMessage({ error: String(e) });
  }
};
