//! From a request path to a file: percent-decoding, cleaning, and opening under the
//! root without ever leaving it. The first step of the file server (`fs.rs` calls it);
//! what was opened goes on to a listing (`listing.rs`) or to `content.rs`.
//!
//! Three guards keep requests inside the root:
//!
//! 1. The path is decoded once, then cleaned as Go's `path.Clean` from `/`: `..` cannot
//!    climb above the root, whether sent as `..`, `%2e%2e`, or around an encoded slash
//!    (`..%2f`), since decoding happens before cleaning.
//! 2. A decoded NUL byte is refused (no file name holds one).
//! 3. The file found is resolved through every symbolic link and must still lie inside
//!    the (resolved) root. Links inside the root work; a link that leads out of it is
//!    answered as if the file did not exist. Go follows such links; refusing them is the
//!    safe choice for a directory others can write to.

use std::ffi::OsStr;
use std::fs::{File, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Percent-decodes a request path into bytes. `None` if an escape is malformed or the
/// path holds a NUL byte.
pub(super) fn decode(path: &str) -> Option<Vec<u8>> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                i += 2;
                (hex_value(hex[0])? << 4) | hex_value(hex[1])?
            }
            b => b,
        };
        if b == 0 {
            return None;
        }
        out.push(b);
        i += 1;
    }
    Some(out)
}

fn hex_value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// The segments of a decoded path once cleaned as Go's `path.Clean("/" + path)`: empty
/// and `.` segments dropped, each `..` removing the segment before it, and never more.
pub(super) fn clean(decoded: &[u8]) -> Vec<&[u8]> {
    let mut segments = Vec::new();
    for segment in decoded.split(|&b| b == b'/') {
        match segment {
            b"" | b"." => {}
            b".." => {
                segments.pop();
            }
            name => segments.push(name),
        }
    }
    segments
}

/// The path has a `..` segment, between slashes or backslashes (Go's `containsDotDot`,
/// which `serve_file` refuses in case the caller built its file name from the URL).
pub(super) fn contains_dot_dot(decoded: &[u8]) -> bool {
    decoded
        .split(|&b| b == b'/' || b == b'\\')
        .any(|segment| segment == b"..")
}

/// `root` joined with clean `segments`.
pub(super) fn join(root: &Path, segments: &[&[u8]]) -> PathBuf {
    let mut path = root.to_path_buf();
    path.extend(segments.iter().map(|s| OsStr::from_bytes(s)));
    path
}

/// Where files may be opened from.
#[derive(Debug, Clone, Copy)]
pub(super) enum Scope<'a> {
    /// Only inside this directory, symbolic links resolved ([`FileServer`](crate::FileServer)).
    Under(&'a Path),
    /// Wherever the caller's path leads ([`serve_file`](crate::serve_file): the caller
    /// chose the file).
    Anywhere,
}

impl Scope<'_> {
    /// Opens `path` and reads its metadata (following links). Outside the scope, or a
    /// path through something that is not a directory, is `NotFound`.
    pub(super) fn open(self, path: &Path) -> io::Result<(File, Metadata)> {
        let opened = match self {
            Scope::Anywhere => File::open(path),
            Scope::Under(root) => open_under(root, path),
        };
        let file = opened.map_err(|e| not_a_directory_is_not_found(e, path))?;
        let metadata = file.metadata()?;
        Ok((file, metadata))
    }
}

/// Opens `path` if, with every link resolved, it lies inside `root`.
fn open_under(root: &Path, path: &Path) -> io::Result<File> {
    let root = root.canonicalize()?;
    let real = path.canonicalize()?;
    if !real.starts_with(&root) {
        log::debug!("{} leads outside the root; refused", path.display());
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            "the path leads outside the root",
        ));
    }
    File::open(real)
}

/// Go's `mapOpenError`: opening `a/file.txt/b` fails with "not a directory", which to a
/// client is simply a missing file. Any other error stays as it is.
fn not_a_directory_is_not_found(e: io::Error, path: &Path) -> io::Error {
    if matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied
    ) {
        return e;
    }
    let through_a_file = path
        .ancestors()
        .skip(1)
        .any(|dir| std::fs::metadata(dir).is_ok_and(|m| !m.is_dir()));
    if through_a_file {
        io::Error::new(io::ErrorKind::NotFound, e)
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cleaned(path: &str) -> Vec<String> {
        let decoded = decode(path).expect("decodes");
        clean(&decoded)
            .iter()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect()
    }

    #[test]
    fn decodes_escapes() {
        assert_eq!(decode("/a%20b/%C3%A9").unwrap(), "/a b/é".as_bytes());
        assert_eq!(decode("/%2e%2E/x").unwrap(), b"/../x");
        assert_eq!(decode("/plain").unwrap(), b"/plain");
        assert_eq!(decode("/bad%2"), None);
        assert_eq!(decode("/bad%zz"), None);
        assert_eq!(decode("/nul%00"), None);
    }

    #[test]
    fn cleaning_never_climbs_above_the_root() {
        assert_eq!(cleaned("/../etc/passwd"), ["etc", "passwd"]);
        assert_eq!(cleaned("/%2e%2e/%2e%2e/secret"), ["secret"]);
        assert_eq!(cleaned("/..%2f..%2fsecret"), ["secret"]);
        assert_eq!(cleaned("/a/b/../../../c"), ["c"]);
        assert_eq!(cleaned("/a/./b//c/"), ["a", "b", "c"]);
        assert!(cleaned("/").is_empty());
    }

    #[test]
    fn finds_dot_dot_segments() {
        assert!(contains_dot_dot(b"/a/../b"));
        assert!(contains_dot_dot(b"/a\\..\\b"));
        assert!(contains_dot_dot(b".."));
        assert!(!contains_dot_dot(b"/a..b/c.."));
    }
}
