//! Conditional requests (RFC 9110 §13): `If-Match`, `If-Unmodified-Since`,
//! `If-None-Match`, `If-Modified-Since` and `If-Range`, evaluated in the RFC's order as
//! Go's `checkPreconditions` does. Runs first in `content.rs`; an answered request (304
//! or 412) goes no further.
//!
//! Entity tags come from the response: a handler that wants ETag checks sets `ETag` on
//! the [`ResponseWriter`] before calling [`serve_content`](crate::serve_content). The file
//! server sets none, as Go's does; dates come from the content's modification time.

use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{
    CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_MATCH, IF_MODIFIED_SINCE,
    IF_NONE_MATCH, IF_RANGE, IF_UNMODIFIED_SINCE, LAST_MODIFIED, RANGE,
};
use http::{HeaderName, HeaderValue, Method, StatusCode};

use crate::{Request, ResponseWriter};

/// What the preconditions decided.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verdict<'r> {
    /// Send the content; `range` is the `Range` value to honour, if any (dropped when
    /// `If-Range` does not match).
    Send { range: Option<&'r str> },
    /// A 304 or 412 has been written; nothing more to do.
    Answered,
}

/// A header's answer: `None` when it is absent (or unusable), else whether it holds.
type Condition = Option<bool>;

/// Evaluates the request's preconditions against the response's `ETag` and `modtime`
/// (whole seconds), writing 304 or 412 when one fails.
pub(super) fn check<'r>(
    w: &mut ResponseWriter,
    r: &'r Request,
    modtime: Option<SystemTime>,
) -> Verdict<'r> {
    let modtime = modtime.and_then(unix_seconds);
    let etag = w.headers().get(ETAG).map(|v| v.as_bytes().to_vec());
    let etag = etag.as_deref();
    let must_match = if_match(r, etag).or_else(|| if_unmodified_since(r, modtime));
    if must_match == Some(false) {
        w.write_header(StatusCode::PRECONDITION_FAILED);
        return Verdict::Answered;
    }
    let unchanged = match if_none_match(r, etag) {
        Some(none_match) => !none_match,
        None => if_modified_since(r, modtime) == Some(false),
    };
    if unchanged {
        if is_get_or_head(r) {
            write_not_modified(w);
        } else {
            w.write_header(StatusCode::PRECONDITION_FAILED);
        }
        return Verdict::Answered;
    }
    let range = text(r, RANGE).filter(|_| if_range(r, etag, modtime) != Some(false));
    Verdict::Send { range }
}

/// Answers 304, dropping what describes a body that is not sent (RFC 9110 §15.4.5):
/// `Last-Modified` too when an `ETag` identifies the version.
pub(super) fn write_not_modified(w: &mut ResponseWriter) {
    let headers = w.headers_mut();
    headers.remove(CONTENT_TYPE);
    headers.remove(CONTENT_LENGTH);
    headers.remove(CONTENT_ENCODING);
    if headers.contains_key(ETAG) {
        headers.remove(LAST_MODIFIED);
    }
    w.write_header(StatusCode::NOT_MODIFIED);
}

/// `If-Modified-Since` alone, for a directory listing (which has no `ETag`).
pub(super) fn not_modified_since(r: &Request, modtime: Option<SystemTime>) -> bool {
    if_modified_since(r, modtime.and_then(unix_seconds)) == Some(false)
}

/// Seconds since the epoch of a time that can be sent in `Last-Modified`: after the
/// epoch (Go takes the epoch itself for "unknown") and before the year 10000.
pub(super) fn unix_seconds(t: SystemTime) -> Option<u64> {
    const YEAR_10000: u64 = 253_402_300_800;
    let secs = t.duration_since(UNIX_EPOCH).ok()?.as_secs();
    (secs > 0 && secs < YEAR_10000).then_some(secs)
}

/// `If-Match`: true if any listed tag strongly matches, or it is `*`.
fn if_match(r: &Request, etag: Option<&[u8]>) -> Condition {
    let list = r.headers().get(IF_MATCH)?.as_bytes();
    Some(any_tag(list, |tag| {
        etag.is_some_and(|e| strong_match(tag, e))
    }))
}

/// `If-None-Match`: false if any listed tag weakly matches, or it is `*`.
fn if_none_match(r: &Request, etag: Option<&[u8]>) -> Condition {
    let list = r.headers().get(IF_NONE_MATCH)?.as_bytes();
    Some(!any_tag(list, |tag| {
        etag.is_some_and(|e| weak_match(tag, e))
    }))
}

/// `If-Unmodified-Since`: true if the content is not newer than the date.
fn if_unmodified_since(r: &Request, modtime: Option<u64>) -> Condition {
    let (since, modtime) = (date(r, IF_UNMODIFIED_SINCE)?, modtime?);
    Some(modtime <= since)
}

/// `If-Modified-Since` (GET and HEAD only): true if the content is newer than the date.
fn if_modified_since(r: &Request, modtime: Option<u64>) -> Condition {
    if !is_get_or_head(r) {
        return None;
    }
    let (since, modtime) = (date(r, IF_MODIFIED_SINCE)?, modtime?);
    Some(modtime > since)
}

/// `If-Range` (GET and HEAD only): true if its strong tag matches, or its date is exactly
/// the modification time. Anything else means "send the whole content".
fn if_range(r: &Request, etag: Option<&[u8]>, modtime: Option<u64>) -> Condition {
    if !is_get_or_head(r) {
        return None;
    }
    let value = r.headers().get(IF_RANGE)?;
    if let Some((tag, _)) = scan_tag(value.as_bytes()) {
        return Some(etag.is_some_and(|e| strong_match(tag, e)));
    }
    let date = value.to_str().ok().and_then(parse_date);
    Some(date.is_some() && date == modtime)
}

/// Walks a comma-separated list of entity tags, true at `*` or at the first tag `matches`
/// accepts. A malformed element ends the walk.
fn any_tag(mut list: &[u8], matches: impl Fn(&[u8]) -> bool) -> bool {
    loop {
        list = trim(list);
        match list.first() {
            None => return false,
            Some(b',') => list = &list[1..],
            Some(b'*') => return true,
            Some(_) => match scan_tag(list) {
                Some((tag, _)) if matches(tag) => return true,
                Some((_, rest)) => list = rest,
                None => return false,
            },
        }
    }
}

/// The entity tag at the start of `text` (`"x"` or `W/"x"`, RFC 9110 §8.8.3) and the text
/// after it; `None` if there is no well-formed tag.
fn scan_tag(text: &[u8]) -> Option<(&[u8], &[u8])> {
    let text = trim(text);
    let opening = if text.starts_with(b"W/") { 2 } else { 0 };
    if text.get(opening) != Some(&b'"') {
        return None;
    }
    for (i, &c) in text.iter().enumerate().skip(opening + 1) {
        match c {
            b'"' => return Some((&text[..=i], &text[i + 1..])),
            0x21 | 0x23..=0x7e | 0x80..=0xff => {}
            _ => return None,
        }
    }
    None
}

/// Both tags are the same strong tag.
fn strong_match(a: &[u8], b: &[u8]) -> bool {
    a == b && a.first() == Some(&b'"')
}

/// The tags are the same once any `W/` is set aside.
fn weak_match(a: &[u8], b: &[u8]) -> bool {
    a.strip_prefix(b"W/").unwrap_or(a) == b.strip_prefix(b"W/").unwrap_or(b)
}

fn trim(text: &[u8]) -> &[u8] {
    let start = text.iter().position(|b| !b" \t".contains(b));
    let end = text.iter().rposition(|b| !b" \t".contains(b));
    match (start, end) {
        (Some(start), Some(end)) => &text[start..=end],
        _ => &[],
    }
}

fn is_get_or_head(r: &Request) -> bool {
    r.method() == Method::GET || r.method() == Method::HEAD
}

/// The first value of header `name`, if it is text.
fn text(r: &Request, name: HeaderName) -> Option<&str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The first value of header `name` as an HTTP date, in seconds since the epoch.
fn date(r: &Request, name: HeaderName) -> Option<u64> {
    text(r, name).and_then(parse_date)
}

fn parse_date(text: &str) -> Option<u64> {
    let t = httpdate::parse_http_date(text).ok()?;
    Some(t.duration_since(UNIX_EPOCH).ok()?.as_secs())
}

/// The `Last-Modified` value for seconds since the epoch.
pub(super) fn http_date(secs: u64) -> HeaderValue {
    let t = UNIX_EPOCH + std::time::Duration::from_secs(secs);
    HeaderValue::from_str(&httpdate::fmt_http_date(t)).expect("an HTTP date is a valid value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_tags() {
        assert_eq!(
            scan_tag(b" \"abc\" , x"),
            Some((&b"\"abc\""[..], &b" , x"[..]))
        );
        assert_eq!(scan_tag(b"W/\"a\""), Some((&b"W/\"a\""[..], &b""[..])));
        assert_eq!(scan_tag(b"abc"), None);
        assert_eq!(scan_tag(b"\"unterminated"), None);
        assert_eq!(scan_tag(b"\"a b\""), None);
    }

    #[test]
    fn strong_and_weak_comparison() {
        assert!(strong_match(b"\"a\"", b"\"a\""));
        assert!(!strong_match(b"W/\"a\"", b"W/\"a\""));
        assert!(weak_match(b"W/\"a\"", b"\"a\""));
        assert!(!weak_match(b"\"a\"", b"\"b\""));
    }

    #[test]
    fn walks_tag_lists() {
        let is_b = |t: &[u8]| t == b"\"b\"";
        assert!(any_tag(b"\"a\", \"b\"", is_b));
        assert!(any_tag(b",,\"b\"", is_b));
        assert!(any_tag(b"*", is_b));
        assert!(!any_tag(b"\"a\", \"c\"", is_b));
        assert!(
            !any_tag(b"junk, \"b\"", is_b),
            "a malformed element ends the list"
        );
    }

    #[test]
    fn unix_seconds_refuses_the_epoch_and_far_future() {
        assert_eq!(unix_seconds(UNIX_EPOCH), None);
        assert_eq!(
            unix_seconds(UNIX_EPOCH + std::time::Duration::from_millis(1_500)),
            Some(1)
        );
        let far = UNIX_EPOCH + std::time::Duration::from_secs(300_000_000_000);
        assert_eq!(unix_seconds(far), None);
    }
}
