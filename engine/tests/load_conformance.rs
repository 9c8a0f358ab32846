//! Runs the loader conformance cases in `tests/conformance/load/` (format: README.md there).

use rulestudio_engine::loader::{self, LoadOptions, SourceFile};
use rulestudio_engine::span::LineIndex;
use std::path::{Path, PathBuf};

/// The item a diagnostic must be about (`falco -V`'s `item_type` and, when given, `item_name`).
struct Item {
    kind: String,
    name: Option<String>,
}

/// Splits a leading `[item_type]` or `[item_type: item_name]` off a diagnostic's message.
fn split_item(message: &str) -> Result<(Option<Item>, String), String> {
    let Some(rest) = message.strip_prefix('[') else {
        return Ok((None, message.to_owned()));
    };
    let end = rest
        .find(']')
        .ok_or_else(|| format!("unclosed item in {message:?}"))?;
    let (kind, name) = match rest[..end].split_once(": ") {
        Some((k, n)) => (k, Some(n.to_owned())),
        None => (&rest[..end], None),
    };
    Ok((
        Some(Item {
            kind: kind.to_owned(),
            name,
        }),
        rest[end + 1..].trim_start().to_owned(),
    ))
}

struct Case {
    files: Vec<SourceFile>,
    ok: bool,
    /// (code, file index, line, column, message substring, item)
    diagnostics: Vec<(String, usize, u32, u32, String, Option<Item>)>,
    compiled: Vec<(String, String)>,
    /// The rules in the loaded ruleset (enabled, compiled, not skipped), in load order, when
    /// the case has an `== enabled:` section.
    enabled: Option<Vec<String>>,
    /// (rule, its `evt.type` names sorted, or `*` when unrestricted)
    evttypes: Vec<(String, String)>,
    /// (rule, key, value): what `describe_rule` shows of a rule after appends and overrides.
    info: Vec<(String, String, String)>,
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/load")
}

fn parse_case(text: &str) -> Result<Case, String> {
    let mut files: Vec<SourceFile> = Vec::new();
    let mut ok = None;
    let mut diagnostics = Vec::new();
    let mut compiled = Vec::new();
    let mut enabled: Option<Vec<String>> = None;
    let mut evttypes = Vec::new();
    let mut info = Vec::new();
    // The section being read: a file body, the expectations, or a compiled condition.
    enum Section {
        Preamble,
        File,
        Expect,
        Compiled(String),
        Enabled,
        EvtTypes,
        Info(String),
    }
    let mut section = Section::Preamble;
    for line in text.split_inclusive('\n') {
        if let Some(header) = line.strip_prefix("== ") {
            let header = header.trim_end();
            if let Some(name) = header.strip_prefix("file: ") {
                files.push(SourceFile {
                    name: name.to_owned(),
                    text: String::new(),
                });
                section = Section::File;
            } else if let Some(result) = header.strip_prefix("expect: ") {
                ok = Some(match result {
                    "ok" => true,
                    "error" => false,
                    other => return Err(format!("expect must be ok or error, not {other:?}")),
                });
                section = Section::Expect;
            } else if let Some(rule) = header.strip_prefix("compiled: ") {
                section = Section::Compiled(rule.to_owned());
            } else if header == "enabled:" {
                enabled = Some(Vec::new());
                section = Section::Enabled;
            } else if let Some(rule) = header.strip_prefix("info: ") {
                section = Section::Info(rule.to_owned());
            } else if let Some(rule) = header.strip_prefix("evttypes: ") {
                // An empty section expects no names at all.
                evttypes.push((rule.to_owned(), String::new()));
                section = Section::EvtTypes;
            } else {
                return Err(format!("unknown section header {header:?}"));
            }
            continue;
        }
        match &section {
            Section::Preamble => {}
            Section::File => files.last_mut().expect("in a file").text.push_str(line),
            Section::Expect => {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let mut parts = line.splitn(3, ' ');
                let code = parts.next().unwrap_or_default().to_owned();
                let at = parts
                    .next()
                    .ok_or_else(|| format!("diagnostic line without position: {line}"))?;
                let (item, message) = split_item(parts.next().unwrap_or_default())?;
                let pos: Vec<&str> = at.split(':').collect();
                let (file, l, c) = match pos.as_slice() {
                    [l, c] => (files.first().map_or("", |f| f.name.as_str()), *l, *c),
                    [f, l, c] => (*f, *l, *c),
                    _ => return Err(format!("bad position {at}")),
                };
                let file = files
                    .iter()
                    .position(|f| f.name == file)
                    .ok_or_else(|| format!("unknown file {file}"))?;
                let l = l.parse().map_err(|_| format!("bad line in {at}"))?;
                let c = c.parse().map_err(|_| format!("bad column in {at}"))?;
                diagnostics.push((code, file, l, c, message, item));
            }
            Section::Compiled(rule) => {
                let text = line.trim();
                if !text.is_empty() {
                    compiled.push((rule.clone(), text.to_owned()));
                }
            }
            Section::Enabled => {
                let name = line.trim();
                if !name.is_empty() {
                    enabled.get_or_insert_with(Vec::new).push(name.to_owned());
                }
            }
            Section::Info(rule) => {
                let text = line.trim_end_matches(['\n', '\r']);
                if !text.trim().is_empty() {
                    let (key, value) = text
                        .split_once(':')
                        .ok_or_else(|| format!("info line without `key:` {text:?}"))?;
                    info.push((
                        rule.clone(),
                        key.trim().to_owned(),
                        value.strip_prefix(' ').unwrap_or(value).to_owned(),
                    ));
                }
            }
            Section::EvtTypes => {
                let text = line.trim();
                if !text.is_empty()
                    && let Some(last) = evttypes.last_mut()
                {
                    last.1 = text.to_owned();
                }
            }
        }
    }
    Ok(Case {
        files,
        ok: ok.ok_or("no `== expect:` section")?,
        diagnostics,
        compiled,
        enabled,
        evttypes,
        info,
    })
}

fn check(case: &Case) -> Vec<String> {
    let loaded = loader::load(&case.files, &LoadOptions::default());
    let mut problems = Vec::new();
    let indexes: Vec<LineIndex> = case.files.iter().map(|f| LineIndex::new(&f.text)).collect();
    let actual: Vec<(
        String,
        usize,
        u32,
        u32,
        String,
        &rulestudio_engine::diagnostic::Diagnostic,
    )> = loaded
        .diagnostics
        .iter()
        .map(|d| {
            let span = d.span.unwrap_or_default();
            let f = span.file.0 as usize;
            let lc = indexes[f].line_col(&case.files[f].text, span.start);
            (
                d.code.as_str().to_owned(),
                f,
                lc.line,
                lc.column,
                d.message.clone(),
                d,
            )
        })
        .collect();
    if loaded.ok() != case.ok {
        problems.push(format!(
            "result: expected {}, got {}",
            if case.ok { "ok" } else { "error" },
            if loaded.ok() { "ok" } else { "error" }
        ));
    }
    let mut unmatched: Vec<_> = actual.iter().collect();
    let item_matches =
        |want: &Option<Item>, d: &rulestudio_engine::diagnostic::Diagnostic| match want {
            None => true,
            Some(item) => {
                d.item_kind.is_some_and(|k| k.as_str() == item.kind)
                    && item
                        .name
                        .as_ref()
                        .is_none_or(|n| d.item_name.as_ref() == Some(n))
            }
        };
    for want in &case.diagnostics {
        let found = unmatched.iter().position(|a| {
            a.0 == want.0
                && a.1 == want.1
                && a.2 == want.2
                && a.3 == want.3
                && a.4.contains(&want.4)
                && item_matches(&want.5, a.5)
        });
        match found {
            Some(i) => {
                unmatched.remove(i);
            }
            None => {
                let item = want
                    .5
                    .as_ref()
                    .map(|i| format!("[{}: {}] ", i.kind, i.name.as_deref().unwrap_or("*")))
                    .unwrap_or_default();
                problems.push(format!(
                    "missing diagnostic: {} {}:{}:{} {item}{}",
                    want.0, case.files[want.1].name, want.2, want.3, want.4
                ))
            }
        }
    }
    for a in unmatched {
        let item = format!(
            "[{}: {}]",
            a.5.item_kind.map_or("-", |k| k.as_str()),
            a.5.item_name.as_deref().unwrap_or("-")
        );
        problems.push(format!(
            "unexpected diagnostic: {} {}:{}:{} {item} {}",
            a.0, case.files[a.1].name, a.2, a.3, a.4
        ));
    }
    for (rule, want) in &case.compiled {
        match loaded.rules.iter().find(|r| &r.name == rule) {
            None => problems.push(format!("no rule named {rule:?}")),
            Some(r) if r.compiled_condition.as_deref() != Some(want.as_str()) => {
                problems.push(format!(
                    "compiled condition of {rule:?}:\n  expected {want}\n  got      {:?}",
                    r.compiled_condition
                ));
            }
            Some(_) => {}
        }
    }
    if let Some(want) = &case.enabled {
        let got: Vec<&str> = loaded
            .ruleset
            .rules()
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        if got != *want {
            problems.push(format!("enabled rules: expected {want:?}, got {got:?}"));
        }
    }
    for (rule, want) in &case.evttypes {
        match loaded.rules.iter().find(|r| &r.name == rule) {
            None => problems.push(format!("no rule named {rule:?}")),
            Some(r) => {
                let all: Vec<&str> = rulestudio_engine::fields::evt_types()
                    .iter()
                    .map(|t| t.0)
                    .collect();
                let got = match &r.evt_types {
                    None => "<not compiled>".to_owned(),
                    Some(names) if names.len() == all.len() => "*".to_owned(),
                    // Most of the names: written as what is left out.
                    Some(names) if want.starts_with("* - ") => {
                        let mut missing: Vec<&str> =
                            all.iter().copied().filter(|n| !names.contains(n)).collect();
                        missing.sort_unstable();
                        format!("* - {}", missing.join(" "))
                    }
                    Some(names) => {
                        let mut names = names.clone();
                        names.sort_unstable();
                        names.join(" ")
                    }
                };
                if &got != want {
                    problems.push(format!("evt types of {rule:?}: expected {want}, got {got}"));
                }
            }
        }
    }
    for (rule, key, want) in &case.info {
        let Some(r) = loaded.rules.iter().find(|r| &r.name == rule) else {
            problems.push(format!("no rule named {rule:?}"));
            continue;
        };
        let got = match key.as_str() {
            "desc" => r.desc.clone(),
            "condition" => r.condition.clone(),
            "output" => r.output.clone(),
            "priority" => r.priority.as_str().to_owned(),
            "source" => r.source.clone(),
            "enabled" => r.enabled.to_string(),
            "tags" => r.tags.join(", "),
            other => {
                problems.push(format!("unknown info key {other:?}"));
                continue;
            }
        };
        if &got != want {
            problems.push(format!("{key} of {rule:?}: expected {want:?}, got {got:?}"));
        }
    }
    problems
}

#[test]
fn load_conformance_cases() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/conformance/load exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "case"))
        .collect();
    paths.sort();
    assert!(
        paths.len() > 50,
        "expected the whole suite, found {} cases",
        paths.len()
    );
    let mut failures = Vec::new();
    for path in &paths {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(path).expect("readable case");
        match parse_case(&text) {
            Err(e) => failures.push(format!("{name}: bad case file: {e}")),
            Ok(case) => {
                let problems = check(&case);
                if !problems.is_empty() {
                    failures.push(format!("{name}:\n    {}", problems.join("\n    ")));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n")
    );
}
