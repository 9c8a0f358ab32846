//! `pmatch`: path-prefix matching by whole components, components may be globs (libs
//! `path_prefix_search`). `/opt/dir` matches `/opt/dir` and `/opt/dir/x`, not `/opt/dir2`.

use super::glob::Glob;

#[derive(Debug, Clone)]
enum Component {
    Literal(Box<str>),
    Glob(Glob),
}

impl Component {
    fn matches(&self, c: &str) -> bool {
        match self {
            Component::Literal(l) => **l == *c,
            Component::Glob(g) => g.matches(c),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct PrefixSet {
    prefixes: Vec<Vec<Component>>,
}

fn components(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty())
}

impl PrefixSet {
    pub(crate) fn new<'a>(paths: impl IntoIterator<Item = &'a str>) -> PrefixSet {
        let prefixes = paths
            .into_iter()
            .map(|p| {
                components(p)
                    .map(|c| {
                        let g = Glob::new(c, false);
                        if g.is_literal() {
                            Component::Literal(c.into())
                        } else {
                            Component::Glob(g)
                        }
                    })
                    .collect()
            })
            .collect();
        PrefixSet { prefixes }
    }

    pub(crate) fn matches(&self, path: &str) -> bool {
        self.prefixes.iter().any(|prefix| {
            let mut parts = components(path);
            prefix
                .iter()
                .all(|want| parts.next().is_some_and(|got| want.matches(got)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::PrefixSet;

    #[test]
    fn component_prefixes() {
        let s = PrefixSet::new(["/opt/dir", "/var/*/log"]);
        assert!(s.matches("/opt/dir"));
        assert!(s.matches("/opt/dir/sub/file"));
        assert!(!s.matches("/opt/dir2"));
        assert!(!s.matches("/opt/di"));
        assert!(!s.matches("/opt"));
        assert!(s.matches("/var/app/log/x"));
        assert!(!s.matches("/var/app/logs"));
        assert!(!PrefixSet::new([]).matches("/x"));
    }
}
