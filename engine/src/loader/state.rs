//! The collected definitions of every file read so far (Falco's `rule_loader::collector`):
//! lists, macros and rules with their append/override history already applied.

use super::exceptions::Exception;
use super::mapped::MappedText;
use crate::diagnostic::ItemKind;
use crate::rule::Priority;
use crate::span::Span;
use std::collections::{BTreeSet, HashMap, HashSet};

#[derive(Debug, Clone)]
pub(crate) struct ListDef {
    pub name: String,
    pub items: Vec<MappedText>,
    pub span: Span,
    /// Position of the first definition among all lists/macros/rules.
    pub index: u32,
    /// Position of the last (re)definition or append.
    pub visibility: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct MacroDef {
    pub name: String,
    pub cond: MappedText,
    pub span: Span,
    pub index: u32,
    pub visibility: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct RuleDef {
    pub name: String,
    pub span: Span,
    pub cond: MappedText,
    pub output: MappedText,
    pub desc: String,
    pub priority: Priority,
    pub source: String,
    pub unknown_source: bool,
    pub enabled: bool,
    pub tags: BTreeSet<String>,
    pub exceptions: Vec<Exception>,
    pub warn_evttypes: bool,
    pub skip_if_unknown_filter: bool,
    pub capture: bool,
    pub capture_duration: u64,
    pub index: u32,
    pub visibility: u32,
}

/// Definitions by name, in first-definition order.
#[derive(Debug, Clone)]
pub(crate) struct Named<T> {
    pub items: Vec<T>,
    by_name: HashMap<String, usize>,
}

impl<T> Default for Named<T> {
    fn default() -> Self {
        Named {
            items: Vec::new(),
            by_name: HashMap::new(),
        }
    }
}

impl<T> Named<T> {
    pub fn get(&self, name: &str) -> Option<&T> {
        self.by_name.get(name).map(|&i| &self.items[i])
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut T> {
        self.by_name.get(name).map(|&i| &mut self.items[i])
    }

    pub fn position(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }
}

/// Something that is stored under a name with Falco's index/visibility bookkeeping.
pub(crate) trait Definition {
    fn name(&self) -> &str;
    fn ids(&mut self) -> (&mut u32, &mut u32);
}

macro_rules! definition {
    ($t:ty) => {
        impl Definition for $t {
            fn name(&self) -> &str {
                &self.name
            }
            fn ids(&mut self) -> (&mut u32, &mut u32) {
                (&mut self.index, &mut self.visibility)
            }
        }
    };
}
definition!(ListDef);
definition!(MacroDef);
definition!(RuleDef);

#[derive(Debug, Clone, Default)]
pub(crate) struct State {
    pub lists: Named<ListDef>,
    pub macros: Named<MacroDef>,
    pub rules: Named<RuleDef>,
    next_id: u32,
    /// Items whose definition failed to read: later appends/enables naming them are not
    /// reported again (Falco would have stopped at the first error anyway).
    pub broken: HashSet<(ItemKindKey, String)>,
    /// The YAML mapping of the item being read (set by the reader for every entry).
    pub current_item: Span,
    /// For every name, the entries that make up its current definition: the definition and the
    /// appends/overrides applied to it since.
    contributors: HashMap<(ItemKindKey, String), Vec<Span>>,
    /// Entries that take no part in what was loaded: definitions replaced by a later
    /// redefinition (with the appends made to them), and redefinitions rejected for naming
    /// another source. The linter stays silent on them except to explain the loader.
    pub inert: Vec<Span>,
    /// The highest `required_engine_version` the files declare (a node whose engine is older
    /// cannot load them).
    pub required_engine: Option<(u64, u64, u64)>,
}

/// `ItemKind` is not `Ord`/`Hash`-friendly for every use; this is the subset that has names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ItemKindKey {
    List,
    Macro,
    Rule,
}

impl From<ItemKindKey> for ItemKind {
    fn from(k: ItemKindKey) -> ItemKind {
        match k {
            ItemKindKey::List => ItemKind::List,
            ItemKindKey::Macro => ItemKind::Macro,
            ItemKindKey::Rule => ItemKind::Rule,
        }
    }
}

impl State {
    /// Falco's `define_info`: a redefinition replaces the earlier one in place, keeping its index.
    pub fn define<T: Definition>(named: &mut Named<T>, next_id: &mut u32, mut def: T) {
        let id = *next_id;
        *next_id += 1;
        if let Some(&i) = named.by_name.get(def.name()) {
            let index = *named.items[i].ids().0;
            let (di, dv) = def.ids();
            *di = index;
            *dv = id;
            named.items[i] = def;
        } else {
            let (di, dv) = def.ids();
            *di = id;
            *dv = id;
            named
                .by_name
                .insert(def.name().to_owned(), named.items.len());
            named.items.push(def);
        }
    }

    pub fn define_list(&mut self, def: ListDef) {
        self.defined(ItemKindKey::List, &def.name);
        Self::define(&mut self.lists, &mut self.next_id, def);
    }

    pub fn define_macro(&mut self, def: MacroDef) {
        self.defined(ItemKindKey::Macro, &def.name);
        Self::define(&mut self.macros, &mut self.next_id, def);
    }

    pub fn define_rule(&mut self, def: RuleDef) {
        self.defined(ItemKindKey::Rule, &def.name);
        Self::define(&mut self.rules, &mut self.next_id, def);
    }

    /// The current entry (re)defines `name`: whatever made up an earlier definition is inert.
    fn defined(&mut self, kind: ItemKindKey, name: &str) {
        let key = (kind, name.to_owned());
        if let Some(earlier) = self.contributors.insert(key, vec![self.current_item]) {
            self.inert.extend(earlier);
        }
    }

    /// A new id for an append/override of `name` by the current entry (Falco's
    /// `append_info`/`replace_info`).
    pub fn bump(&mut self, kind: ItemKindKey, name: &str) -> u32 {
        self.contributors
            .entry((kind, name.to_owned()))
            .or_default()
            .push(self.current_item);
        self.next_id += 1;
        self.next_id - 1
    }

    pub fn is_broken(&self, kind: ItemKindKey, name: &str) -> bool {
        self.broken.contains(&(kind, name.to_owned()))
    }
}
