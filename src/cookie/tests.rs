//! Go's own cases (`net/http/cookie_test.go`): what `SetCookie` writes and what
//! `readCookies` reads.

use std::time::Duration;

use super::*;

fn written(cookie: Cookie) -> String {
    cookie.to_string()
}

fn named(name: &str, value: &str) -> Cookie {
    Cookie::new(name, value)
}

#[test]
fn writes_attributes_as_go_does() {
    let mut c = named("cookie-2", "two");
    c.max_age = Some(3600);
    assert_eq!(written(c), "cookie-2=two; Max-Age=3600");
    let mut c = named("cookie-3", "three");
    c.domain = Some(".example.com".into());
    assert_eq!(written(c), "cookie-3=three; Domain=example.com");
    let mut c = named("cookie-4", "four");
    c.path = Some("/restricted/".into());
    assert_eq!(written(c), "cookie-4=four; Path=/restricted/");
    for bad in ["wrong;bad.abc", "bad-.abc", "::1", "a..b", "-a.b", "1.2.3"] {
        let mut c = named("cookie-5", "five");
        c.domain = Some(bad.into());
        assert_eq!(written(c), "cookie-5=five", "domain {bad}");
    }
    let mut c = named("cookie-7", "seven");
    c.domain = Some("127.0.0.1".into());
    assert_eq!(written(c), "cookie-7=seven; Domain=127.0.0.1");
    let mut c = named("cookie-9", "expiring");
    c.expires = Some(UNIX_EPOCH + Duration::from_secs(1_257_894_000));
    assert_eq!(
        written(c),
        "cookie-9=expiring; Expires=Tue, 10 Nov 2009 23:00:00 GMT"
    );
    let mut c = named("cookie-10", "max-age-negative");
    c.max_age = Some(-1);
    assert_eq!(written(c), "cookie-10=max-age-negative; Max-Age=0");
}

#[test]
fn writes_flags_in_go_order() {
    for (same_site, text) in [
        (SameSite::Lax, "; SameSite=Lax"),
        (SameSite::Strict, "; SameSite=Strict"),
        (SameSite::None, "; SameSite=None"),
    ] {
        let mut c = named("s", "v");
        c.same_site = Some(same_site);
        assert_eq!(written(c), format!("s=v{text}"));
    }
    let mut c = named("cookie-16", "partitioned");
    c.same_site = Some(SameSite::None);
    c.secure = true;
    c.http_only = true;
    c.path = Some("/".into());
    c.partitioned = true;
    assert_eq!(
        written(c),
        "cookie-16=partitioned; Path=/; HttpOnly; Secure; SameSite=None; Partitioned"
    );
}

#[test]
fn quotes_and_sanitises_values_as_go_does() {
    for (value, text) in [
        ("v$1", "v$1"),
        ("a z", "\"a z\""),
        (" z", "\" z\""),
        ("a ", "\"a \""),
        (" ", "\" \""),
        ("a,z", "\"a,z\""),
        (",", "\",\""),
        ("", ""),
        ("a\"b;c\\d", "abcd"),
        ("\u{e9}t\u{e9}", "t"),
        ("a\x7fb\tc", "abc"),
    ] {
        assert_eq!(
            written(named("n", value)),
            format!("n={text}"),
            "value {value:?}"
        );
    }
    let mut c = named("quoted", "quoted");
    c.quoted = true;
    assert_eq!(written(c), "quoted=\"quoted\"");
    let mut c = named("p", "v");
    c.path = Some("/a;b\x01c".into());
    assert_eq!(written(c), "p=v; Path=/abc");
}

#[test]
fn an_invalid_name_writes_nothing() {
    for name in ["", "\t", "\r", "a\nb", "a b", "a;b", "a=b", "\u{e9}"] {
        assert_eq!(written(named(name, "v")), "", "name {name:?}");
    }
}

fn read(line: &str) -> Vec<(String, String, bool)> {
    let mut cookies = Vec::new();
    read_cookies(line, &mut cookies);
    cookies
        .into_iter()
        .map(|c| (c.name, c.value, c.quoted))
        .collect()
}

fn pair(name: &str, value: &str, quoted: bool) -> (String, String, bool) {
    (name.into(), value.into(), quoted)
}

#[test]
fn reads_as_go_does() {
    assert_eq!(
        read("Cookie-1=v$1; c2=v2"),
        [pair("Cookie-1", "v$1", false), pair("c2", "v2", false)]
    );
    assert_eq!(
        read(r#"Cookie-1="v$1"; c2="v2""#),
        [pair("Cookie-1", "v$1", true), pair("c2", "v2", true)]
    );
    assert_eq!(
        read(" ;;Cookie-1=v$1;;c2=v2; "),
        [pair("Cookie-1", "v$1", false), pair("c2", "v2", false)]
    );
    assert_eq!(read(""), []);
    // A name alone is a cookie with an empty value, as Go reads it.
    assert_eq!(read("solo"), [pair("solo", "", false)]);
    assert_eq!(read(r#"q="""#), [pair("q", "", true)]);
}

#[test]
fn invalid_pairs_are_skipped() {
    assert_eq!(
        read(r#"bad name=1; ok=2; a=b"c; d=e\f; =g; h="i; j=k l"#),
        [pair("ok", "2", false), pair("j", "k l", false)]
    );
    assert_eq!(read("\u{e9}=1; x=\u{e9}; y=1"), [pair("y", "1", false)]);
}
