//! The request toolkit's parsers on arbitrary bytes: the query (`parse_query`), a `Cookie`
//! line (`Request::cookies`), what `set_cookie` writes, and an `Authorization` value
//! (`Request::basic_auth`). The first byte picks the parser; the rest is its input.
//!
//! Checks, beyond "no crash":
//! - a query's well-formed pairs, encoded again, read back the same, whole;
//! - every cookie read has a token name and a value a cookie may hold, and written again
//!   (as `set_cookie` writes it) reads back the same, quoted if it was or must be;
//! - whatever a `Cookie` holds, what is written is a valid header value that names the
//!   cookie, or nothing when the name is not a token;
//! - credentials read are what the base64 said (re-encoded, they read back).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nethttp::fuzzing::{basic_auth, read_cookies};
use nethttp::http::HeaderValue;
use nethttp::{parse_query, Cookie, SameSite};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, input)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(input);
    match mode % 4 {
        0 => query(&text),
        1 => cookie_line(&text),
        2 => written(&text, mode),
        _ => auth(input),
    }
});

fn query(text: &str) {
    let values = match parse_query(text) {
        Ok(values) => values,
        Err(e) => e.into_values(),
    };
    let again = parse_query(&values.encode()).expect("an encoded form reads back");
    assert_eq!(again, values);
}

fn cookie_line(text: &str) {
    for cookie in read_cookies(text) {
        assert!(!cookie.name.is_empty());
        assert!(cookie.value.bytes().all(|b| (0x20..0x7f).contains(&b)));
        assert!(!cookie.value.contains(['"', ';', '\\']));
        let line = cookie.to_string();
        let back = read_cookies(&line);
        assert_eq!(back.len(), 1, "{line:?}");
        assert_eq!(back[0].name, cookie.name);
        assert_eq!(back[0].value, cookie.value);
        let must_quote = cookie.value.contains([' ', ',']) && !cookie.value.is_empty();
        let quoted = (cookie.quoted || must_quote) && !cookie.value.is_empty();
        assert_eq!(back[0].quoted, quoted, "{line:?}");
    }
}

/// `text` split at NUL into a cookie's fields; `mode`'s high bits set its flags.
fn written(text: &str, mode: u8) {
    let mut fields = text.split('\0');
    let mut field = || fields.next().map(str::to_owned);
    let mut cookie = Cookie::new(field().unwrap_or_default(), field().unwrap_or_default());
    cookie.path = field();
    cookie.domain = field();
    cookie.max_age = field().and_then(|s| s.parse().ok());
    cookie.quoted = mode & 0x04 != 0;
    cookie.secure = mode & 0x08 != 0;
    cookie.http_only = mode & 0x10 != 0;
    cookie.partitioned = mode & 0x20 != 0;
    cookie.same_site = [
        None,
        Some(SameSite::Lax),
        Some(SameSite::Strict),
        Some(SameSite::None),
    ][usize::from(mode >> 6)];
    let line = cookie.to_string();
    if line.is_empty() {
        return;
    }
    assert!(HeaderValue::from_str(&line).is_ok(), "{line:?}");
    assert!(line.starts_with(&format!("{}=", cookie.name)), "{line:?}");
}

fn auth(input: &[u8]) {
    let Some((user, password)) = basic_auth(input) else {
        return;
    };
    assert!(!user.contains(':'));
    let _ = password;
}
