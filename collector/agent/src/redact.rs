//! `--redact REGEX`: secrets typed on a command line (`--password=…`, a token in a URL) are
//! masked at capture, in the process table, before any event, spool, store, alert or export can
//! hold them. Every field built from a process's arguments (`proc.cmdline`, `proc.args`,
//! `proc.exe`, `proc.pcmdline`, `proc.acmdline[N]`…) then reads the masked text.
//!
//! Each argument is matched on its own (an argument is what the program received, so a pattern
//! never spans two). A pattern with capturing groups masks only what its groups matched, so
//! `--redact '--password=(\S+)'` keeps the flag's name; one without groups masks the whole
//! match. The process environment is not captured, so there is nothing of it to redact.

use regex::Regex;
use std::borrow::Cow;

/// What a masked part of an argument becomes.
pub const MASK: &str = "***";

/// Longest pattern accepted, bytes: the patterns run on every exec's arguments.
const MAX_PATTERN: usize = 1024;

/// The `--redact` flag, shared by `rulestudio-collector` and `rulestudio serve --collector`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RedactArgs {
    /// Mask what this regular expression (Rust `regex` syntax) matches in each command-line
    /// argument of every process, at capture; with capturing groups, only the groups are
    /// masked (`--password=(\S+)` keeps the flag). Repeatable.
    #[arg(long, value_name = "REGEX")]
    pub redact: Vec<String>,
}

impl RedactArgs {
    pub fn redaction(&self) -> Result<Redaction, RedactError> {
        Redaction::new(&self.redact)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--redact `{pattern}`: {message}")]
pub struct RedactError {
    pub pattern: String,
    pub message: String,
}

/// The compiled `--redact` patterns; none masks nothing.
#[derive(Debug, Clone, Default)]
pub struct Redaction {
    patterns: Vec<Regex>,
}

impl Redaction {
    pub fn new(patterns: &[String]) -> Result<Redaction, RedactError> {
        let compile = |pattern: &String| {
            let error = |message: String| RedactError {
                pattern: pattern.clone(),
                message,
            };
            if pattern.is_empty() {
                return Err(error("an empty pattern would match everywhere".into()));
            }
            if pattern.len() > MAX_PATTERN {
                return Err(error(format!("longer than {MAX_PATTERN} bytes")));
            }
            Regex::new(pattern).map_err(|e| error(e.to_string()))
        };
        Ok(Redaction {
            patterns: patterns.iter().map(compile).collect::<Result<_, _>>()?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// `arg` with what the patterns match masked.
    pub fn apply<'a>(&self, arg: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(arg);
        for re in &self.patterns {
            let masked = mask(re, &out);
            if let Cow::Owned(m) = masked {
                out = Cow::Owned(m);
            }
        }
        out
    }
}

/// `text` with `re`'s matches (or, when it has groups, its groups' matches) replaced by [`MASK`].
fn mask<'a>(re: &Regex, text: &'a str) -> Cow<'a, str> {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for caps in re.captures_iter(text) {
        let whole = caps.get(0).expect("group 0 is the match");
        if whole.is_empty() {
            continue;
        }
        if caps.len() == 1 {
            ranges.push((whole.start(), whole.end()));
            continue;
        }
        // Groups may nest or repeat: the outermost non-empty ones, in order, without overlap.
        let mut end = whole.start();
        for g in caps.iter().skip(1).flatten() {
            if g.start() >= end && !g.is_empty() {
                ranges.push((g.start(), g.end()));
                end = g.end();
            }
        }
    }
    if ranges.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in ranges {
        out.push_str(&text[at..start]);
        out.push_str(MASK);
        at = end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redaction(patterns: &[&str]) -> Redaction {
        Redaction::new(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn a_pattern_without_groups_masks_its_whole_match() {
        let r = redaction(&["hunter[0-9]"]);
        assert_eq!(r.apply("pw=hunter2;hunter3"), "pw=***;***");
        assert!(matches!(r.apply("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn groups_mask_only_what_they_matched() {
        let r = redaction(&[r"--password=(\S+)", r"://([^:@/]+):([^@/]+)@"]);
        assert_eq!(r.apply("--password=s3cret"), "--password=***");
        assert_eq!(
            r.apply("https://bob:tok3n@example.com/x"),
            "https://***:***@example.com/x"
        );
        // A group that did not take part masks nothing; nested groups mask once.
        let r = redaction(&[r"key=((a+)|(b+))"]);
        assert_eq!(r.apply("key=aaa key=bb"), "key=*** key=***");
    }

    #[test]
    fn patterns_apply_in_turn_and_empty_matches_mask_nothing() {
        let r = redaction(&["x*", "secret"]);
        assert_eq!(r.apply("a secret b"), "a *** b");
        assert_eq!(r.apply("xx"), "***");
    }

    #[test]
    fn a_bad_pattern_is_refused_naming_it() {
        let e = Redaction::new(&["ok".into(), "(unclosed".into()]).unwrap_err();
        assert_eq!(e.pattern, "(unclosed");
        assert!(e.to_string().starts_with("--redact `(unclosed`: "), "{e}");
        let e = Redaction::new(&[String::new()]).unwrap_err();
        assert!(e.message.contains("empty"), "{e}");
    }
}
