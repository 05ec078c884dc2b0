//! Query strings and URL-encoded forms: [`Values`] and [`parse_query`], decoded as Go's
//! `url.ParseQuery` decodes them.
//!
//! `name=value` pairs are separated by `&`; in each, `+` is a space and `%XX` a byte. A
//! pair whose key contains `;` is refused (Go 1.17 stopped treating `;` as a separator),
//! and so is a pair with a malformed escape: the other pairs still count, and the first
//! problem is reported. Decoded bytes that are not UTF-8 become U+FFFD (Go keeps raw bytes
//! in its strings; Rust's are UTF-8).
//!
//! Written by hand: the percent-decoding crates pass malformed escapes through, where Go
//! (and so this server) must refuse them, and `+` is a space only in this encoding.

use std::fmt;

use crate::multipart::MultipartForm;

/// Decoded `name=value` pairs in the order they appeared, repeats kept (Go's `url.Values`,
/// with order).
///
/// ```
/// let values = nethttp::parse_query("a=1&b=x+y&a=2").unwrap();
/// assert_eq!(values.get("a"), Some("1"));
/// assert_eq!(values.get_all("a").collect::<Vec<_>>(), ["1", "2"]);
/// assert_eq!(values.get("b"), Some("x y"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values {
    pairs: Vec<(String, String)>,
}

impl Values {
    /// No values.
    pub const fn new() -> Values {
        Values { pairs: Vec::new() }
    }

    /// The first value of `name` (Go's `Get`, which answers `""` where this answers `None`).
    pub fn get(&self, name: &str) -> Option<&str> {
        let (_, value) = self.pairs.iter().find(|(n, _)| n == name)?;
        Some(value)
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// True if `name` has at least one value (Go's `Has`).
    pub fn contains(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, _)| n == name)
    }

    /// Every pair, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Adds a value for `name` after the others (Go's `Add`).
    pub fn add(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.pairs.push((name.into(), value.into()));
    }

    /// How many pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True if there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The pairs, URL-encoded (Go's `Encode`, keeping this order rather than sorting).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.pairs {
            if !out.is_empty() {
                out.push('&');
            }
            escape_into(name, &mut out);
            out.push('=');
            escape_into(value, &mut out);
        }
        out
    }

    /// Appends every pair of `other` after these.
    pub(crate) fn extend(&mut self, other: &Values) {
        self.pairs.extend(other.pairs.iter().cloned());
    }
}

/// A request's parsed forms (`form.rs`): the body's values then the query's (Go's
/// `r.Form`), and the body's alone (`r.PostForm`).
#[derive(Debug, Default)]
pub(crate) struct Forms {
    pub(crate) form: Values,
    pub(crate) post_form: Values,
    /// The multipart form, once `parse_multipart_form` has read it.
    pub(crate) multipart: Option<MultipartForm>,
}

/// Why a query string or form body was not read whole (Go's `url.ParseQuery` error). The
/// well-formed pairs are still in [`values`](QueryError::values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    values: Values,
    problem: Problem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Problem {
    /// A `%` not followed by two hex digits; the escape as found.
    Escape(String),
    /// A key holding `;`.
    Semicolon,
}

impl QueryError {
    /// The pairs that were well-formed.
    pub fn values(&self) -> &Values {
        &self.values
    }

    /// Gives up the pairs that were well-formed.
    pub fn into_values(self) -> Values {
        self.values
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            Problem::Escape(escape) => write!(f, "invalid URL escape {escape:?}"),
            Problem::Semicolon => f.write_str("invalid semicolon separator in query"),
        }
    }
}

impl std::error::Error for QueryError {}

/// Decodes a query string or an `application/x-www-form-urlencoded` body (Go's
/// `url.ParseQuery`). Empty pairs are skipped; a pair without `=` has an empty value.
///
/// ```
/// let err = nethttp::parse_query("a=%zz&b=2").unwrap_err();
/// assert_eq!(err.to_string(), r#"invalid URL escape "%zz""#);
/// assert_eq!(err.values().get("b"), Some("2"));
/// ```
pub fn parse_query(query: &str) -> Result<Values, QueryError> {
    let mut values = Values::new();
    let mut problem = None;
    for pair in query.split('&') {
        if pair.contains(';') {
            problem.get_or_insert(Problem::Semicolon);
            continue;
        }
        if pair.is_empty() {
            continue;
        }
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match (unescape(name), unescape(value)) {
            (Ok(name), Ok(value)) => values.add(name, value),
            (Err(escape), _) | (_, Err(escape)) => {
                problem.get_or_insert(Problem::Escape(escape));
            }
        }
    }
    match problem {
        None => Ok(values),
        Some(problem) => Err(QueryError { values, problem }),
    }
}

/// Decodes one component: `+` is a space, `%XX` a byte. A malformed escape is returned as
/// found (up to three characters), as Go's `EscapeError` holds it.
fn unescape(s: &str) -> Result<String, String> {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return Ok(s.to_string());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| Some((unhex(h[0])?, unhex(h[1])?)));
                let Some((high, low)) = hex else {
                    let end = (i + 3).min(bytes.len());
                    return Err(String::from_utf8_lossy(&bytes[i..end]).into_owned());
                };
                out.push(high << 4 | low);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into()))
}

fn unhex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Appends `s` escaped as Go's `QueryEscape` escapes: letters, digits and `-_.~` stay,
/// a space is `+`, every other byte `%XX`.
fn escape_into(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(values: &Values) -> Vec<(&str, &str)> {
        values.iter().collect()
    }

    /// Go's `TestParseQuery` cases, and its escapes.
    #[test]
    fn decodes_as_go_does() {
        let v = parse_query("a=1").unwrap();
        assert_eq!(pairs(&v), [("a", "1")]);
        let v = parse_query("a=1&b=2").unwrap();
        assert_eq!(pairs(&v), [("a", "1"), ("b", "2")]);
        let v = parse_query("a=1&a=2&a=banana").unwrap();
        assert_eq!(v.get_all("a").collect::<Vec<_>>(), ["1", "2", "banana"]);
        let v = parse_query("ascii=%3Ckey%3A+0x90%3E").unwrap();
        assert_eq!(v.get("ascii"), Some("<key: 0x90>"));
        let v = parse_query("a=1&b=&c&=d&&").unwrap();
        assert_eq!(pairs(&v), [("a", "1"), ("b", ""), ("c", ""), ("", "d")]);
        let v = parse_query("name=%E2%82%AC+%26+%3D").unwrap();
        assert_eq!(v.get("name"), Some("€ & ="));
        assert!(parse_query("").unwrap().is_empty());
    }

    #[test]
    fn semicolons_and_bad_escapes_are_refused_pair_by_pair() {
        let err = parse_query("a=1;b=2&c=3").unwrap_err();
        assert_eq!(err.to_string(), "invalid semicolon separator in query");
        assert_eq!(pairs(err.values()), [("c", "3")]);
        let err = parse_query("a=%&b=%4&c=%4g&d=ok").unwrap_err();
        assert_eq!(err.to_string(), r#"invalid URL escape "%""#);
        assert_eq!(pairs(err.values()), [("d", "ok")]);
        let err = parse_query("x%zzy=1").unwrap_err();
        assert_eq!(err.to_string(), r#"invalid URL escape "%zz""#);
        // Not UTF-8 once decoded: replaced, not refused.
        assert_eq!(parse_query("a=%FF").unwrap().get("a"), Some("\u{FFFD}"));
    }

    #[test]
    fn encodes_as_go_escapes_and_reads_back() {
        let mut v = Values::new();
        v.add("q", "a b&c=d/é");
        v.add("empty", "");
        let encoded = v.encode();
        assert_eq!(encoded, "q=a+b%26c%3Dd%2F%C3%A9&empty=");
        assert_eq!(parse_query(&encoded).unwrap(), v);
    }
}
