//! Parsing a pattern string (`[METHOD ][HOST]/PATH`) into a [`Pattern`].
//!
//! Next: `conflict.rs` decides how two patterns relate, `tree.rs` files the pattern in the
//! routing tree.

use std::fmt;
use std::sync::Arc;

use super::path::{clean_path, unescape};
use crate::token::is_token;

/// One piece of a pattern's path.
///
/// The forms differ from the surface syntax so that comparing and matching are simpler:
/// a trailing `/` is an anonymous [`Multi`](Segment::Multi), and `{$}` is [`EndSlash`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// A literal segment, percent-decoded (`/%61` is the literal `a`).
    Literal(Box<str>),
    /// `{name}`: any one segment, but not the empty segment after a trailing slash.
    Wild(Arc<str>),
    /// `{name...}` (named) or a trailing `/` (anonymous): all the rest of the path,
    /// including nothing. Always last.
    Multi(Option<Arc<str>>),
    /// `{$}`: the path ends with a slash right here. Always last.
    EndSlash,
}

/// A parsed pattern. Built once at registration; matching never parses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    /// The pattern as registered, handed to requests as [`Request::pattern`](crate::Request::pattern).
    pub(crate) text: Arc<str>,
    /// The method it is limited to; `None` matches every method. `GET` also matches HEAD.
    pub(crate) method: Option<Box<str>>,
    /// The host it is limited to (compared with the request's host, port stripped);
    /// `None` matches every host.
    pub(crate) host: Option<Box<str>>,
    /// At least one segment: the path `/` is one anonymous `Multi`.
    pub(crate) segments: Vec<Segment>,
}

/// Why a pattern was refused by [`ServeMux::try_handle`](crate::ServeMux::try_handle).
///
/// The `Display` text is what [`ServeMux::handle`](crate::ServeMux::handle) panics with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternError {
    /// The pattern is not valid syntax.
    Syntax {
        /// The pattern as given.
        pattern: String,
        /// Byte offset in `pattern` where the problem is.
        offset: usize,
        /// What is wrong, e.g. `bad wildcard name "1x"`.
        reason: String,
    },
    /// The pattern and one already registered both match some request, and neither is
    /// more specific than the other, so which should serve it is undecided.
    Conflict {
        /// The pattern being registered.
        pattern: String,
        /// The registered pattern it conflicts with.
        existing: String,
        /// Where `existing` was registered (`file:line`).
        existing_at: String,
        /// Which requests both match, and why neither wins.
        explanation: String,
    },
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::Syntax {
                pattern,
                offset,
                reason,
            } => write!(f, "parsing {pattern:?}: at offset {offset}: {reason}"),
            PatternError::Conflict {
                pattern,
                existing,
                existing_at,
                explanation,
            } => write!(
                f,
                "pattern {pattern:?} conflicts with pattern {existing:?} \
                 (registered at {existing_at}):\n{explanation}"
            ),
        }
    }
}

impl std::error::Error for PatternError {}

impl Pattern {
    /// Parses `[METHOD ][HOST]/PATH`, as Go's `parsePattern` does.
    pub(crate) fn parse(text: &str) -> Result<Pattern, PatternError> {
        let fail = |offset: usize, reason: String| PatternError::Syntax {
            pattern: text.to_string(),
            offset,
            reason,
        };
        if text.is_empty() {
            return Err(fail(0, "empty pattern".into()));
        }
        // METHOD, then at least one space or tab.
        let (method, rest, rest_at) = match text.find([' ', '\t']) {
            Some(i) => {
                let after = &text[i + 1..];
                let rest = after.trim();
                (
                    Some(&text[..i]),
                    rest,
                    text.len() - after.trim_start().len(),
                )
            }
            None => (None, text, 0),
        };
        if let Some(m) = method {
            if !is_token(m) {
                return Err(fail(0, format!("invalid method {m:?}")));
            }
        }
        let Some(slash) = rest.find('/') else {
            return Err(fail(rest_at, "host/path missing /".into()));
        };
        let (host, path) = rest.split_at(slash);
        if let Some(brace) = host.find('{') {
            return Err(fail(
                rest_at + brace,
                "host contains '{' (missing initial '/'?)".into(),
            ));
        }
        let path_at = rest_at + slash;
        // Paths are cleaned before matching (except for CONNECT), so an unclean path
        // limited to another method could never match.
        if method.is_some_and(|m| m != "CONNECT") && clean_path(path) != path {
            return Err(fail(
                path_at,
                "non-CONNECT pattern with unclean path can never match".into(),
            ));
        }
        let segments = parse_path(path).map_err(|(at, reason)| fail(path_at + at, reason))?;
        Ok(Pattern {
            text: Arc::from(text),
            method: method.map(Box::from),
            host: (!host.is_empty()).then(|| Box::from(host)),
            segments,
        })
    }

    /// The names of the named wildcards, in order: the names of the values a match
    /// captures.
    pub(crate) fn wildcard_names(&self) -> impl Iterator<Item = &Arc<str>> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Wild(name) | Segment::Multi(Some(name)) => Some(name),
            _ => None,
        })
    }

    /// Ends in a multi wildcard (named, or an anonymous trailing slash).
    pub(crate) fn ends_in_multi(&self) -> bool {
        matches!(self.segments.last(), Some(Segment::Multi(_)))
    }

    /// Ends in a multi wildcard or `{$}`: its paths may end with a slash.
    pub(crate) fn ends_in_slash(&self) -> bool {
        matches!(
            self.segments.last(),
            Some(Segment::Multi(_) | Segment::EndSlash)
        )
    }

    /// Whether this pattern, having matched `path`, matched it exactly: its multi wildcard
    /// (if any) took nothing. `/a/` matches `/a/` exactly, but `/a/b` only as a subtree.
    /// This decides the trailing-slash redirect (`/a` → `/a/`).
    pub(crate) fn matches_exactly(&self, path: &str) -> bool {
        if !self.ends_in_multi() {
            return true;
        }
        path.ends_with('/') && self.segments.len() == path.bytes().filter(|&b| b == b'/').count()
    }
}

/// Splits a pattern's path (starting with `/`) into segments. `Err` holds the offset in
/// `path` and the reason.
fn parse_path(path: &str) -> Result<Vec<Segment>, (usize, String)> {
    let mut segments = Vec::new();
    let mut rest = path;
    while let Some(after) = rest.strip_prefix('/') {
        let at = path.len() - after.len();
        if after.is_empty() {
            segments.push(Segment::Multi(None)); // a trailing slash
            break;
        }
        let end = after.find('/').unwrap_or(after.len());
        let (text, tail) = after.split_at(end);
        rest = tail;
        let segment = parse_segment(text, tail.is_empty()).map_err(|reason| (at, reason))?;
        let name = match &segment {
            Segment::Wild(name) | Segment::Multi(Some(name)) => Some(name),
            _ => None,
        };
        if let Some(name) = name {
            let seen = segments.iter().any(|s| match s {
                Segment::Wild(n) | Segment::Multi(Some(n)) => n == name,
                _ => false,
            });
            if seen {
                return Err((at, format!("duplicate wildcard name {name:?}")));
            }
        }
        segments.push(segment);
    }
    Ok(segments)
}

/// One segment's text (between slashes). `last` says nothing follows it.
fn parse_segment(text: &str, last: bool) -> Result<Segment, String> {
    let Some(brace) = text.find('{') else {
        return Ok(Segment::Literal(unescape(text).into()));
    };
    if brace != 0 {
        return Err("bad wildcard segment (must start with '{')".into());
    }
    let Some(inner) = text[1..].strip_suffix('}') else {
        return Err("bad wildcard segment (must end with '}')".into());
    };
    if inner == "$" {
        return match last {
            true => Ok(Segment::EndSlash),
            false => Err("{$} not at end".into()),
        };
    }
    let (name, multi) = match inner.strip_suffix("...") {
        Some(name) => (name, true),
        None => (inner, false),
    };
    if multi && !last {
        return Err("{...} wildcard not at end".into());
    }
    if name.is_empty() {
        return Err("empty wildcard".into());
    }
    if !is_identifier(name) {
        return Err(format!("bad wildcard name {name:?}"));
    }
    Ok(match multi {
        true => Segment::Multi(Some(Arc::from(name))),
        false => Segment::Wild(Arc::from(name)),
    })
}

/// A Go identifier: letters, digits and `_`, not starting with a digit.
fn is_identifier(s: &str) -> bool {
    s.chars()
        .enumerate()
        .all(|(i, c)| c.is_alphabetic() || c == '_' || (i > 0 && c.is_numeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Segment {
        Segment::Literal(s.into())
    }
    fn wild(s: &str) -> Segment {
        Segment::Wild(s.into())
    }
    fn multi(s: &str) -> Segment {
        Segment::Multi(Some(s.into()))
    }

    #[test]
    fn parses_method_host_and_segments() {
        let p = Pattern::parse("GET example.com/b/{bucket}/o/{name...}").unwrap();
        assert_eq!(p.method.as_deref(), Some("GET"));
        assert_eq!(p.host.as_deref(), Some("example.com"));
        assert_eq!(
            p.segments,
            [lit("b"), wild("bucket"), lit("o"), multi("name")]
        );
        let names: Vec<&str> = p.wildcard_names().map(|n| &**n).collect();
        assert_eq!(names, ["bucket", "name"]);
    }

    #[test]
    fn trailing_slash_and_dollar() {
        assert_eq!(
            Pattern::parse("/").unwrap().segments,
            [Segment::Multi(None)]
        );
        assert_eq!(
            Pattern::parse("/{$}").unwrap().segments,
            [Segment::EndSlash]
        );
        let p = Pattern::parse("/a/").unwrap();
        assert_eq!(p.segments, [lit("a"), Segment::Multi(None)]);
        assert!(p.wildcard_names().next().is_none());
        let p = Pattern::parse("/a/{$}").unwrap();
        assert_eq!(p.segments, [lit("a"), Segment::EndSlash]);
        assert_eq!(Pattern::parse("/a/{x}/").unwrap().segments.len(), 3);
    }

    #[test]
    fn method_separators_and_escapes() {
        let p = Pattern::parse("POST \t /items").unwrap();
        assert_eq!((p.method.as_deref(), p.host), (Some("POST"), None));
        assert_eq!(
            Pattern::parse("/%61/b%2Fc").unwrap().segments,
            [lit("a"), lit("b/c")]
        );
        // Literal segments may contain '}' and other bytes.
        assert_eq!(Pattern::parse("/a}").unwrap().segments, [lit("a}")]);
    }

    #[test]
    fn unclean_paths_only_without_a_method_or_for_connect() {
        assert!(Pattern::parse("/a/../b").is_ok());
        assert!(Pattern::parse("CONNECT /a//b").is_ok());
        assert!(Pattern::parse("GET /a/../b").is_err());
    }

    #[test]
    fn rejects_invalid_patterns_with_reason_and_offset() {
        let cases = [
            ("", 0, "empty pattern"),
            ("GE(T /", 0, "invalid method \"GE(T\""),
            ("GET", 0, "host/path missing /"),
            ("example.com", 0, "host/path missing /"),
            ("{x}/a", 0, "host contains '{' (missing initial '/'?)"),
            (
                "GET /a/./b",
                4,
                "non-CONNECT pattern with unclean path can never match",
            ),
            ("/a{x}", 1, "bad wildcard segment (must start with '{')"),
            ("/a/{x", 3, "bad wildcard segment (must end with '}')"),
            ("/{x}y", 1, "bad wildcard segment (must end with '}')"),
            ("/{$}/a", 1, "{$} not at end"),
            ("/{x...}/a", 1, "{...} wildcard not at end"),
            ("/{}", 1, "empty wildcard"),
            ("/{...}", 1, "empty wildcard"),
            ("/{1x}", 1, "bad wildcard name \"1x\""),
            ("/{a-b}", 1, "bad wildcard name \"a-b\""),
            ("GET /{x}/{x}", 9, "duplicate wildcard name \"x\""),
        ];
        for (text, offset, reason) in cases {
            match Pattern::parse(text) {
                Err(PatternError::Syntax {
                    pattern,
                    offset: o,
                    reason: r,
                }) => assert_eq!((pattern.as_str(), o, r.as_str()), (text, offset, reason)),
                other => panic!("{text:?}: expected a syntax error, got {other:?}"),
            }
        }
        let message = Pattern::parse("/{x}y").unwrap_err().to_string();
        assert_eq!(
            message,
            "parsing \"/{x}y\": at offset 1: bad wildcard segment (must end with '}')"
        );
    }

    #[test]
    fn exact_matches() {
        let exact = |p: &str, path: &str| Pattern::parse(p).unwrap().matches_exactly(path);
        assert!(exact("/a", "/a"));
        assert!(exact("/{x}", "/a"));
        assert!(exact("/a/{$}", "/a/"));
        assert!(exact("/a/", "/a/"));
        assert!(exact("/a/{x...}", "/a/"));
        assert!(!exact("/", "/a"));
        assert!(!exact("/a/", "/a/b/"));
        assert!(!exact("/a/{x...}", "/a/b"));
    }
}
