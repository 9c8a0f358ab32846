//! What a lint reports, and how a report becomes a [`Diagnostic`].

use super::registry::Lint;
use super::source::Item;
use crate::diagnostic::{Applicability, Code, Diagnostic, Edit, Fix, ItemKind, Severity};
use crate::messages::Recognised;
use crate::span::Span;
use std::collections::HashSet;
use std::ops::Range;

/// One problem found by one lint, before it is merged with the loader's diagnostics.
pub(crate) struct Finding {
    pub lint: &'static Lint,
    pub span: Span,
    /// The loader diagnostics this finding replaces must overlap this span.
    pub scope: Span,
    pub item_span: Span,
    kind: ItemKind,
    name: String,
    message: String,
    help: Option<String>,
    fix: Option<Fix>,
    /// When not empty, only loader diagnostics with one of these messages are replaced.
    pub mentions: Vec<Recognised>,
}

impl Finding {
    /// Replace only the loader diagnostics built with `message` (e.g. a missing key).
    pub fn replacing(&mut self, message: Recognised) -> &mut Self {
        self.mentions.push(message);
        self
    }

    pub fn replaces(&self, d: &Diagnostic) -> bool {
        self.lint.replaces.contains(&d.code)
            && d.span.is_some_and(|s| {
                s.file == self.scope.file && s.start <= self.scope.end && self.scope.start <= s.end
            })
            && (self.mentions.is_empty() || self.mentions.iter().any(|m| m.matches(&d.message)))
    }

    pub fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }

    pub fn fix(&mut self, fix: Option<Fix>) -> &mut Self {
        self.fix = fix;
        self
    }

    pub fn scope(&mut self, scope: Span) -> &mut Self {
        self.scope = scope;
        self
    }

    /// Whether this finding adds its help and fix to `d`: a loader diagnostic it enriches, in
    /// the same item.
    pub fn enriches(&self, d: &Diagnostic) -> bool {
        self.lint.enriches.contains(&d.code) && self.in_item(d)
    }

    /// Whether `d` is about the item this finding is in.
    pub fn in_item(&self, d: &Diagnostic) -> bool {
        d.span.is_some_and(|s| {
            s.file == self.item_span.file
                && self.item_span.start <= s.start
                && s.end <= self.item_span.end
        })
    }

    /// `d` with this finding's help (naming the lint, where its documentation is) and fix.
    pub fn enrich(self, d: &mut Diagnostic) {
        d.help = Some(self.tagged_help());
        d.fix = self.fix;
    }

    /// An error with the code of the loader error it stands for, else a warning.
    pub fn into_diagnostic(self, replaced_error: Option<Code>) -> Diagnostic {
        let (severity, code, help) = match (self.lint.falco, replaced_error) {
            (Some(_), Some(code)) => (Severity::Error, code, Some(self.tagged_help())),
            _ => (Severity::Warning, self.lint.code, self.help),
        };
        Diagnostic {
            severity,
            code,
            message: self.message,
            span: Some(self.span),
            item_kind: Some(self.kind),
            item_name: Some(self.name),
            help,
            fix: self.fix,
        }
    }

    /// The help followed by `[RS001 alert-key]`: under another code, the lint must be named.
    fn tagged_help(&self) -> String {
        let tag = format!("[{} {}]", self.lint.code, self.lint.name);
        self.help
            .as_ref()
            .map_or(tag.clone(), |h| format!("{h} {tag}"))
    }
}

/// Where a lint reports, bound to the item being linted.
pub(crate) struct Sink<'a, 'f> {
    lint: &'static Lint,
    item: &'a Item<'f>,
    out: &'a mut Vec<Finding>,
    /// Names of every list in the files, so a list reference is not taken for a value.
    lists: &'a HashSet<&'a str>,
}

impl<'a, 'f> Sink<'a, 'f> {
    pub fn new(
        lint: &'static Lint,
        item: &'a Item<'f>,
        lists: &'a HashSet<&'a str>,
        out: &'a mut Vec<Finding>,
    ) -> Self {
        Sink {
            lint,
            item,
            out,
            lists,
        }
    }

    /// Whether `value` (unquoted) names a list, which the loader substitutes.
    pub fn is_list(&self, value: &super::condition::Lit) -> bool {
        !value.quoted && self.lists.contains(value.text.as_str())
    }

    pub fn report(&mut self, span: Span, message: impl Into<String>) -> &mut Finding {
        self.out.push(Finding {
            lint: self.lint,
            span,
            scope: span,
            item_span: self.item.span,
            kind: self.item.kind,
            name: self.item.name.clone(),
            message: message.into(),
            help: None,
            fix: None,
            mentions: Vec::new(),
        });
        self.out.last_mut().expect("just pushed")
    }

    /// A finding of a lint that [enriches](Lint::enriches) a loader diagnostic of this item: it
    /// has no message or place of its own, only the help and fix it adds.
    pub fn enrich_loader(&mut self) -> &mut Finding {
        self.report(self.item.span, String::new())
    }

    /// Reports at `range` of the item's condition; the finding replaces the loader's diagnostics
    /// from there to the end of the condition (a parse error there is this problem's echo).
    pub fn report_in_condition(
        &mut self,
        range: Range<usize>,
        message: impl Into<String>,
    ) -> &mut Finding {
        let cond = self
            .item
            .condition
            .as_ref()
            .expect("lints report in conditions they scanned");
        let span = cond.span_of(range);
        let scope = Span::new(span.file, span.start, cond.span.end);
        self.report(span, message).scope(scope)
    }

    /// A fix replacing ranges of the condition, or `None` when a range does not map one-to-one
    /// onto the file (then the finding is reported without a fix rather than with a wrong one).
    pub fn condition_fix(
        &self,
        message: impl Into<String>,
        applicability: Applicability,
        edits: &[(Range<usize>, String)],
    ) -> Option<Fix> {
        let cond = self.item.condition.as_ref()?;
        let edits = edits
            .iter()
            .map(|(range, text)| {
                Some(Edit {
                    span: cond.exact_span(range.clone(), self.item.text)?,
                    replacement: cond.escape(text),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Fix {
            message: message.into(),
            edits,
            applicability,
        })
    }
}
