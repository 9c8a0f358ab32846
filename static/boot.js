// Starts the wasm app. A file rather than an inline script, so that the Content-Security-Policy
// can allow only this server's own scripts.
import init from "/rulestudio.js";
init({ module_or_path: "/rulestudio_bg.wasm" });
