//! The routing tree: patterns filed by host, then method, then path segment, so finding
//! the pattern for a request costs a few map look-ups per segment however many patterns
//! are registered (Go's `routingNode`).
//!
//! Previous step: `conflict.rs` refused conflicting patterns. That is what makes the
//! search order below find the most specific pattern first: at each segment a literal
//! child is tried before `{x}`, and `{x}` before `{x...}`, backtracking when a branch
//! fails deeper down. Leaves hold route numbers; the mux keeps the routes themselves.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use super::path::unescape;
use super::pattern::{Pattern, Segment};

/// Children of a node keyed by a literal segment. A node with a few children is
/// scanned, a node with many is hashed: most nodes have one or two children, a few (an
/// API's resource names) have hundreds.
#[derive(Debug)]
enum Children {
    Few(Vec<(Box<str>, Node)>),
    Many(HashMap<Box<str>, Node, BuildHasherDefault<Fnv>>),
}

/// FNV-1a: a fast hash for the short segment keys. An unkeyed hash is safe here: the keys
/// in the map are the programmer's patterns, and a request only looks them up, so it
/// cannot fill a bucket with colliding keys.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325) // the FNV offset basis
    }
}

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Past this many children a node switches from scanning to hashing.
const MAX_SCANNED_CHILDREN: usize = 8;

impl Default for Children {
    fn default() -> Self {
        Children::Few(Vec::new())
    }
}

impl Children {
    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Children::Few(few) => few.iter().find(|(k, _)| &**k == key).map(|(_, n)| n),
            Children::Many(many) => many.get(key),
        }
    }

    fn get_or_insert(&mut self, key: &str) -> &mut Node {
        if let Children::Few(few) = self {
            if few.len() >= MAX_SCANNED_CHILDREN && !few.iter().any(|(k, _)| &**k == key) {
                *self = Children::Many(std::mem::take(few).into_iter().collect());
            }
        }
        match self {
            Children::Few(few) => match few.iter().position(|(k, _)| &**k == key) {
                Some(i) => &mut few[i].1,
                None => {
                    few.push((key.into(), Node::default()));
                    &mut few.last_mut().expect("just pushed").1
                }
            },
            Children::Many(many) => many.entry(key.into()).or_default(),
        }
    }
}

/// One position in a path. Every field is optional: a node is a leaf, an inner node, or
/// both (`/a` and `/a/b` share the node for `a`).
#[derive(Debug, Default)]
struct Node {
    /// The route of a pattern whose segments end here.
    leaf: Option<usize>,
    /// Literal next segments (percent-decoded).
    literals: Children,
    /// `{name}`: any one next segment.
    single: Option<Box<Node>>,
    /// `{$}`: the route of a pattern that ends with a slash here.
    end_slash: Option<usize>,
    /// `{name...}` or a trailing slash: the route that takes the rest of the path.
    multi: Option<Multi>,
}

/// The leaf of a multi wildcard.
#[derive(Debug)]
struct Multi {
    route: usize,
    /// `{name...}` captures the rest of the path; a trailing slash captures nothing.
    named: bool,
}

/// The patterns of one host (or of any host): by method, then by path.
#[derive(Debug, Default)]
struct Methods {
    /// Patterns with a method, by method. Few methods are in use, so a scanned list.
    by_method: Vec<(Box<str>, Node)>,
    /// Patterns without a method.
    any_method: Node,
}

/// The routing tree of a [`ServeMux`](crate::ServeMux).
#[derive(Debug, Default)]
pub(crate) struct Tree {
    by_host: HashMap<Box<str>, Methods>,
    any_host: Methods,
}

impl Tree {
    /// Files `pattern` as route number `route`. The pattern must not conflict with any
    /// already filed, so its leaf is free.
    pub(crate) fn insert(&mut self, pattern: &Pattern, route: usize) {
        let methods = match &pattern.host {
            Some(host) => self.by_host.entry(host.clone()).or_default(),
            None => &mut self.any_host,
        };
        let mut node = match &pattern.method {
            Some(method) => match methods.by_method.iter().position(|(m, _)| m == method) {
                Some(i) => &mut methods.by_method[i].1,
                None => {
                    methods.by_method.push((method.clone(), Node::default()));
                    &mut methods.by_method.last_mut().expect("just pushed").1
                }
            },
            None => &mut methods.any_method,
        };
        for segment in &pattern.segments {
            node = match segment {
                Segment::Literal(text) => node.literals.get_or_insert(text),
                Segment::Wild(_) => node.single.get_or_insert_with(Box::default),
                Segment::EndSlash => return set_leaf(&mut node.end_slash, route),
                Segment::Multi(name) => {
                    debug_assert!(node.multi.is_none(), "conflicting patterns were filed");
                    node.multi = Some(Multi {
                        route,
                        named: name.is_some(),
                    });
                    return;
                }
            };
        }
        set_leaf(&mut node.leaf, route);
    }

    /// The route for a request to `host` (port stripped; may be empty) with `method` and
    /// `path` (escaped, starting with `/`). The values of the named wildcards are pushed
    /// onto `values` in pattern order; on `None`, `values` is as it was.
    ///
    /// Patterns for the request's host come first, then those for any host. Within each:
    /// the exact method, then GET for a HEAD request, then patterns without a method.
    pub(crate) fn find<'p>(
        &self,
        host: &str,
        method: &str,
        path: &'p str,
        values: &mut Vec<Cow<'p, str>>,
    ) -> Option<usize> {
        if !host.is_empty() {
            if let Some(route) = self
                .by_host
                .get(host)
                .and_then(|m| m.find(method, path, values))
            {
                return Some(route);
            }
        }
        self.any_host.find(method, path, values)
    }

    /// Adds to `allowed` every method that a pattern for `host` and `path` names (to
    /// answer 405 with `Allow`).
    pub(crate) fn methods_for<'t>(
        &'t self,
        host: &str,
        path: &str,
        allowed: &mut BTreeSet<&'t str>,
    ) {
        let tables = [self.by_host.get(host), Some(&self.any_host)];
        for methods in tables.into_iter().flatten() {
            for (method, node) in &methods.by_method {
                if node.find(path, &mut Vec::new()).is_some() {
                    allowed.insert(method);
                }
            }
        }
    }
}

fn set_leaf(leaf: &mut Option<usize>, route: usize) {
    debug_assert!(leaf.is_none(), "conflicting patterns were filed");
    *leaf = Some(route);
}

impl Methods {
    fn find<'p>(
        &self,
        method: &str,
        path: &'p str,
        values: &mut Vec<Cow<'p, str>>,
    ) -> Option<usize> {
        let node = |m: &str| {
            self.by_method
                .iter()
                .find(|(k, _)| &**k == m)
                .map(|(_, n)| n)
        };
        if let Some(route) = node(method).and_then(|n| n.find(path, values)) {
            return Some(route);
        }
        if method == "HEAD" {
            if let Some(route) = node("GET").and_then(|n| n.find(path, values)) {
                return Some(route);
            }
        }
        self.any_method.find(path, values)
    }
}

impl Node {
    /// Matches the rest of a path (empty, or starting with `/`) below this node.
    fn find<'p>(&self, path: &'p str, values: &mut Vec<Cow<'p, str>>) -> Option<usize> {
        if path.is_empty() {
            return self.leaf;
        }
        let rest = path.strip_prefix('/')?;
        if rest.is_empty() {
            // Only a trailing slash is left.
            if let Some(route) = self.end_slash {
                return Some(route);
            }
        } else {
            let end = rest.bytes().position(|b| b == b'/').unwrap_or(rest.len());
            let (raw, after) = rest.split_at(end);
            let segment = unescape(raw);
            if let Some(route) = self
                .literals
                .get(&segment)
                .and_then(|n| n.find(after, values))
            {
                return Some(route);
            }
            if let Some(single) = &self.single {
                let mark = values.len();
                values.push(segment);
                if let Some(route) = single.find(after, values) {
                    return Some(route);
                }
                values.truncate(mark);
            }
        }
        let multi = self.multi.as_ref()?;
        if multi.named {
            values.push(unescape(rest));
        }
        Some(multi.route)
    }
}

#[cfg(test)]
mod tests {
    use super::super::conflict::conflicts;
    use super::*;

    /// A tree of `patterns` (which must not conflict), route numbers in order.
    fn tree(patterns: &[&str]) -> Tree {
        let parsed: Vec<Pattern> = patterns
            .iter()
            .map(|p| Pattern::parse(p).unwrap())
            .collect();
        let mut tree = Tree::default();
        for (i, p) in parsed.iter().enumerate() {
            for q in &parsed[..i] {
                assert!(
                    !conflicts(p, q),
                    "test patterns {} and {} conflict",
                    p.text,
                    q.text
                );
            }
            tree.insert(p, i);
        }
        tree
    }

    fn find(tree: &Tree, host: &str, method: &str, path: &str) -> Option<(usize, Vec<String>)> {
        let mut values = Vec::new();
        let route = tree.find(host, method, path, &mut values)?;
        Some((route, values.into_iter().map(Cow::into_owned).collect()))
    }

    #[test]
    fn most_specific_wins_with_backtracking() {
        let t = tree(&["/a/b/z", "/a/{x}/c", "/a/{x...}", "/", "/{y}"]);
        assert_eq!(find(&t, "", "GET", "/a/b/z"), Some((0, vec![])));
        assert_eq!(find(&t, "", "GET", "/a/b/c"), Some((1, vec!["b".into()])));
        assert_eq!(find(&t, "", "GET", "/a/b/d"), Some((2, vec!["b/d".into()])));
        assert_eq!(find(&t, "", "GET", "/a/"), Some((2, vec!["".into()])));
        assert_eq!(find(&t, "", "GET", "/q"), Some((4, vec!["q".into()])));
        assert_eq!(find(&t, "", "GET", "/a"), Some((4, vec!["a".into()])));
        assert_eq!(find(&t, "", "GET", "/q/b/c"), Some((3, vec![])));
        assert_eq!(find(&t, "", "GET", "/"), Some((3, vec![])));
    }

    #[test]
    fn dollar_and_trailing_slash() {
        let t = tree(&["/{$}", "/a/{$}", "/b/", "/c"]);
        assert_eq!(find(&t, "", "GET", "/").map(|m| m.0), Some(0));
        assert_eq!(find(&t, "", "GET", "/x"), None);
        assert_eq!(find(&t, "", "GET", "/a/").map(|m| m.0), Some(1));
        assert_eq!(find(&t, "", "GET", "/a/x"), None);
        assert_eq!(find(&t, "", "GET", "/a"), None);
        assert_eq!(find(&t, "", "GET", "/b/").map(|m| m.0), Some(2));
        assert_eq!(find(&t, "", "GET", "/b/x/y").map(|m| m.0), Some(2));
        assert_eq!(find(&t, "", "GET", "/b"), None);
        assert_eq!(
            find(&t, "", "GET", "/c/"),
            None,
            "{{x}} never matches a trailing slash"
        );
    }

    #[test]
    fn single_wildcard_skips_the_trailing_slash() {
        let t = tree(&["/a/{x}", "/a/{y}/"]);
        assert_eq!(find(&t, "", "GET", "/a/"), None);
        assert_eq!(find(&t, "", "GET", "/a/q/"), Some((1, vec!["q".into()])));
    }

    #[test]
    fn segments_are_unescaped_one_by_one() {
        let t = tree(&["/a/{x}", "/%62/{rest...}"]);
        assert_eq!(
            find(&t, "", "GET", "/a/x%2Fy"),
            Some((0, vec!["x/y".into()]))
        );
        assert_eq!(find(&t, "", "GET", "/a/x/y"), None);
        assert_eq!(
            find(&t, "", "GET", "/b/c%2Fd/e"),
            Some((1, vec!["c/d/e".into()]))
        );
    }

    #[test]
    fn methods_and_hosts() {
        let t = tree(&[
            "GET /r",
            "POST /r",
            "/r/{x}",
            "HEAD /h",
            "GET /h",
            "example.com/r",
        ]);
        assert_eq!(find(&t, "", "GET", "/r").map(|m| m.0), Some(0));
        assert_eq!(
            find(&t, "", "HEAD", "/r").map(|m| m.0),
            Some(0),
            "GET serves HEAD"
        );
        assert_eq!(find(&t, "", "POST", "/r").map(|m| m.0), Some(1));
        assert_eq!(
            find(&t, "", "get", "/r"),
            None,
            "methods are case-sensitive"
        );
        assert_eq!(find(&t, "", "DELETE", "/r/1").map(|m| m.0), Some(2));
        assert_eq!(find(&t, "", "HEAD", "/h").map(|m| m.0), Some(3));
        assert_eq!(find(&t, "example.com", "PUT", "/r").map(|m| m.0), Some(5));
        assert_eq!(find(&t, "example.com", "PUT", "/r/1").map(|m| m.0), Some(2));
        assert_eq!(find(&t, "other.com", "GET", "/r").map(|m| m.0), Some(0));

        let mut allowed = BTreeSet::new();
        t.methods_for("", "/r", &mut allowed);
        assert_eq!(allowed.into_iter().collect::<Vec<_>>(), ["GET", "POST"]);
    }

    #[test]
    fn many_children_switch_to_a_map() {
        let patterns: Vec<String> = (0..50).map(|i| format!("/items/n{i}/{{id}}")).collect();
        let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
        let t = tree(&refs);
        for i in 0..50 {
            let path = format!("/items/n{i}/7");
            assert_eq!(find(&t, "", "GET", &path), Some((i, vec!["7".into()])));
        }
        assert_eq!(find(&t, "", "GET", "/items/n50/7"), None);
    }
}
