//! The case-file format of `tests/conformance/{eval,compile}` (see the README there):
//! `== name` starts a case; then `key: value` lines; `#` lines and blank lines are ignored.

use std::path::{Path, PathBuf};

pub struct Case {
    pub file: PathBuf,
    pub line: usize,
    pub name: String,
    pub entries: Vec<(String, String, usize)>,
}

impl Case {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, _)| v.as_str())
    }

    pub fn whence(&self) -> String {
        format!("{}:{} ({})", self.file.display(), self.line, self.name)
    }
}

pub fn conformance_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/conformance")
        .join(kind)
}

/// Every case of every `*.cases` file of the folder, in file-name order.
pub fn load(kind: &str) -> Vec<Case> {
    let dir = conformance_dir(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cases"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let line_no = n + 1;
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(name) = line.strip_prefix("== ") {
                cases.push(Case {
                    file: file.clone(),
                    line: line_no,
                    name: name.trim().to_string(),
                    entries: Vec::new(),
                });
                continue;
            }
            let (k, v) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("{}:{line_no}: expected `key: value`", file.display()));
            let case = cases.last_mut().unwrap_or_else(|| {
                panic!(
                    "{}:{line_no}: entry before the first `== name`",
                    file.display()
                )
            });
            case.entries
                .push((k.trim().to_string(), v.trim().to_string(), line_no));
        }
    }
    assert!(!cases.is_empty(), "no cases in {}", dir.display());
    cases
}
