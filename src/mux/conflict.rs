//! How two patterns relate, and the rule that refuses a registration: two patterns that
//! match some request in common conflict unless one is more specific than the other.
//!
//! Previous step: `pattern.rs` parsed both patterns. The routing tree (`tree.rs`) relies
//! on this rule: with conflicts refused, trying literals before wildcards finds the most
//! specific pattern first.
//!
//! Precedence, as in Go 1.22:
//! 1. A pattern with a host wins over one without.
//! 2. Otherwise the pattern whose method and path match a strict subset of the other's
//!    requests wins: a literal segment beats `{x}`, which beats `{x...}`; a method beats
//!    no method, and `HEAD` beats `GET` (which matches HEAD too).

use super::pattern::{Pattern, Segment};

/// How the requests matched by one pattern (`p1`) relate to another's (`p2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Relation {
    /// Both match the same requests.
    Equivalent,
    /// `p1` matches everything `p2` does, and more.
    MoreGeneral,
    /// `p2` matches everything `p1` does, and more.
    MoreSpecific,
    /// No request matches both.
    Disjoint,
    /// Some requests match both, but each matches some the other does not.
    Overlaps,
}

use Relation::*;

impl Relation {
    /// The relation of two patterns made of two independent parts (method and path, or
    /// one segment and the next), given the relation of each part.
    fn and(self, other: Relation) -> Relation {
        match (self, other) {
            (Equivalent, r) | (r, Equivalent) => r,
            (Disjoint, _) | (_, Disjoint) => Disjoint,
            (Overlaps, _) | (_, Overlaps) => Overlaps,
            (a, b) if a == b => a,
            _ => Overlaps, // more general one way, more specific the other
        }
    }
}

/// Whether `p1` and `p2` match some request in common with neither taking precedence.
/// Patterns for different hosts never conflict: they match different requests, or the
/// one with a host wins.
pub(crate) fn conflicts(p1: &Pattern, p2: &Pattern) -> bool {
    p1.host == p2.host && matches!(compare(p1, p2), Equivalent | Overlaps)
}

/// The relation of `p1`'s method and path to `p2`'s.
pub(crate) fn compare(p1: &Pattern, p2: &Pattern) -> Relation {
    match compare_methods(p1, p2) {
        Disjoint => Disjoint,
        methods => methods.and(compare_paths(p1, p2)),
    }
}

/// No method matches every method; `GET` matches GET and HEAD; others only themselves.
fn compare_methods(p1: &Pattern, p2: &Pattern) -> Relation {
    match (p1.method.as_deref(), p2.method.as_deref()) {
        (m1, m2) if m1 == m2 => Equivalent,
        (None, _) => MoreGeneral,
        (_, None) => MoreSpecific,
        (Some("GET"), Some("HEAD")) => MoreGeneral,
        (Some("HEAD"), Some("GET")) => MoreSpecific,
        _ => Disjoint,
    }
}

fn compare_paths(p1: &Pattern, p2: &Pattern) -> Relation {
    let (s1, s2) = (&p1.segments, &p2.segments);
    // Without a multi wildcard, a pattern matches only paths of its own length.
    if s1.len() != s2.len() && !p1.ends_in_multi() && !p2.ends_in_multi() {
        return Disjoint;
    }
    let mut relation = Equivalent;
    for (a, b) in s1.iter().zip(s2) {
        relation = relation.and(compare_segments(a, b));
        if relation == Disjoint {
            return Disjoint;
        }
    }
    // Past the shorter pattern, only its trailing multi can match the longer's rest.
    match s1.len().cmp(&s2.len()) {
        std::cmp::Ordering::Equal => relation,
        std::cmp::Ordering::Less if p1.ends_in_multi() => relation.and(MoreGeneral),
        std::cmp::Ordering::Greater if p2.ends_in_multi() => relation.and(MoreSpecific),
        _ => Disjoint,
    }
}

fn compare_segments(a: &Segment, b: &Segment) -> Relation {
    use Segment::*;
    match (a, b) {
        (Multi(_), Multi(_)) => Equivalent,
        (Multi(_), _) => MoreGeneral,
        (_, Multi(_)) => MoreSpecific,
        (Wild(_), Wild(_)) | (EndSlash, EndSlash) => Equivalent,
        // A single wildcard does not match the empty segment after a trailing slash.
        (Wild(_), EndSlash) | (EndSlash, Wild(_)) => Disjoint,
        (Wild(_), Literal(_)) => MoreGeneral,
        (Literal(_), Wild(_)) => MoreSpecific,
        (Literal(x), Literal(y)) if x == y => Equivalent,
        (Literal(_), _) | (EndSlash, Literal(_)) => Disjoint,
    }
}

/// Explains why conflicting `p1` and `p2` conflict, with example paths.
pub(crate) fn describe(p1: &Pattern, p2: &Pattern) -> String {
    let (a, b) = (&p1.text, &p2.text);
    let methods = compare_methods(p1, p2);
    let paths = compare_paths(p1, p2);
    match (methods, paths) {
        (Equivalent, Equivalent) => format!("{a} matches the same requests as {b}"),
        (_, Overlaps) => format!(
            "{a} and {b} both match some paths, like {:?}.\n\
             But neither is more specific than the other.\n\
             {a} matches {:?}, but {b} doesn't.\n\
             {b} matches {:?}, but {a} doesn't.",
            common_path(p1, p2),
            difference_path(p1, p2),
            difference_path(p2, p1),
        ),
        (MoreGeneral, MoreSpecific) => {
            format!("{a} matches more methods than {b}, but has a more specific path pattern")
        }
        (MoreSpecific, MoreGeneral) => {
            format!("{a} matches fewer methods than {b}, but has a more general path pattern")
        }
        _ => format!("{a} and {b} match some requests in common"),
    }
}

/// A path written for one segment: a literal as itself, a wildcard by its name, `{$}`
/// and multis as nothing (the path then ends with the slash).
fn push_segment(path: &mut String, segment: &Segment) {
    path.push('/');
    match segment {
        Segment::Literal(s) => path.push_str(s),
        Segment::Wild(name) => path.push_str(name),
        Segment::Multi(_) | Segment::EndSlash => {}
    }
}

/// A path that both overlapping patterns match.
fn common_path(p1: &Pattern, p2: &Pattern) -> String {
    let mut path = String::new();
    let (s1, s2) = (&p1.segments, &p2.segments);
    for (a, b) in s1.iter().zip(s2) {
        let literal = match a {
            Segment::Wild(_) | Segment::Multi(_) => b,
            _ => a,
        };
        push_segment(&mut path, literal);
    }
    let longer = if s1.len() > s2.len() { s1 } else { s2 };
    for segment in &longer[s1.len().min(s2.len())..] {
        push_segment(&mut path, segment);
    }
    path
}

/// A path that `p1` matches and `p2` does not (the patterns overlap).
fn difference_path(p1: &Pattern, p2: &Pattern) -> String {
    use Segment::*;
    let mut path = String::new();
    let (s1, s2) = (&p1.segments, &p2.segments);
    for (a, b) in s1.iter().zip(s2) {
        match (a, b) {
            // From here on both match the same; the difference came earlier.
            (Multi(_), Multi(_)) => {
                path.push('/');
                return path;
            }
            // A trailing slash tells them apart, or any segment if `p2` ends in `{$}`.
            (Multi(name), _) => {
                path.push('/');
                if *b == EndSlash {
                    path.push_str(name.as_deref().unwrap_or("x"));
                }
                return path;
            }
            // Any segment but the literal will do; prefer the wildcard's name.
            (Wild(name), Literal(literal)) if **name == **literal => {
                path.push('/');
                path.push_str(literal);
                path.push('x');
            }
            _ => push_segment(&mut path, a),
        }
    }
    // One pattern is longer (and the other does not end in a multi): anything that
    // matches its rest will do.
    let longer = if s1.len() > s2.len() { s1 } else { s2 };
    for segment in &longer[s1.len().min(s2.len())..] {
        push_segment(&mut path, segment);
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relation(a: &str, b: &str) -> Relation {
        compare(&Pattern::parse(a).unwrap(), &Pattern::parse(b).unwrap())
    }

    #[test]
    fn relations_follow_go() {
        let cases = [
            ("/a", "/a", Equivalent),
            ("/a", "/b", Disjoint),
            ("/{x}", "/{y}", Equivalent),
            ("/a/", "/a/{rest...}", Equivalent),
            ("/a", "/{x}", MoreSpecific),
            ("/{x}", "/a", MoreGeneral),
            ("/", "/a", MoreGeneral),
            ("/a/{x...}", "/a/b/c", MoreGeneral),
            ("/a/{$}", "/a/", MoreSpecific),
            ("/a/{$}", "/a/{x}", Disjoint),
            ("/a/{x}", "/{y}/b", Overlaps),
            ("/a/b", "/a/b/c", Disjoint),
            ("GET /a", "/a", MoreSpecific),
            ("GET /a", "POST /a", Disjoint),
            ("HEAD /a", "GET /a", MoreSpecific),
            ("GET /", "/index.html", Overlaps),
            ("GET /{x}", "/a", Overlaps),
            ("GET /a", "/{x}", MoreSpecific),
        ];
        for (a, b, want) in cases {
            assert_eq!(relation(a, b), want, "{a} vs {b}");
            let inverse = match want {
                MoreGeneral => MoreSpecific,
                MoreSpecific => MoreGeneral,
                other => other,
            };
            assert_eq!(relation(b, a), inverse, "{b} vs {a}");
        }
    }

    #[test]
    fn conflicts_need_the_same_host() {
        let p = |s: &str| Pattern::parse(s).unwrap();
        assert!(conflicts(&p("/a"), &p("/a")));
        assert!(conflicts(&p("/a/{x}"), &p("/{y}/b")));
        assert!(!conflicts(&p("example.com/a"), &p("/a")), "the host wins");
        assert!(!conflicts(&p("a.com/{x}"), &p("b.com/{x}")));
        assert!(conflicts(&p("a.com/{x}"), &p("a.com/{y}")));
        assert!(!conflicts(&p("/a/b"), &p("/a/{x}")));
    }

    #[test]
    fn describes_conflicts() {
        let p = |s: &str| Pattern::parse(s).unwrap();
        assert_eq!(
            describe(&p("/a"), &p("/a")),
            "/a matches the same requests as /a"
        );
        assert_eq!(
            describe(&p("/a/{x}"), &p("/{y}/b")),
            "/a/{x} and /{y}/b both match some paths, like \"/a/b\".\n\
             But neither is more specific than the other.\n\
             /a/{x} matches \"/a/x\", but /{y}/b doesn't.\n\
             /{y}/b matches \"/y/b\", but /a/{x} doesn't."
        );
        assert_eq!(
            describe(&p("GET /"), &p("/index.html")),
            "GET / matches fewer methods than /index.html, but has a more general path pattern"
        );
        assert_eq!(
            describe(&p("/a/b"), &p("GET /a/{x}")),
            "/a/b matches more methods than GET /a/{x}, but has a more specific path pattern"
        );
        assert_eq!(
            describe(&p("/{x}/c"), &p("/a/{y...}")),
            "/{x}/c and /a/{y...} both match some paths, like \"/a/c\".\n\
             But neither is more specific than the other.\n\
             /{x}/c matches \"/x/c\", but /a/{y...} doesn't.\n\
             /a/{y...} matches \"/a/\", but /{x}/c doesn't."
        );
    }
}
