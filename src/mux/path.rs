//! Small string helpers of the mux: cleaning a path, percent-decoding a segment, stripping
//! a port from a host. Each returns borrowed text when there is nothing to change, so the
//! common request costs no allocation.

use std::borrow::Cow;

/// The canonical form of a request path, as Go's `cleanPath`: a leading `/`, no empty,
/// `.` or `..` segments; a trailing slash is kept. `""` becomes `/`.
///
/// `/a//b/./c/../d/` → `/a/b/d/`.
pub(crate) fn clean_path(path: &str) -> Cow<'_, str> {
    if is_clean(path) {
        return Cow::Borrowed(path);
    }
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            s => kept.push(s),
        }
    }
    if kept.is_empty() {
        return Cow::Borrowed("/");
    }
    let mut clean = String::with_capacity(path.len() + 1);
    for segment in kept {
        clean.push('/');
        clean.push_str(segment);
    }
    if path.ends_with('/') {
        clean.push('/');
    }
    Cow::Owned(clean)
}

/// The path starts with `/` and has no empty, `.` or `..` segment (the empty segment
/// after a trailing slash excepted).
fn is_clean(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    let mut segments = rest.as_bytes().split(|&b| b == b'/').peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        if segment == b"." || segment == b".." || (segment.is_empty() && !last) {
            return false;
        }
    }
    true
}

/// Percent-decodes one path segment (`%2F` becomes `/` inside the segment; `+` stays).
/// Text that is not validly escaped, or does not decode to UTF-8, is used as it is, as
/// Go does with an invalid escape.
pub(crate) fn unescape(segment: &str) -> Cow<'_, str> {
    if !segment.as_bytes().contains(&b'%') {
        return Cow::Borrowed(segment);
    }
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            decoded.push(bytes[i]);
            i += 1;
            continue;
        }
        let high = bytes.get(i + 1).and_then(|&b| hex_value(b));
        let low = bytes.get(i + 2).and_then(|&b| hex_value(b));
        let (Some(high), Some(low)) = (high, low) else {
            return Cow::Borrowed(segment);
        };
        decoded.push(high << 4 | low);
        i += 3;
    }
    match String::from_utf8(decoded) {
        Ok(text) => Cow::Owned(text),
        Err(_) => Cow::Borrowed(segment),
    }
}

fn hex_value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// The host without a trailing `:port` (Go's `stripHostPort`): `example.com:8080` →
/// `example.com`, `[::1]:80` → `::1`. Anything else is returned unchanged.
pub(crate) fn strip_port(host: &str) -> &str {
    if let Some(bracketed) = host.strip_prefix('[') {
        return match bracketed.split_once("]:") {
            Some((ip, port)) if !port.contains(':') => ip,
            _ => host,
        };
    }
    match host.split_once(':') {
        Some((name, port)) if !port.contains(':') => name,
        _ => host,
    }
}

/// Escapes text for an HTML attribute or body, as Go's `htmlEscape`.
pub(crate) fn html_escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_like_go() {
        let cases = [
            ("", "/"),
            ("/", "/"),
            ("a", "/a"),
            ("/a/b", "/a/b"),
            ("/a/b/", "/a/b/"),
            ("//", "/"),
            ("/a//b", "/a/b"),
            ("/a/./b", "/a/b"),
            ("/a/../b", "/b"),
            ("/a/b/..", "/a"),
            ("/a/.", "/a"),
            ("/a/./", "/a/"),
            ("/..", "/"),
            ("/../a/", "/a/"),
            ("/a/../", "/"),
            ("/mux/./a", "/mux/a"),
            ("/a/b/c/../../d//e/", "/a/d/e/"),
        ];
        for (path, want) in cases {
            assert_eq!(clean_path(path), want, "{path:?}");
        }
        assert!(matches!(clean_path("/a/b/"), Cow::Borrowed(_)));
        assert!(matches!(clean_path("/a/..b/.c"), Cow::Borrowed(_)));
    }

    #[test]
    fn unescapes_one_segment() {
        assert_eq!(unescape("abc"), "abc");
        assert_eq!(unescape("%61"), "a");
        assert_eq!(unescape("a%2Fb"), "a/b");
        assert_eq!(unescape("a%20b+c"), "a b+c");
        assert_eq!(unescape("%e2%82%ac"), "€");
        assert_eq!(unescape("100%"), "100%", "invalid escape: as is");
        assert_eq!(unescape("%zz"), "%zz");
        assert_eq!(unescape("%+1"), "%+1");
        assert_eq!(unescape("%ff"), "%ff", "not UTF-8: as is");
    }

    #[test]
    fn strips_ports() {
        assert_eq!(strip_port("example.com"), "example.com");
        assert_eq!(strip_port("example.com:8080"), "example.com");
        assert_eq!(strip_port("[::1]:80"), "::1");
        assert_eq!(strip_port("[::1]"), "[::1]");
        assert_eq!(strip_port("::1"), "::1");
        assert_eq!(strip_port(""), "");
    }

    #[test]
    fn escapes_html() {
        assert_eq!(html_escape("/a?b=1"), "/a?b=1");
        assert_eq!(
            html_escape("/a?b=1&c=<'\">"),
            "/a?b=1&amp;c=&lt;&#39;&#34;&gt;"
        );
    }
}
