//! Rule output formats: `%field` / `%transformer(...)` tokens rendered per match (libs
//! `sinsp_evt_formatter`). A token is the longest prefix that is a valid field or transformer
//! (`%proc.name,` ends at the comma); an optional width precedes it (`%20proc.name`); values
//! that cannot be extracted print `<NA>`.

mod render;
mod token;

pub use render::render_value;

use crate::diagnostic::Code;
use crate::eval::transform::TExpr;
use crate::event::FieldSource;
use crate::fields;
use crate::syntax;
use std::ops::Range;

/// A format that could not be compiled; `range` is a byte range within the format string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct OutputError {
    pub message: String,
    pub range: Range<usize>,
}

/// A warning about a format that compiled (deprecated fields, `%container.info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputWarning {
    pub code: Code,
    pub message: String,
    pub range: Range<usize>,
}

#[derive(Debug)]
enum Token {
    Text(String),
    /// `width` 0 prints the value as it is; otherwise it is cut or blank-padded to that many
    /// bytes (libs `std::string::resize`).
    Field {
        expr: TExpr,
        width: usize,
    },
}

#[derive(Debug)]
pub struct OutputFormat {
    tokens: Vec<Token>,
    /// The `output_fields` entries, in order, each name once, as libs spells them.
    resolved: Vec<(String, TExpr)>,
    warnings: Vec<OutputWarning>,
}

/// Falco drops `%container.info` from outputs (the container plugin adds its fields itself).
const CONTAINER_INFO: &str = "%container.info";
const CONTAINER_INFO_DEPRECATED: &str = "%container.info is deprecated and no more useful, and will be dropped by Falco 1.0.0. \
    The container plugin will automatically add required fields to the output message.";

impl OutputFormat {
    pub fn parse(fmt: &str) -> Result<OutputFormat, OutputError> {
        if fmt.is_empty() {
            return Err(OutputError {
                message: "empty formatting token".into(),
                range: 0..0,
            });
        }
        let mut warnings = Vec::new();
        let mut tokens = Vec::new();
        let mut resolved: Vec<(String, TExpr)> = Vec::new();
        let (body, offset) = match fmt.strip_prefix('*') {
            Some(rest) => (rest, 1),
            None => (fmt, 0),
        };
        let bytes = body.as_bytes();
        let mut text = String::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'%' {
                let ch = body[i..].chars().next().unwrap_or(' ');
                text.push(ch);
                i += ch.len_utf8();
                continue;
            }
            let start = i;
            let err = |message: String, end: usize| OutputError {
                message,
                range: offset + start..offset + end,
            };
            i += 1;
            if i == bytes.len() {
                return Err(err(
                    "invalid formatting syntax: formatting cannot end with a %".into(),
                    i,
                ));
            }
            let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            let width = body[i..i + digits].parse::<usize>().unwrap_or(0).min(4096);
            i += digits;
            if i == bytes.len() {
                return Err(err(
                    "invalid formatting syntax: formatting cannot end with a number".into(),
                    i,
                ));
            }
            if digits == 0 && body[start..].starts_with(CONTAINER_INFO) {
                // Falco removes every `%container.info` (plain substring) and warns once.
                if !warnings
                    .iter()
                    .any(|w: &OutputWarning| w.message == CONTAINER_INFO_DEPRECATED)
                {
                    warnings.push(OutputWarning {
                        code: Code::DEPRECATED_ITEM,
                        message: CONTAINER_INFO_DEPRECATED.to_string(),
                        range: offset + start..offset + start + CONTAINER_INFO.len(),
                    });
                }
                i = start + CONTAINER_INFO.len();
                continue;
            }
            let run = token_run(&body[i..]);
            let Some((compiled, used)) = longest_token(&body[i..i + run]) else {
                let shown = if run == 0 {
                    &body[i..body.ceil_char_boundary(i + 1)]
                } else {
                    &body[i..i + run]
                };
                let detail = compile_message(&body[i..i + run])
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default();
                return Err(err(
                    format!("invalid formatting token {shown}{detail}"),
                    i + run.max(1),
                ));
            };
            flush(&mut text, &mut tokens);
            for (name, expr) in compiled.resolved {
                if !resolved.iter().any(|(n, _)| *n == name) {
                    resolved.push((name, expr));
                }
            }
            tokens.push(Token::Field {
                expr: compiled.expr,
                width,
            });
            i += used;
        }
        flush(&mut text, &mut tokens);
        // Falco's `check_deprecated_fields_in_output`: a plain substring search of the output
        // text, one warning per deprecated name, so `%evt.latency.ns` also reports `evt.latency`.
        for f in fields::FALCO_DEPRECATED {
            let Some(at) = body.find(f) else { continue };
            warnings.push(OutputWarning {
                code: Code::DEPRECATED_ITEM,
                message: format!(
                    "usage of deprecated field '{f}' has been detected in the rule output"
                ),
                range: offset + at..offset + at + f.len(),
            });
        }
        Ok(OutputFormat {
            tokens,
            resolved,
            warnings,
        })
    }

    pub fn warnings(&self) -> &[OutputWarning] {
        &self.warnings
    }

    /// The rendered output; values that cannot be extracted print `<NA>`.
    pub fn render(&self, ev: &dyn FieldSource) -> String {
        let mut out = String::new();
        for t in &self.tokens {
            match t {
                Token::Text(s) => out.push_str(s),
                Token::Field { expr, width } => {
                    let v = expr.eval(ev).map(|v| render_value(&v));
                    let s = v.as_deref().unwrap_or("<NA>");
                    if *width == 0 {
                        out.push_str(s);
                    } else {
                        // libs cuts inside a UTF-8 sequence; we cut before it.
                        out.push_str(&s[..s.floor_char_boundary(*width)]);
                        out.extend(std::iter::repeat_n(' ', width.saturating_sub(s.len())));
                    }
                }
            }
        }
        out
    }

    /// Falco's `output_fields`: every field a token reads and every outermost transformer, by
    /// name (`proc.name`, `toupper(proc.name)`), each once, `None` when it cannot be extracted.
    pub fn fields(&self, ev: &dyn FieldSource) -> Vec<(String, Option<String>)> {
        self.resolved
            .iter()
            .map(|(name, expr)| (name.clone(), expr.eval(ev).map(|v| render_value(&v))))
            .collect()
    }
}

fn flush(text: &mut String, tokens: &mut Vec<Token>) {
    if !text.is_empty() {
        tokens.push(Token::Text(std::mem::take(text)));
    }
}

/// The candidate token: a dotted name with an optional `[arg]`, or `transformer(...)`.
fn token_run(s: &str) -> usize {
    let b = s.as_bytes();
    let mut n = b
        .iter()
        .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
        .count();
    if b.get(n) == Some(&b'(') {
        // An unclosed `(` cannot be part of a token: `%proc.name(` is `proc.name`.
        return matching_paren(&s[n..]).map_or(n, |c| n + c + 1);
    }
    if b.get(n) == Some(&b'[')
        && let Some(close) = s[n..].find(']')
    {
        n += close + 1;
    }
    n
}

/// Index of the `)` closing the `(` at the start of `s`.
fn matching_paren(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The longest prefix of `s` that parses and compiles as a field or transformer, and its
/// length (libs shrinks the candidate one byte at a time).
fn longest_token(s: &str) -> Option<(token::Compiled, usize)> {
    let mut end = s.len();
    while end > 0 {
        if s.is_char_boundary(end)
            && let Some((op, n)) = syntax::field_or_transformer(&s[..end])
        {
            if let Ok(c) = token::compile(&op) {
                return Some((c, n));
            }
            // Everything between `n` and `end` was never looked at: shorter candidates
            // down to `n` parse the same way.
            end = end.min(n + 1);
        }
        end -= 1;
    }
    None
}

/// The compiler's complaint about a whole token that parsed but did not compile
/// (`toupper(evt.num)`: wrong type), for the error message.
fn compile_message(s: &str) -> Option<String> {
    let (op, _) = syntax::field_or_transformer(s).filter(|(_, n)| *n == s.len())?;
    token::compile(&op).err()?.0
}

#[cfg(test)]
mod tests;
