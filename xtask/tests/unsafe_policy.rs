//! Keeps the unsafe-code policy true: every crate root forbids `unsafe` or denies it, and the
//! places that allow it again are exactly those listed in ARCHITECTURE.md under "Unsafe code".
//! (Each unsafe block must also carry a `// SAFETY:` comment: clippy's
//! `undocumented_unsafe_blocks`, denied in CI, checks that.)

mod tree;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use tree::{members, root, rust_files};

fn crate_roots(member: &Path) -> Vec<PathBuf> {
    let src = member.join("src");
    let mut roots: Vec<PathBuf> = ["lib.rs", "main.rs"]
        .iter()
        .map(|f| src.join(f))
        .filter(|p| p.exists())
        .collect();
    rust_files(&src.join("bin"), &mut roots);
    roots
}

/// `path: item` for every `#[allow(unsafe_code)]`, naming the item it stands on.
fn allow_sites(root: &Path, file: &Path) -> Vec<String> {
    let text = fs::read_to_string(file).unwrap();
    let rel = file.strip_prefix(root).unwrap().display().to_string();
    let lines: Vec<&str> = text.lines().collect();
    let mut sites = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim() != "#[allow(unsafe_code)]" {
            continue;
        }
        let item = lines[i + 1..]
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.starts_with("#[") && !l.starts_with("//"))
            .unwrap_or_else(|| panic!("{rel}:{}: allow(unsafe_code) on nothing", i + 1));
        // `mod NAME` and `fn NAME` by their name; `impl TRAIT for TYPE` up to its body.
        let item = item
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub ");
        let item = item.trim_start_matches("unsafe ");
        let (kind, rest) = item
            .split_once(' ')
            .filter(|(kind, _)| matches!(*kind, "mod" | "fn" | "impl"))
            .unwrap_or_else(|| panic!("{rel}:{}: allow(unsafe_code) on `{item}`", i + 1));
        let name = if kind == "impl" {
            rest.split(['{', ';']).next().unwrap().trim()
        } else {
            rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                .next()
                .unwrap()
        };
        sites.push(format!("{rel}: {kind} {name}"));
    }
    sites
}

/// The bullet list under the "Unsafe code" heading: each bullet starts with `` `path: item` ``.
fn documented(root: &Path) -> BTreeSet<String> {
    let doc = fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let section = doc
        .split("\n### Unsafe code\n")
        .nth(1)
        .expect("ARCHITECTURE.md has a '### Unsafe code' section");
    section
        .lines()
        .take_while(|l| !l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("- `"))
        .map(|l| l.split('`').next().unwrap().to_string())
        .collect()
}

#[test]
fn every_crate_root_forbids_or_denies_unsafe_code() {
    let root = root();
    let mut missing = Vec::new();
    for member in members(&root) {
        for file in crate_roots(&member) {
            let text = fs::read_to_string(&file).unwrap();
            if !text.contains("#![forbid(unsafe_code)]") && !text.contains("#![deny(unsafe_code)]")
            {
                missing.push(file.strip_prefix(&root).unwrap().display().to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "crate roots without #![forbid(unsafe_code)] or #![deny(unsafe_code)]: {missing:?}"
    );
}

#[test]
fn the_places_that_allow_unsafe_code_are_the_ones_architecture_md_lists() {
    let root = root();
    let mut found = BTreeSet::new();
    for member in members(&root) {
        let mut files = Vec::new();
        rust_files(&member.join("src"), &mut files);
        for file in files {
            found.extend(allow_sites(&root, &file));
        }
    }
    let listed = documented(&root);
    let unlisted: Vec<_> = found.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&found).collect();
    assert!(
        unlisted.is_empty() && stale.is_empty(),
        "allow(unsafe_code) not listed in ARCHITECTURE.md: {unlisted:?}; listed but gone: {stale:?}"
    );
    assert!(!found.is_empty(), "the scan found no allow site at all");
}
