//! Rule output formats: `%field` / `%(field)` tokens rendered per match (libs
//! `sinsp_evt_formatter`). A token is the longest prefix that is a valid field or transformer
//! (`%proc.name,` ends at the comma); an optional width precedes it (`%20proc.name`); values
//! that cannot be extracted print `<NA>`.

mod render;

pub use render::render_value;

use crate::diagnostic::Code;
use crate::eval::transform::TExpr;
use crate::event::FieldSource;
use crate::fields::{self, FieldFlags};
use crate::syntax::ast::TransformerKind;
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
    Field { written: String, expr: TExpr, width: usize },
}

#[derive(Debug)]
pub struct OutputFormat {
    tokens: Vec<Token>,
    warnings: Vec<OutputWarning>,
}

/// Falco drops `%container.info` from outputs (the container plugin adds its fields itself).
const CONTAINER_INFO: &str = "%container.info";
const CONTAINER_INFO_DEPRECATED: &str = "%container.info is deprecated and no more useful, and will be dropped by Falco 1.0.0. \
    The container plugin will automatically add required fields to the output message.";

impl OutputFormat {
    pub fn parse(fmt: &str) -> Result<OutputFormat, OutputError> {
        let mut warnings = Vec::new();
        let mut tokens = Vec::new();
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
            let err = |message: String, end: usize| OutputError { message, range: offset + start..offset + end };
            i += 1;
            if i == bytes.len() {
                return Err(err("invalid formatting syntax: formatting cannot end with a %".into(), i));
            }
            let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            let width = body[i..i + digits].parse::<usize>().unwrap_or(0).min(4096);
            i += digits;
            if i == bytes.len() {
                return Err(err("invalid formatting syntax: formatting cannot end with a number".into(), i));
            }
            if digits == 0 && body[start..].starts_with(CONTAINER_INFO) {
                // Falco removes every `%container.info` (plain substring) and warns once.
                if !warnings.iter().any(|w: &OutputWarning| w.message == CONTAINER_INFO_DEPRECATED) {
                    warnings.push(OutputWarning {
                        code: Code::DEPRECATED_ITEM,
                        message: CONTAINER_INFO_DEPRECATED.to_string(),
                        range: offset + start..offset + start + CONTAINER_INFO.len(),
                    });
                }
                i = start + CONTAINER_INFO.len();
                continue;
            }
            let parenthesized = bytes[i] == b'(';
            let (expr_text, used) = if parenthesized {
                match matching_paren(&body[i..]) {
                    Some(close) => (&body[i + 1..i + close], close + 1),
                    None => return Err(err(format!("invalid formatting token {}", &body[i..]), bytes.len())),
                }
            } else {
                let run = token_run(&body[i..]);
                (&body[i..i + run], run)
            };
            let parsed = if parenthesized { parse_token(expr_text).filter(|(_, n)| *n == expr_text.len()) } else { longest_token(expr_text) };
            let Some((expr, len)) = parsed else {
                let shown = if expr_text.is_empty() { &body[i..(i + 1).min(body.len())] } else { expr_text };
                return Err(err(format!("invalid formatting token {shown}"), i + used.max(1)));
            };
            let written = &expr_text[..len];
            let used = if parenthesized { used } else { len };
            flush(&mut text, &mut tokens);
            tokens.push(Token::Field { written: written.to_string(), expr, width });
            i += used;
        }
        flush(&mut text, &mut tokens);
        // Falco's `check_deprecated_fields_in_output`: a plain substring search of the output
        // text, one warning per deprecated name, so `%evt.latency.ns` also reports `evt.latency`.
        for f in fields::FALCO_DEPRECATED {
            let Some(at) = body.find(f) else { continue };
            warnings.push(OutputWarning {
                code: Code::DEPRECATED_ITEM,
                message: format!("usage of deprecated field '{f}' has been detected in the rule output"),
                range: offset + at..offset + at + f.len(),
            });
        }
        Ok(OutputFormat { tokens, warnings })
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
                Token::Field { expr, width, .. } => {
                    let v = expr.eval(ev).map(|v| render_value(&v));
                    let s = v.as_deref().unwrap_or("<NA>");
                    out.push_str(s);
                    let n = s.chars().count();
                    out.extend(std::iter::repeat_n(' ', width.saturating_sub(n)));
                }
            }
        }
        out
    }

    /// `(field as written, value or None)` for every token, as Falco's `output_fields`.
    pub fn fields(&self, ev: &dyn FieldSource) -> Vec<(String, Option<String>)> {
        self.tokens
            .iter()
            .filter_map(|t| match t {
                Token::Field { written, expr, .. } => Some((written.clone(), expr.eval(ev).map(|v| render_value(&v)))),
                Token::Text(_) => None,
            })
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
    let mut n = b.iter().take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.').count();
    if b.get(n) == Some(&b'(') {
        return matching_paren(&s[n..]).map_or(s.len(), |c| n + c + 1);
    }
    if b.get(n) == Some(&b'[') {
        if let Some(close) = s[n..].find(']') {
            n += close + 1;
        }
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

/// The longest prefix of `s` that is a field or transformer (libs shrinks one char at a time).
fn longest_token(s: &str) -> Option<(TExpr, usize)> {
    let mut end = s.len();
    while end > 0 {
        if s.is_char_boundary(end) {
            if let Some((e, n)) = parse_token(&s[..end]).filter(|(_, n)| *n == end) {
                return Some((e, n));
            }
        }
        end -= 1;
    }
    None
}

/// A whole field (`name`, `name[arg]`, dotted argument) or single-argument transformer.
fn parse_token(s: &str) -> Option<(TExpr, usize)> {
    if let Some(open) = s.find('(') {
        let kind = TransformerKind::from_name(&s[..open])?;
        let close = open + matching_paren(&s[open..])?;
        let (inner, n) = parse_token(s[open + 1..close].trim())?;
        if n != s[open + 1..close].trim().len() || close + 1 != s.len() {
            return None;
        }
        let e = TExpr::unary(kind, inner)?;
        return Some((e, s.len()));
    }
    let (name, arg) = match s.find('[') {
        Some(i) => (&s[..i], Some(s[i + 1..].strip_suffix(']')?)),
        None => (s, None),
    };
    let (id, arg) = match (fields::resolve(name)?, arg) {
        ((id, None), arg) => (id, arg),
        ((id, Some(dotted)), None) => (id, Some(dotted)),
        _ => return None,
    };
    let info = id.info();
    if info.flags.contains(FieldFlags::FILTER_ONLY) || (arg.is_some() && !info.arg.accepts_arg()) || (arg.is_none() && info.arg.requires_arg()) {
        return None;
    }
    Some((TExpr::Field { id, arg: arg.map(Into::into) }, s.len()))
}

/// The deprecated fields a token reads (Falco warns about them in outputs too).
#[cfg(test)]
mod tests;
