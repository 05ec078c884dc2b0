//! Cookies: reading a request's `Cookie` fields ([`Request::cookies`]) and writing a
//! `Set-Cookie` field ([`set_cookie`]), both exactly as Go's `net/http` does (RFC 6265,
//! with Go's tolerances: spaces and commas allowed in values, which are then quoted).

use std::fmt::{self, Write as _};
use std::net::Ipv4Addr;
use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{HeaderValue, SET_COOKIE};

use crate::request::Request;
use crate::response::ResponseWriter;
use crate::token::is_token;

/// An HTTP cookie (Go's `http.Cookie`): what a request's `Cookie` field carries (a name and
/// a value) or a `Set-Cookie` field sets (with its attributes).
///
/// ```
/// use nethttp::{Cookie, SameSite};
///
/// let mut cookie = Cookie::new("session", "abc123");
/// cookie.path = Some("/".into());
/// cookie.http_only = true;
/// cookie.same_site = Some(SameSite::Lax);
/// assert_eq!(cookie.to_string(), "session=abc123; Path=/; HttpOnly; SameSite=Lax");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cookie {
    /// The name: a token (letters, digits and ``!#$%&'*+-.^_`|~``); a cookie with any
    /// other name is not written.
    pub name: String,
    /// The value. Bytes a cookie value cannot hold (controls, `"`, `;`, `\`, non-ASCII) are
    /// dropped when it is written, as Go does; a value with a space or a comma is quoted.
    pub value: String,
    /// The value was (or is to be) written in double quotes.
    pub quoted: bool,
    /// `Path`; bytes it cannot hold (controls, `;`) are dropped.
    pub path: Option<String>,
    /// `Domain`; written only if it is a valid domain name or IPv4 address (a leading
    /// dot is dropped).
    pub domain: Option<String>,
    /// `Expires`, written as an HTTP date (times before 1970 are not written).
    pub expires: Option<SystemTime>,
    /// `Max-Age` in seconds; zero or less is written `Max-Age=0` (delete now). Go's
    /// `MaxAge: 0`, which writes nothing, is `None` here.
    pub max_age: Option<i64>,
    /// `Secure`: only sent over HTTPS.
    pub secure: bool,
    /// `HttpOnly`: hidden from scripts.
    pub http_only: bool,
    /// `SameSite`; `None` writes no attribute (the browser's default).
    pub same_site: Option<SameSite>,
    /// `Partitioned` (CHIPS): stored per top-level site.
    pub partitioned: bool,
}

/// The `SameSite` attribute of a cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// `SameSite=Lax`.
    Lax,
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=None` (browsers require `Secure` with it).
    None,
}

impl Cookie {
    /// A cookie with this name and value and no attributes.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Cookie {
        Cookie {
            name: name.into(),
            value: value.into(),
            ..Cookie::default()
        }
    }
}

/// Adds a `Set-Cookie` field for `cookie` to the response (Go's `http.SetCookie`). A cookie
/// whose name is not a token is dropped, as Go drops it.
///
/// ```
/// use std::io::Write;
/// use nethttp::{set_cookie, Cookie, Request, ResponseWriter};
///
/// fn login(w: &mut ResponseWriter, _r: &mut Request) {
///     set_cookie(w, &Cookie::new("session", "abc123"));
///     let _ = w.write_all(b"welcome");
/// }
/// ```
pub fn set_cookie(w: &mut ResponseWriter, cookie: &Cookie) {
    let text = cookie.to_string();
    if text.is_empty() {
        return;
    }
    if let Ok(value) = HeaderValue::from_str(&text) {
        w.headers_mut().append(SET_COOKIE, value);
    }
}

/// The `Set-Cookie` value (Go's `Cookie.String`): empty if the name is not a token.
impl fmt::Display for Cookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !is_token(&self.name) {
            return Ok(());
        }
        let value = sanitize(&self.value, is_value_byte);
        f.write_str(&self.name)?;
        f.write_char('=')?;
        if !value.is_empty() && (self.quoted || value.contains([' ', ','])) {
            write!(f, "\"{value}\"")?;
        } else {
            f.write_str(&value)?;
        }
        if let Some(path) = self.path.as_deref().filter(|p| !p.is_empty()) {
            write!(f, "; Path={}", sanitize(path, is_path_byte))?;
        }
        self.write_domain(f)?;
        let since_epoch = self.expires.and_then(|t| t.duration_since(UNIX_EPOCH).ok());
        if let Some(since) = since_epoch {
            let date = httpdate::fmt_http_date(UNIX_EPOCH + since);
            write!(f, "; Expires={date}")?;
        }
        match self.max_age {
            Some(secs) if secs > 0 => write!(f, "; Max-Age={secs}")?,
            Some(_) => f.write_str("; Max-Age=0")?,
            None => {}
        }
        self.write_flags(f)
    }
}

impl Cookie {
    /// `; Domain=...` if the domain is valid; an invalid one is dropped (and logged), which
    /// makes the cookie host-only.
    fn write_domain(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(domain) = self.domain.as_deref().filter(|d| !d.is_empty()) else {
            return Ok(());
        };
        if !is_valid_domain(domain) {
            log::warn!("invalid Cookie.domain {domain:?}; dropping the domain attribute");
            return Ok(());
        }
        write!(f, "; Domain={}", domain.strip_prefix('.').unwrap_or(domain))
    }

    fn write_flags(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.http_only {
            f.write_str("; HttpOnly")?;
        }
        if self.secure {
            f.write_str("; Secure")?;
        }
        match self.same_site {
            Some(SameSite::None) => f.write_str("; SameSite=None")?,
            Some(SameSite::Lax) => f.write_str("; SameSite=Lax")?,
            Some(SameSite::Strict) => f.write_str("; SameSite=Strict")?,
            None => {}
        }
        if self.partitioned {
            f.write_str("; Partitioned")?;
        }
        Ok(())
    }
}

impl Request {
    /// The cookies of the request's `Cookie` fields, in order (Go's `Cookies`). Pairs that
    /// are not `token=value` with a valid cookie value are skipped; a value in double
    /// quotes is unquoted, and marked [`quoted`](Cookie::quoted).
    pub fn cookies(&self) -> Vec<Cookie> {
        let mut cookies = Vec::new();
        for (name, line) in self.header_fields() {
            if name.eq_ignore_ascii_case("cookie") {
                read_cookies(&String::from_utf8_lossy(line), &mut cookies);
            }
        }
        cookies
    }

    /// The first cookie named `name` (Go's `Cookie`, which answers `ErrNoCookie` where this
    /// answers `None`).
    pub fn cookie(&self, name: &str) -> Option<Cookie> {
        self.cookies().into_iter().find(|c| c.name == name)
    }
}

/// Reads the `name=value` pairs of one `Cookie` line into `cookies` (Go's `readCookies`).
pub(crate) fn read_cookies(line: &str, cookies: &mut Vec<Cookie>) {
    for part in trim(line).split(';') {
        let part = trim(part);
        if part.is_empty() {
            continue;
        }
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        let name = trim(name);
        if !is_token(name) {
            continue;
        }
        let (value, quoted) = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            Some(inner) => (inner, true),
            None => (value, false),
        };
        if value.bytes().all(is_value_byte) {
            let mut cookie = Cookie::new(name, value);
            cookie.quoted = quoted;
            cookies.push(cookie);
        }
    }
}

/// Trims what Go's `textproto.TrimString` trims: spaces, tabs, CR and LF.
fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

/// A byte a cookie value may hold: visible ASCII and space, but not `"`, `;` or `\`.
fn is_value_byte(b: u8) -> bool {
    (0x20..0x7f).contains(&b) && b != b'"' && b != b';' && b != b'\\'
}

/// A byte a `Path` may hold: visible ASCII and space, but not `;`.
fn is_path_byte(b: u8) -> bool {
    (0x20..0x7f).contains(&b) && b != b';'
}

/// `s` without the bytes `valid` refuses (Go drops them, and logs).
fn sanitize(s: &str, valid: fn(u8) -> bool) -> String {
    if s.bytes().all(valid) {
        return s.to_string();
    }
    log::warn!("invalid byte in cookie field {s:?}; dropping invalid bytes");
    s.bytes().filter(|&b| valid(b)).map(char::from).collect()
}

/// A domain name (an optional leading dot; labels of letters, digits and inner dashes,
/// at least one letter) or an IPv4 address (Go's `validCookieDomain`).
fn is_valid_domain(v: &str) -> bool {
    is_domain_name(v) || v.parse::<Ipv4Addr>().is_ok()
}

fn is_domain_name(s: &str) -> bool {
    if s.is_empty() || s.len() > 255 {
        return false;
    }
    let s = s.strip_prefix('.').unwrap_or(s);
    let (mut last, mut letter, mut label) = (b'.', false, 0);
    for c in s.bytes() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {
                letter = true;
                label += 1;
            }
            b'0'..=b'9' => label += 1,
            b'-' if last != b'.' => label += 1,
            b'.' if last != b'.' && last != b'-' && (1..=63).contains(&label) => label = 0,
            _ => return false,
        }
        last = c;
    }
    last != b'-' && label <= 63 && letter
}

#[cfg(test)]
mod tests;
