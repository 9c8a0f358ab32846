//! Reading one rules file into the [`State`] (falco `rule_loader_reader.cpp` `read`/`read_item`
//! together with the collector's define/append/replace/enable). Unlike Falco, an error ends only
//! the item it is found in; reading goes on with the next item.

use super::decode::{Doc, Res, Want, invalid};
use super::exceptions::{self, Entry, Exception};
use super::mapped::MappedText;
use super::state::{ItemKindKey, ListDef, MacroDef, RuleDef, State};
use super::yaml::{Kind, NodeId, Yaml};
use crate::diagnostic::{Code, Diagnostic, ItemKind};
use crate::rule::Priority;
use crate::span::{FileId, Span};
use std::collections::BTreeSet;

const WARNING_APPEND: &str = "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.";
const WARNING_ENABLED: &str = "The standalone 'enabled' key usage is deprecated. The correct approach requires also a 'replace' entry under the 'override' key (i.e. 'enabled: replace').";
const ERROR_OVERRIDE_APPEND: &str = "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.";
const ERROR_NO_PREVIOUS_MACRO: &str =
    "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists";
const ERROR_NO_PREVIOUS_LIST: &str =
    "List uses 'append' or 'override.items: append' but no list by that name already exists";
const ERROR_NO_PREVIOUS_RULE_APPEND: &str =
    "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists";
const ERROR_NO_PREVIOUS_RULE_REPLACE: &str =
    "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists";
const ERROR_NO_PREVIOUS_ENABLE: &str =
    "Rule has 'enabled' key but no rule by that name already exists";
const ERROR_REDEFINED_SOURCE: &str = "Rule has been re-defined with a different source";
/// The errors of an append/override/enable whose target does not exist.
const MISSING_TARGET: &[&str] = &[
    ERROR_NO_PREVIOUS_LIST,
    ERROR_NO_PREVIOUS_MACRO,
    ERROR_NO_PREVIOUS_RULE_APPEND,
    ERROR_NO_PREVIOUS_RULE_REPLACE,
    ERROR_NO_PREVIOUS_ENABLE,
];

/// The event sources this engine knows.
pub(crate) const KNOWN_SOURCES: &[&str] = &["syscall"];

fn validation(message: impl Into<String>, span: Span) -> Diagnostic {
    Diagnostic::error(Code::ERR_VALIDATE, message, span)
}

/// `x.y.z` like libsinsp's `sinsp_version` (`sscanf("%u.%u.%u")`: trailing text is ignored).
pub fn parse_semver(s: &str) -> Option<(u64, u64, u64)> {
    let mut rest = s.trim_start();
    let mut parts = [0u64; 3];
    for (i, part) in parts.iter_mut().enumerate() {
        if i > 0 {
            rest = rest.strip_prefix('.')?;
        }
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        *part = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
    }
    Some((parts[0], parts[1], parts[2]))
}

fn version_str(v: (u64, u64, u64)) -> String {
    format!("{}.{}.{}", v.0, v.1, v.2)
}

/// Which keys an item may have, for the `LOAD_UNKNOWN_KEY` warnings (and the editor's
/// completion of keys).
pub const LIST_KEYS: &[&str] = &["list", "items", "append", "override"];
pub const MACRO_KEYS: &[&str] = &["macro", "condition", "append", "override"];
pub const RULE_KEYS: &[&str] = &[
    "rule",
    "condition",
    "output",
    "desc",
    "priority",
    "source",
    "enabled",
    "capture",
    "capture_duration",
    "warn_evttypes",
    "skip-if-unknown-filter",
    "tags",
    "exceptions",
    "override",
    "append",
];
const RULE_APPENDABLE: &[&str] = &["condition", "output", "desc", "tags", "exceptions"];
const RULE_REPLACEABLE: &[&str] = &[
    "condition",
    "output",
    "desc",
    "priority",
    "capture",
    "capture_duration",
    "tags",
    "exceptions",
    "enabled",
    "warn_evttypes",
    "skip-if-unknown-filter",
];

pub(crate) struct Reader<'a> {
    doc: Doc<'a>,
    pub state: &'a mut State,
    pub diagnostics: &'a mut Vec<Diagnostic>,
    /// Whether `fields` of exceptions name real fields (syscall source).
    check_field: &'a dyn Fn(&str) -> bool,
}

/// Reads `text` (file `file`) into `state`.
pub(crate) fn read_file(
    text: &str,
    file: FileId,
    state: &mut State,
    diagnostics: &mut Vec<Diagnostic>,
    check_field: &dyn Fn(&str) -> bool,
) {
    let whole = Span::new(file, 0, text.len() as u32);
    let yaml = match super::yaml::parse(text, file) {
        Ok(y) => y,
        Err(e) => {
            diagnostics.push(
                Diagnostic::error(Code::ERR_YAML_PARSE, e.message, e.span)
                    .in_item(ItemKind::RulesContent, ""),
            );
            return;
        }
    };
    let mut reader = Reader {
        doc: Doc { text, yaml: &yaml },
        state,
        diagnostics,
        check_field,
    };
    for &doc in &yaml.docs {
        let content_error = match &yaml.node(doc).kind {
            Kind::Null => continue,
            Kind::Scalar { .. } => Some("Rules content is not yaml"),
            Kind::Map(_) => Some("Rules content is not yaml array of objects"),
            Kind::Seq(_) => None,
        };
        if let Some(message) = content_error {
            let span = if yaml.span(doc).is_empty() {
                whole
            } else {
                yaml.span(doc)
            };
            reader
                .diagnostics
                .push(invalid(message, span).in_item(ItemKind::RulesContent, ""));
            continue;
        }
        for &item in yaml.seq(doc).unwrap_or_default() {
            if !yaml.is_null(item) {
                reader.read_item(item);
            }
        }
    }
}

/// Places a diagnostic in an exception (Falco's exception context; its name once known).
fn in_exception(name: &str) -> impl Fn(Diagnostic) -> Diagnostic + '_ {
    move |d| d.in_item(ItemKind::Exception, name)
}

/// What an item is, by the first of its classifying keys (Falco's order).
fn classify(yaml: &Yaml, item: NodeId) -> Option<(&'static str, ItemKind)> {
    [
        ("required_engine_version", ItemKind::RequiredEngineVersion),
        ("required_plugin_versions", ItemKind::RequiredPluginVersions),
        ("list", ItemKind::List),
        ("macro", ItemKind::Macro),
        ("rule", ItemKind::Rule),
    ]
    .into_iter()
    .find(|(k, _)| yaml.get(item, k).is_some())
}

impl Reader<'_> {
    fn yaml(&self) -> &Yaml {
        self.doc.yaml
    }

    /// The span used for problems of a whole item: its first `key: value` line, not the
    /// whole mapping (which may be dozens of lines).
    fn head(&self, item: NodeId) -> Span {
        let y = self.yaml();
        match y.map(item).and_then(|e| e.first()) {
            Some(&(k, v)) => {
                let vs = y.span(v);
                let ks = y.span(k);
                if vs.start >= ks.start
                    && vs.end > ks.end
                    && !matches!(y.node(v).kind, Kind::Map(_) | Kind::Seq(_))
                {
                    ks.cover(vs)
                } else {
                    ks
                }
            }
            None => y.span(item),
        }
    }

    fn read_item(&mut self, item: NodeId) {
        self.state.current_item = self.yaml().span(item);
        let y = self.yaml();
        if y.map(item).is_none() {
            let d = invalid(
                "Unexpected element type. Each element should be a yaml associative array.",
                y.span(item),
            );
            self.diagnostics
                .push(d.in_item(ItemKind::RulesContentItem, ""));
            return;
        }
        let Some((key, kind)) = classify(y, item) else {
            let d = Diagnostic::warning(
                Code::UNKNOWN_ITEM,
                "Unknown top level item",
                self.head(item),
            );
            self.diagnostics
                .push(d.in_item(ItemKind::RulesContentItem, ""));
            return;
        };
        let head = self.head(item);
        let name = match kind {
            ItemKind::List | ItemKind::Macro | ItemKind::Rule => {
                self.doc.string(item, key, Want::Required, head)
            }
            _ => Ok(None),
        };
        // The item's own name: a diagnostic may name something inside it (an exception).
        let item_name = name
            .as_ref()
            .ok()
            .copied()
            .flatten()
            .unwrap_or_default()
            .to_owned();
        let result = name.and_then(|name| {
            let name = name.unwrap_or_default();
            let r = match kind {
                ItemKind::RequiredEngineVersion => self.engine_version(item, head),
                ItemKind::RequiredPluginVersions => self.plugin_versions(item),
                ItemKind::List => self.list(item, name, head),
                ItemKind::Macro => self.makro(item, name, head),
                _ => self.rule(item, name, head),
            };
            r.map_err(|d| d.or_in_item(kind, name))
        });
        let Err(d) = result else { return };
        if d.message == ERROR_REDEFINED_SOURCE {
            self.state.inert.push(self.state.current_item);
        }
        let d = if d.item_kind.is_none() {
            d.in_item(kind, "")
        } else {
            d
        };
        let name = item_name;
        let key = match kind {
            ItemKind::List => Some(ItemKindKey::List),
            ItemKind::Macro => Some(ItemKindKey::Macro),
            ItemKind::Rule => Some(ItemKindKey::Rule),
            _ => None,
        };
        if MISSING_TARGET.contains(&d.message.as_str()) {
            // An append or enable naming an item whose own definition failed says nothing new.
            if key.is_some_and(|k| self.state.is_broken(k, &name)) {
                return;
            }
        } else if let Some(k) = key
            && !name.is_empty()
        {
            self.state.broken.insert((k, name));
        }
        self.diagnostics.push(d);
    }

    fn warn_unknown_keys(&mut self, item: NodeId, allowed: &[&str], kind: ItemKind, name: &str) {
        let y = self.doc.yaml;
        for &(k, _) in y.map(item).unwrap_or_default() {
            let key = y.scalar(k).unwrap_or_default();
            if !allowed.contains(&key) {
                let d = Diagnostic::warning(
                    Code::UNKNOWN_KEY,
                    crate::messages::unknown_key(key),
                    y.span(k),
                );
                self.diagnostics.push(d.in_item(kind, name));
            }
        }
    }

    fn engine_version(&mut self, item: NodeId, head: Span) -> Res<()> {
        let (node, text) = self
            .doc
            .scalar(item, "required_engine_version", Want::Required, head)?
            .unwrap_or_default();
        let span = self.yaml().span(node);
        let required = match super::decode::yaml_uint(text).filter(|&v| v <= u32::MAX as u64) {
            Some(minor) => (0, minor, 0),
            None => parse_semver(text).ok_or_else(|| {
                invalid(format!("Unable to parse engine version '{text}' as a semver string. Expected \"x.y.z\" semver format."), span)
            })?,
        };
        self.state.required_engine = self.state.required_engine.max(Some(required));
        let engine = crate::ENGINE_VERSION;
        if required.0 != engine.0 || required > engine {
            return Err(validation(
                format!(
                    "Rules require engine version {}, but engine version is {}",
                    version_str(required),
                    version_str(engine)
                ),
                span,
            ));
        }
        self.warn_unknown_keys(
            item,
            &["required_engine_version"],
            ItemKind::RequiredEngineVersion,
            "",
        );
        Ok(())
    }

    fn plugin_versions(&mut self, item: NodeId) -> Res<()> {
        let y = self.doc.yaml;
        let list = y.get(item, "required_plugin_versions").unwrap_or(item);
        let Some(plugins) = y.seq(list) else {
            return Err(invalid(
                "Value of required_plugin_versions must be a sequence",
                y.span(list),
            ));
        };
        for &plugin in plugins {
            if y.map(plugin).is_none() {
                return Err(invalid("Plugin version must be a mapping", y.span(plugin)));
            }
            let mut requirements = vec![self.plugin_requirement(plugin)?];
            if let Some(alts) = y.get(plugin, "alternatives") {
                let Some(alts) = y.seq(alts) else {
                    return Err(invalid(
                        "Value of plugin version alternatives must be a sequence",
                        y.span(alts),
                    ));
                };
                for &alt in alts {
                    if y.map(alt).is_none() {
                        return Err(invalid(
                            "Plugin version alternative must be a mapping",
                            y.span(alt),
                        ));
                    }
                    requirements.push(self.plugin_requirement(alt)?);
                }
            }
            let mut seen = BTreeSet::new();
            for (name, version) in &requirements {
                if parse_semver(version).is_none() {
                    return Err(validation(
                        format!("Invalid required version '{version}' for plugin '{name}'"),
                        y.span(plugin),
                    ));
                }
                if !seen.insert(name.clone()) {
                    return Err(validation(
                        format!(
                            "Defined multiple alternative version requirements for plugin '{name}'"
                        ),
                        y.span(plugin),
                    ));
                }
            }
            // Requirements are checked against loaded plugins by Falco, not by its loader; the
            // `container` plugin (whose fields are in the catalogue) counts as loaded, and no
            // other plugin's fields are known, so nothing more is checked here.
        }
        self.warn_unknown_keys(
            item,
            &["required_plugin_versions"],
            ItemKind::RequiredPluginVersions,
            "",
        );
        Ok(())
    }

    fn plugin_requirement(&self, node: NodeId) -> Res<(String, String)> {
        let span = self.yaml().span(node);
        let name = self
            .doc
            .string(node, "name", Want::Required, span)?
            .unwrap_or_default();
        let version = self
            .doc
            .string(node, "version", Want::Required, span)?
            .unwrap_or_default();
        Ok((name.to_owned(), version.to_owned()))
    }

    /// `append: true` (with its deprecation warning) and the `override` map.
    fn append_flag(&mut self, item: NodeId, head: Span, kind: ItemKind, name: &str) -> Res<bool> {
        let append = self
            .doc
            .bool(item, "append", Want::Optional, head)?
            .unwrap_or(false);
        if append {
            let span = self
                .yaml()
                .get(item, "append")
                .map_or(head, |v| self.yaml().span(v));
            self.diagnostics.push(
                Diagnostic::warning(Code::DEPRECATED_ITEM, WARNING_APPEND, span)
                    .in_item(kind, name),
            );
        }
        Ok(append)
    }

    /// Falco's `decode_overrides`: `(appended keys, replaced keys)`.
    fn overrides(
        &self,
        item: NodeId,
        appendable: &[&str],
        replaceable: &[&str],
    ) -> Res<(Vec<String>, Vec<String>)> {
        let y = self.yaml();
        let (mut append, mut replace) = (Vec::new(), Vec::new());
        let Some(ov) = y.get(item, "override") else {
            return Ok((append, replace));
        };
        for &(k, v) in y.map(ov).unwrap_or_default() {
            let key = y.scalar(k).unwrap_or_default();
            let op = y.scalar(v).unwrap_or_default();
            let (can_append, can_replace) = (appendable.contains(&key), replaceable.contains(&key));
            match op {
                "append" if !can_append => {
                    return Err(invalid(
                        format!("Key '{key}' cannot be appended to, use 'replace' instead"),
                        y.span(k),
                    ));
                }
                "replace" if !can_replace => {
                    return Err(invalid(
                        format!("Key '{key}' cannot be replaced"),
                        y.span(k),
                    ));
                }
                "append" => append.push(key.to_owned()),
                "replace" => replace.push(key.to_owned()),
                _ => {
                    let mut allowed = String::new();
                    if can_append {
                        allowed.push_str("append ");
                    }
                    if can_replace {
                        allowed.push_str("replace ");
                    }
                    return Err(invalid(
                        format!(
                            "Invalid override operation for key '{key}': '{op}'. Allowed values are: {allowed}"
                        ),
                        y.span(v),
                    ));
                }
            }
        }
        Ok((append, replace))
    }

    fn list(&mut self, item: NodeId, name: &str, head: Span) -> Res<()> {
        if !is_barestr(name) {
            let d = Diagnostic::warning(
                Code::INVALID_LIST_NAME,
                "List has an invalid name. List names should match a regular expression: ([^()\"'[:space:]=,]+)",
                head,
            );
            self.diagnostics.push(d.in_item(ItemKind::List, name));
        }
        let items = self.doc.seq(item, "items", true, head)?.unwrap_or_default();
        let items: Vec<MappedText> = items.iter().map(|&i| self.doc.mapped_node(i)).collect();
        let append = self.append_flag(item, head, ItemKind::List, name)?;
        let (ov_append, ov_replace) = self.overrides(item, &["items"], &["items"])?;
        if append && !(ov_append.is_empty() && ov_replace.is_empty()) {
            return Err(invalid(ERROR_OVERRIDE_APPEND, head));
        }
        if append || !ov_append.is_empty() {
            let id = self.state.bump(ItemKindKey::List, name);
            let prev = self
                .state
                .lists
                .get_mut(name)
                .ok_or_else(|| validation(ERROR_NO_PREVIOUS_LIST, head))?;
            prev.items.extend(items);
            prev.visibility = id;
        } else {
            self.state.define_list(ListDef {
                name: name.to_owned(),
                items,
                span: head,
                index: 0,
                visibility: 0,
            });
            self.state
                .broken
                .remove(&(ItemKindKey::List, name.to_owned()));
        }
        self.warn_unknown_keys(item, LIST_KEYS, ItemKind::List, name);
        Ok(())
    }

    fn makro(&mut self, item: NodeId, name: &str, head: Span) -> Res<()> {
        if !is_identifier(name) {
            let d = Diagnostic::warning(
                Code::INVALID_MACRO_NAME,
                "Macro has an invalid name. Macro names should match a regular expression: ([a-zA-Z]+[a-zA-Z0-9_]*)",
                head,
            );
            self.diagnostics.push(d.in_item(ItemKind::Macro, name));
        }
        let cond = self
            .doc
            .mapped(item, "condition", Want::Required, head)?
            .unwrap_or_default();
        let append = self.append_flag(item, head, ItemKind::Macro, name)?;
        let (ov_append, ov_replace) = self.overrides(item, &["condition"], &["condition"])?;
        if append && !(ov_append.is_empty() && ov_replace.is_empty()) {
            return Err(invalid(ERROR_OVERRIDE_APPEND, head));
        }
        if append || !ov_append.is_empty() {
            let id = self.state.bump(ItemKindKey::Macro, name);
            let prev = self
                .state
                .macros
                .get_mut(name)
                .ok_or_else(|| validation(ERROR_NO_PREVIOUS_MACRO, head))?;
            let at = cond.whole_span();
            prev.cond
                .push_fixed(" ", Span::new(at.file, at.start, at.start));
            prev.cond.push(&cond);
            prev.visibility = id;
        } else {
            self.state.define_macro(MacroDef {
                name: name.to_owned(),
                cond,
                span: head,
                index: 0,
                visibility: 0,
            });
            self.state
                .broken
                .remove(&(ItemKindKey::Macro, name.to_owned()));
        }
        self.warn_unknown_keys(item, MACRO_KEYS, ItemKind::Macro, name);
        Ok(())
    }

    fn rule(&mut self, item: NodeId, name: &str, head: Span) -> Res<()> {
        let source = self
            .doc
            .string(item, "source", Want::OptionalEmpty, head)?
            .unwrap_or_default()
            .to_owned();
        let append = self.append_flag(item, head, ItemKind::Rule, name)?;
        let (ov_append, ov_replace) = self.overrides(item, RULE_APPENDABLE, RULE_REPLACEABLE)?;
        let has_overrides = !ov_append.is_empty() || !ov_replace.is_empty();
        if append && has_overrides {
            return Err(invalid(ERROR_OVERRIDE_APPEND, head));
        }
        if has_overrides {
            self.rule_override(item, name, head, &source, &ov_append, &ov_replace)?;
        } else if append {
            let mut update = Update {
                source: source.clone(),
                ..Update::default()
            };
            update.cond = self.doc.mapped(item, "condition", Want::Optional, head)?;
            if self.yaml().get(item, "exceptions").is_some() {
                update.exceptions = Some(self.exceptions(item, true)?);
            }
            self.append_rule(name, head, update)?;
        } else if ["condition", "output", "desc", "priority"]
            .iter()
            .all(|k| self.yaml().get(item, k).is_none())
        {
            let enabled = self
                .doc
                .bool(item, "enabled", Want::Required, head)?
                .unwrap_or(true);
            self.diagnostics.push(
                Diagnostic::warning(Code::DEPRECATED_ITEM, WARNING_ENABLED, head)
                    .in_item(ItemKind::Rule, name),
            );
            let prev = self
                .state
                .rules
                .get_mut(name)
                .ok_or_else(|| validation(ERROR_NO_PREVIOUS_ENABLE, head))?;
            prev.enabled = enabled;
        } else {
            self.define_rule(item, name, head)?;
        }
        self.warn_unknown_keys(item, RULE_KEYS, ItemKind::Rule, name);
        Ok(())
    }

    fn define_rule(&mut self, item: NodeId, name: &str, head: Span) -> Res<()> {
        // Falco names only the first missing key; naming all of them saves a round trip.
        let mut missing: Vec<Diagnostic> = ["condition", "output", "desc", "priority"]
            .iter()
            .filter(|k| self.yaml().get(item, k).is_none())
            .map(|k| invalid(crate::messages::missing_key(k), head))
            .collect();
        if let Some(last) = missing.pop() {
            self.diagnostics
                .extend(missing.into_iter().map(|d| d.in_item(ItemKind::Rule, name)));
            return Err(last);
        }
        let doc = &self.doc;
        let cond = doc
            .mapped(item, "condition", Want::Required, head)?
            .unwrap_or_default();
        let output = doc
            .mapped(item, "output", Want::Required, head)?
            .unwrap_or_default()
            .trimmed();
        let desc = doc
            .string(item, "desc", Want::Required, head)?
            .unwrap_or_default()
            .to_owned();
        let (pri_node, pri) = doc
            .scalar(item, "priority", Want::Required, head)?
            .unwrap_or_default();
        let priority = Priority::parse(pri)
            .ok_or_else(|| invalid("Invalid priority", doc.yaml.span(pri_node)))?;
        let source = doc
            .string(item, "source", Want::Optional, head)?
            .unwrap_or("syscall")
            .to_owned();
        let enabled = doc
            .bool(item, "enabled", Want::Optional, head)?
            .unwrap_or(true);
        let capture = doc
            .bool(item, "capture", Want::Optional, head)?
            .unwrap_or(false);
        let capture_duration = doc
            .uint(item, "capture_duration", Want::Optional, head)?
            .unwrap_or(0);
        let warn_evttypes = doc
            .bool(item, "warn_evttypes", Want::Optional, head)?
            .unwrap_or(true);
        let skip_if_unknown_filter = doc
            .bool(item, "skip-if-unknown-filter", Want::Optional, head)?
            .unwrap_or(false);
        let tags = self.tags(item, head)?.unwrap_or_default();
        let mut exceptions = self.exceptions(item, false)?;

        self.check_source(name, &source, head)?;
        let unknown_source = !KNOWN_SOURCES.contains(&source.as_str());
        if unknown_source {
            let d = Diagnostic::warning(
                Code::UNKNOWN_SOURCE,
                format!("Unknown source {source}, skipping"),
                head,
            );
            self.diagnostics.push(d.in_item(ItemKind::Rule, name));
        }
        for ex in &mut exceptions {
            exceptions::validate(ex, (!unknown_source).then_some(self.check_field))?;
        }
        self.state.define_rule(RuleDef {
            name: name.to_owned(),
            span: head,
            cond,
            output,
            desc,
            priority,
            source,
            unknown_source,
            enabled,
            tags,
            exceptions,
            warn_evttypes,
            skip_if_unknown_filter,
            capture,
            capture_duration,
            index: 0,
            visibility: 0,
        });
        self.state
            .broken
            .remove(&(ItemKindKey::Rule, name.to_owned()));
        Ok(())
    }

    /// Falco's `find_prev_rule` source check.
    fn check_source(&self, name: &str, source: &str, head: Span) -> Res<()> {
        match self.state.rules.get(name) {
            Some(prev)
                if !prev.source.is_empty() && !source.is_empty() && prev.source != source =>
            {
                Err(validation(ERROR_REDEFINED_SOURCE, head))
            }
            _ => Ok(()),
        }
    }

    fn tags(&self, item: NodeId, head: Span) -> Res<Option<BTreeSet<String>>> {
        let y = self.yaml();
        Ok(self.doc.seq(item, "tags", false, head)?.map(|ids| {
            ids.iter()
                .filter_map(|&i| y.scalar(i))
                .map(str::to_owned)
                .collect()
        }))
    }

    fn rule_override(
        &mut self,
        item: NodeId,
        name: &str,
        head: Span,
        source: &str,
        ov_append: &[String],
        ov_replace: &[String],
    ) -> Res<()> {
        let y = self.doc.yaml;
        let mut expected: Vec<&str> = RULE_APPENDABLE
            .iter()
            .chain(RULE_REPLACEABLE)
            .copied()
            .filter(|k| y.get(item, k).is_some())
            .collect();
        expected.sort_unstable();
        expected.dedup();
        for (keys, op) in [(ov_append, "append"), (ov_replace, "replace")] {
            if keys.is_empty() {
                continue;
            }
            let mut update = Update::default();
            let ov = y.get(item, "override");
            for key in [
                "condition",
                "exceptions",
                "output",
                "desc",
                "tags",
                "priority",
                "capture",
                "capture_duration",
                "enabled",
                "warn_evttypes",
                "skip-if-unknown-filter",
            ] {
                if !keys.iter().any(|k| k == key) {
                    continue;
                }
                let Some(pos) = expected.iter().position(|k| *k == key) else {
                    let span = ov
                        .and_then(|ov| y.entry(ov, key))
                        .map_or(head, |(k, _)| y.span(k));
                    return Err(invalid(
                        format!(
                            "An {op} override for '{key}' was specified but '{key}' is not defined"
                        ),
                        span,
                    ));
                };
                expected.remove(pos);
                let doc = &self.doc;
                match key {
                    "condition" => {
                        update.source = source.to_owned();
                        update.cond = doc.mapped(item, key, Want::Required, head)?;
                    }
                    "exceptions" => {
                        update.exceptions = Some(self.exceptions(item, op == "append")?)
                    }
                    "output" => update.output = doc.mapped(item, key, Want::Required, head)?,
                    "desc" => {
                        update.desc = doc
                            .string(item, key, Want::Required, head)?
                            .map(str::to_owned)
                    }
                    "tags" => update.tags = self.tags(item, head)?,
                    "priority" => {
                        let (node, p) = doc
                            .scalar(item, key, Want::Required, head)?
                            .unwrap_or_default();
                        update.priority = Some(
                            Priority::parse(p)
                                .ok_or_else(|| invalid("Invalid priority", y.span(node)))?,
                        );
                    }
                    "capture" => update.capture = doc.bool(item, key, Want::Required, head)?,
                    "capture_duration" => {
                        update.capture_duration = doc.uint(item, key, Want::Required, head)?
                    }
                    "enabled" => update.enabled = doc.bool(item, key, Want::Required, head)?,
                    "warn_evttypes" => {
                        update.warn_evttypes = doc.bool(item, key, Want::Required, head)?
                    }
                    _ => {
                        update.skip_if_unknown_filter = doc.bool(item, key, Want::Required, head)?
                    }
                }
            }
            if op == "append" {
                self.append_rule(name, head, update)?;
            } else {
                self.replace_rule(name, head, update)?;
            }
        }
        if let Some(key) = expected.first() {
            let span = y.entry(item, key).map_or(head, |(k, _)| y.span(k));
            return Err(invalid(
                format!(
                    "Unexpected key '{key}': no corresponding entry under 'override' is defined."
                ),
                span,
            ));
        }
        Ok(())
    }

    /// The checks of an append/replace target: same source, exists. Returns whether the
    /// target's source is known (exception fields are checked only then).
    fn update_target(&self, name: &str, head: Span, update: &Update, missing: &str) -> Res<bool> {
        self.check_source(name, &update.source, head)?;
        let prev = self
            .state
            .rules
            .get(name)
            .ok_or_else(|| validation(missing, head))?;
        Ok(!prev.unknown_source)
    }

    fn append_rule(&mut self, name: &str, head: Span, mut update: Update) -> Res<()> {
        let known = self.update_target(name, head, &update, ERROR_NO_PREVIOUS_RULE_APPEND)?;
        if !update.has_any_value() {
            return Err(validation(
                "Appended rule must have exceptions or condition property",
                head,
            ));
        }
        let check_field = self.check_field;
        let id = self.state.bump(ItemKindKey::Rule, name);
        let prev = self.state.rules.get_mut(name).expect("checked above");
        // Validate new exceptions before changing anything, so a failed append leaves the rule as it was.
        if let Some(exs) = &mut update.exceptions {
            for ex in exs.iter_mut() {
                match prev.exceptions.iter().find(|p| p.name == ex.name) {
                    None => {
                        if !ex.has_fields() {
                            return Err(ex.item(validation(
                                "Rule exception must have fields property with a list of fields",
                                ex.span,
                            )));
                        }
                        if ex.values.is_empty() {
                            return Err(ex.item(validation(
                                "Rule exception must have values property with a list of values",
                                ex.span,
                            )));
                        }
                        exceptions::validate(ex, known.then_some(check_field))?;
                    }
                    Some(_) if ex.has_fields() => {
                        return Err(ex.item(validation(
                            "Can not append exception fields to existing exception, only values",
                            ex.span,
                        )));
                    }
                    Some(_) if ex.has_comps() => {
                        return Err(ex.item(validation(
                            "Can not append exception comps to existing exception, only values",
                            ex.span,
                        )));
                    }
                    Some(_) => {}
                }
            }
        }
        for (target, addition) in [
            (&mut prev.cond, update.cond),
            (&mut prev.output, update.output),
        ] {
            if let Some(a) = addition.filter(|a| !a.is_empty()) {
                let at = a.whole_span();
                target.push_fixed(" ", Span::new(at.file, at.start, at.start));
                target.push(&a);
            }
        }
        if let Some(d) = update.desc.filter(|d| !d.is_empty()) {
            prev.desc.push(' ');
            prev.desc.push_str(&d);
        }
        if let Some(tags) = update.tags {
            prev.tags.extend(tags);
        }
        for ex in update.exceptions.unwrap_or_default() {
            match prev.exceptions.iter_mut().find(|p| p.name == ex.name) {
                Some(p) => p.values.extend(ex.values),
                None => prev.exceptions.push(ex),
            }
        }
        prev.visibility = id;
        Ok(())
    }

    fn replace_rule(&mut self, name: &str, head: Span, update: Update) -> Res<()> {
        let known = self.update_target(name, head, &update, ERROR_NO_PREVIOUS_RULE_REPLACE)?;
        if !update.has_any_value() {
            return Err(validation(
                "The rule must have at least one field that can be replaced",
                head,
            ));
        }
        let mut exceptions = update.exceptions;
        if let Some(exs) = &mut exceptions {
            for ex in exs.iter_mut() {
                exceptions::validate(ex, known.then_some(self.check_field))?;
            }
        }
        let id = self.state.bump(ItemKindKey::Rule, name);
        let prev = self.state.rules.get_mut(name).expect("checked above");
        if let Some(c) = update.cond {
            prev.cond = c;
        }
        if let Some(o) = update.output {
            prev.output = o;
        }
        if let Some(d) = update.desc {
            prev.desc = d;
        }
        if let Some(t) = update.tags {
            prev.tags = t;
        }
        if let Some(e) = exceptions {
            prev.exceptions = e;
        }
        macro_rules! set {
            ($($f:ident),*) => { $(if let Some(v) = update.$f { prev.$f = v; })* };
        }
        set!(
            priority,
            capture,
            capture_duration,
            enabled,
            warn_evttypes,
            skip_if_unknown_filter
        );
        prev.visibility = id;
        Ok(())
    }

    /// Falco's `read_rule_exceptions`.
    fn exceptions(&mut self, item: NodeId, append: bool) -> Res<Vec<Exception>> {
        let y = self.doc.yaml;
        let mut out: Vec<Exception> = Vec::new();
        let Some(exs) = y.get(item, "exceptions").filter(|&n| !y.is_null(n)) else {
            return Ok(out);
        };
        let Some(list) = y.seq(exs) else {
            return Err(invalid("Rule exceptions must be a sequence", y.span(exs)));
        };
        for &ex in list {
            let span = y.span(ex);
            if y.map(ex).is_none() {
                return Err(in_exception("")(invalid(
                    "Rule exception must be a mapping",
                    span,
                )));
            }
            let name = self
                .doc
                .string(ex, "name", Want::Required, span)
                .map_err(in_exception(""))?
                .unwrap_or_default()
                .to_owned();
            if out.iter().any(|e| e.name == name) {
                let d = Diagnostic::warning(
                    Code::EXCEPTION_NAME_NOT_UNIQUE,
                    format!("Multiple definitions of exception '{name}' in the same rule"),
                    span,
                );
                self.diagnostics.push(in_exception(&name)(d));
            }
            let fields = match y.get(ex, "fields") {
                Some(f) => Some(self.entry(f).map_err(in_exception(&name))?),
                None if append => None,
                None => {
                    return Err(in_exception(&name)(invalid(
                        crate::messages::missing_key("fields"),
                        span,
                    )));
                }
            };
            let comps = y
                .get(ex, "comps")
                .map(|c| self.entry(c))
                .transpose()
                .map_err(in_exception(&name))?;
            let mut values = Vec::new();
            match y.get(ex, "values") {
                Some(vals) => {
                    let Some(vals) = y.seq(vals) else {
                        return Err(in_exception(&name)(invalid(
                            "Rule exception values must be a sequence",
                            y.span(vals),
                        )));
                    };
                    for &v in vals {
                        values.push(self.entry(v).map_err(in_exception(&name))?);
                    }
                }
                None => {
                    if append {
                        let d = Diagnostic::warning(
                            Code::APPEND_NO_VALUES,
                            "Overriding/appending exception with no values",
                            span,
                        );
                        self.diagnostics.push(in_exception(&name)(d));
                    }
                }
            }
            out.push(Exception {
                name,
                span,
                fields,
                comps,
                values,
            });
        }
        Ok(out)
    }

    /// Falco's `decode_exception_info_entry` (scalars and nested sequences).
    fn entry(&self, node: NodeId) -> Res<Entry> {
        let y = self.yaml();
        let span = y.span(node);
        match &y.node(node).kind {
            Kind::Scalar { value, .. } if value.is_empty() => {
                Err(invalid("Value must be non-empty", span))
            }
            Kind::Scalar { .. } => Ok(Entry::Scalar(self.doc.mapped_node(node))),
            Kind::Seq(items) => Ok(Entry::List(
                items.iter().map(|&i| self.entry(i)).collect::<Res<_>>()?,
                span,
            )),
            // yaml-cpp leaves the entry empty; the shape checks report it later.
            Kind::Null | Kind::Map(_) => Ok(Entry::List(Vec::new(), span)),
        }
    }
}

/// A rule append or replace (falco `rule_update_info`).
#[derive(Default)]
struct Update {
    source: String,
    cond: Option<MappedText>,
    output: Option<MappedText>,
    desc: Option<String>,
    tags: Option<BTreeSet<String>>,
    exceptions: Option<Vec<Exception>>,
    priority: Option<Priority>,
    capture: Option<bool>,
    capture_duration: Option<u64>,
    enabled: Option<bool>,
    warn_evttypes: Option<bool>,
    skip_if_unknown_filter: Option<bool>,
}

impl Update {
    fn has_any_value(&self) -> bool {
        self.cond.is_some()
            || self.output.is_some()
            || self.desc.is_some()
            || self.tags.is_some()
            || self.exceptions.is_some()
            || self.priority.is_some()
            || self.capture.is_some()
            || self.capture_duration.is_some()
            || self.enabled.is_some()
            || self.warn_evttypes.is_some()
            || self.skip_if_unknown_filter.is_some()
    }
}

/// `[a-zA-Z]+[a-zA-Z0-9_]*`, the macro-name (identifier) token.
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut b = s.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphabetic())
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// `[^()"'[:space:]=,]+`, the bare-string token (list names).
pub(crate) fn is_barestr(s: &str) -> bool {
    !s.is_empty()
        && !s.chars().any(|c| {
            matches!(c, '(' | ')' | '"' | '\'' | '=' | ',')
                || c.is_ascii_whitespace()
                || c == '\x0b'
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_like_sinsp() {
        assert_eq!(parse_semver("0.57.0"), Some((0, 57, 0)));
        assert_eq!(parse_semver("1.2.3-rc1"), Some((1, 2, 3)));
        assert_eq!(parse_semver("1.2"), None);
        assert_eq!(parse_semver("a.b.c"), None);
    }

    #[test]
    fn name_tokens() {
        assert!(is_identifier("spawned_process"));
        assert!(!is_identifier("test-macro"));
        assert!(!is_identifier("1abc"));
        assert!(is_barestr("my-list.x"));
        assert!(!is_barestr("test list"));
    }
}
