//! `cargo xtask dist [--dev]`: compiles `rulestudio-frontend` to wasm32 and writes
//! `frontend/dist/` (index.html and its boot.js, the wasm-bindgen JS glue, the wasm module, style.css,
//! and editor.js, the code editor bundled by esbuild from `frontend/editor-js/`), which
//! `rulestudio serve` serves at `/`. Everything it needs comes from crates.io through Cargo:
//! the wasm-bindgen CLI support library is linked in here, so nothing is downloaded at build time.
//!
//! `cargo xtask api-docs`: writes `docs/api.md` from the server's OpenAPI document (the server
//! crate's `api_docs` example renders it; nothing is started).

#![forbid(unsafe_code)]

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

const CRATE: &str = "rulestudio-frontend";
const WASM_TARGET: &str = "wasm32-unknown-unknown";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("dist") => dist(args[1..].iter().any(|a| a == "--dev")),
        Some("api-docs") => api_docs(),
        _ => bail!("usage: cargo xtask dist [--dev] | cargo xtask api-docs"),
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

fn api_docs() -> Result<()> {
    let root = workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // An example of the server crate rather than a dependency of xtask, so that `xtask dist`
    // does not build the whole server.
    let out = Command::new(cargo)
        .current_dir(&root)
        .args([
            "run",
            "--quiet",
            "-p",
            "rulestudio-server",
            "--example",
            "api_docs",
        ])
        .output()
        .context("running the api_docs example")?;
    if !out.status.success() {
        bail!(
            "the api_docs example failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let path = root.join("docs/api.md");
    std::fs::write(&path, &out.stdout).with_context(|| format!("writing {}", path.display()))?;
    println!("{} written", path.display());
    Ok(())
}

fn dist(dev: bool) -> Result<()> {
    let root = workspace_root();
    let profile = if dev { "debug" } else { "release" };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(&root)
        .args(["build", "-p", CRATE, "--lib", "--target", WASM_TARGET]);
    if !dev {
        build.arg("--release");
        // Debug info only bloats the module (wasm-bindgen strips it anyway); keep it out of the
        // wasm build without touching the workspace's release profile used by native binaries.
        build.env("CARGO_PROFILE_RELEASE_DEBUG", "0");
    }
    let status = build
        .status()
        .context("running cargo build for the frontend")?;
    if !status.success() {
        bail!("cargo build of {CRATE} for {WASM_TARGET} failed ({status})");
    }

    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let wasm = target_dir
        .join(WASM_TARGET)
        .join(profile)
        .join(format!("{}.wasm", CRATE.replace('-', "_")));
    let out = root.join("frontend/dist");
    if out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| format!("clearing {}", out.display()))?;
    }
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;

    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .out_name("rulestudio")
        .web(true)?
        .debug(dev)
        .keep_debug(dev)
        .generate(&out)
        .with_context(|| format!("wasm-bindgen on {}", wasm.display()))?;

    for asset in [
        "index.html",
        "boot.js",
        "lint-worker.js",
        "style.css",
        "favicon.svg",
    ] {
        let from = root.join("static").join(asset);
        std::fs::copy(&from, out.join(asset))
            .with_context(|| format!("copying {}", from.display()))?;
    }
    editor_bundle(&root)?;
    let size = std::fs::metadata(out.join("rulestudio_bg.wasm"))?.len();
    let editor = std::fs::metadata(out.join("editor.js"))?.len();
    println!(
        "frontend/dist written ({profile}, wasm {} KiB, editor.js {} KiB)",
        size / 1024,
        editor / 1024
    );
    Ok(())
}

/// Bundles the code editor (CodeMirror 6 and its bridge, `frontend/editor-js/`) with esbuild
/// into `frontend/dist/editor.js`. Its npm packages are pinned by its `package-lock.json` and
/// installed by `scripts/setup` (`npm ci`); nothing is fetched here.
fn editor_bundle(root: &Path) -> Result<()> {
    let dir = root.join("frontend/editor-js");
    if !dir.join("node_modules/.bin/esbuild").exists() {
        bail!(
            "{} has no node_modules: run scripts/setup (or `npm ci` there)",
            dir.display()
        );
    }
    let status = Command::new("npm")
        .current_dir(&dir)
        .args(["run", "--silent", "build"])
        .status()
        .context("running npm (Node.js) to bundle the code editor")?;
    if !status.success() {
        bail!(
            "bundling the code editor (npm run build in {}) failed ({status})",
            dir.display()
        );
    }
    Ok(())
}
