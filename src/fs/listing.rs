//! The HTML listing of a directory that has no `index.html` (Go's `dirList`): one link
//! per entry, sorted by name, a `/` after directory names. Names are HTML-escaped where
//! they are shown and percent-encoded in links, so no name can break out of the page or
//! turn into a query, a fragment or a scheme.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use http::header::CONTENT_TYPE;
use http::HeaderValue;

use crate::mux::path::html_escape;
use crate::ResponseWriter;

/// One directory entry as listed.
struct Entry {
    /// The name's bytes (a Unix file name need not be UTF-8).
    name: Vec<u8>,
    /// The entry itself is a directory (a symbolic link to one is not, as in Go).
    is_dir: bool,
}

/// Writes the listing of `dir` as the response body. An error reading the directory
/// comes back before anything is written.
pub(super) fn write(w: &mut ResponseWriter, dir: &Path) -> io::Result<()> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let name = entry.file_name().as_bytes().to_vec();
        entries.push(Entry { name, is_dir });
    }
    entries.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    w.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    let page = render(&entries);
    let _ = w.write_all(page.as_bytes()); // a failed write means the client left
    Ok(())
}

/// The page for sorted `entries`.
fn render(entries: &[Entry]) -> String {
    let mut page = String::from(
        "<!doctype html>\n<meta name=\"viewport\" content=\"width=device-width\">\n<pre>\n",
    );
    for entry in entries {
        let mut name = String::from_utf8_lossy(&entry.name).into_owned();
        let mut href = href(&entry.name);
        if entry.is_dir {
            name.push('/');
            href.push('/');
        }
        let _ = writeln!(
            page,
            "<a href=\"{}\">{}</a>",
            html_escape(&href),
            html_escape(&name)
        );
    }
    page.push_str("</pre>\n");
    page
}

/// A relative link to the entry `name`: percent-encoded as a URL path (Go's
/// `url.URL{Path: name}.String()`), with `./` in front of a name holding a `:`, which
/// would otherwise read as a scheme (`javascript:…`).
fn href(name: &[u8]) -> String {
    let mut href = String::with_capacity(name.len() + 2);
    if name.contains(&b':') {
        href.push_str("./");
    }
    for &b in name {
        if b.is_ascii_alphanumeric() || b"-_.~$&+,:;=@".contains(&b) {
            href.push(b as char);
        } else {
            let _ = write!(href, "%{b:02X}");
        }
    }
    href
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, is_dir: bool) -> Entry {
        Entry {
            name: name.as_bytes().to_vec(),
            is_dir,
        }
    }

    #[test]
    fn links_are_escaped_for_urls_and_html() {
        assert_eq!(href(b"a b.txt"), "a%20b.txt");
        assert_eq!(href(b"q?#%.txt"), "q%3F%23%25.txt");
        assert_eq!(href(b"<x>\"'&"), "%3Cx%3E%22%27&");
        assert_eq!(href(b"javascript:alert(1)"), "./javascript:alert%281%29");
        assert_eq!(href("é".as_bytes()), "%C3%A9");
        assert_eq!(href(b"sub/dir"), "sub%2Fdir", "a name is one segment");
    }

    #[test]
    fn renders_entries_in_order_with_slashes_on_directories() {
        let page = render(&[entry("a&b", false), entry("dir", true)]);
        assert_eq!(
            page,
            "<!doctype html>\n<meta name=\"viewport\" content=\"width=device-width\">\n<pre>\n\
             <a href=\"a&amp;b\">a&amp;b</a>\n\
             <a href=\"dir/\">dir/</a>\n\
             </pre>\n"
        );
    }

    #[test]
    fn names_cannot_inject_markup() {
        let page = render(&[entry("<script>alert(1)</script>", false)]);
        assert!(!page.contains("<script>"), "{page}");
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{page}"
        );
    }
}
