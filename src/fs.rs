//! Serving files (Go's `http.FileServer`, `http.ServeFile` and `http.ServeContent`).
//!
//! A file request travels through these parts, in order:
//!
//! 1. `fs/resolve.rs`: the URL path is decoded and cleaned, and the file is opened under
//!    the root (never outside it).
//! 2. This file: redirects to the canonical URL (`dir` → `dir/`, `…/index.html` → `./`),
//!    a directory's `index.html`, or else
//! 3. `fs/listing.rs`: the directory's listing.
//! 4. `fs/content.rs`: a file's bytes, after `fs/conditional.rs` (304, 412), `fs/mime.rs`
//!    (`Content-Type`) and `fs/range.rs` (206, 416).
//!
//! File I/O blocks, so [`FileServer`] runs on the blocking pool (its
//! [`is_blocking`](Handler::is_blocking) is true): a large file is read and written in
//! pieces that wait for a slow client, and memory stays flat. Call [`serve_file`] and
//! [`serve_content`] from a [`blocking`](crate::blocking) handler for the same reason;
//! from an inline handler the whole response is buffered before it is sent.

mod conditional;
mod content;
mod listing;
mod mime;
mod range;
mod resolve;

use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use http::header::{LAST_MODIFIED, LOCATION};
use http::{HeaderValue, StatusCode};

use self::content::fail;
use self::resolve::Scope;
use crate::{Handler, Request, ResponseWriter};

/// A handler that serves the files under a directory (Go's
/// `http.FileServer(http.Dir(root))`); made by [`file_server`].
///
/// For a request path `/a/b.txt` it serves `root/a/b.txt`:
///
/// - The path is percent-decoded and cleaned; `..` never climbs above `root`, however it
///   is spelled (`/../`, `/%2e%2e/`, `/..%2f`). A request path that does not decode
///   (a bad `%` escape, a NUL byte) gets `400 Bad Request`.
/// - Symbolic links are followed while they stay inside `root`; one that leads outside is
///   answered `404`, as if it did not exist (Go would follow it).
/// - A directory is redirected to its URL with a trailing slash (`301 Location: dir/`),
///   a file URL with one to the URL without (`../name`), and any URL ending in
///   `/index.html` to `./`. The redirects are relative, as Go's, so they work under a
///   path prefix.
/// - A directory is served by its `index.html` if it has one, else by an HTML listing
///   of its entries, sorted by name, directories marked with `/`.
/// - A file gets `Content-Type` (by extension, else sniffed), `Last-Modified`,
///   `Accept-Ranges: bytes` and `Content-Length`; conditional and range requests are
///   answered as [`serve_content`] describes. HEAD gets the same head without the body.
/// - Missing files get `404 page not found`, unreadable ones `403 Forbidden`, anything
///   else `500 Internal Server Error` (the details go to the log).
///
/// Like Go's, it serves every file under `root`, dot files (`.git`, `.env`) included: give
/// it a directory that holds only what is meant to be public.
///
/// ```no_run
/// use nethttp::{file_server, ServeMux};
///
/// let mut mux = ServeMux::new();
/// mux.handle("GET /", file_server("public"));
/// nethttp::listen_and_serve("127.0.0.1:8000", mux)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct FileServer {
    /// The directory served. Resolved (links, relative paths) at each request, so it may
    /// be created or replaced while the server runs.
    root: PathBuf,
}

/// A [`FileServer`] for the files under `root` (Go's `http.FileServer(http.Dir(root))`).
/// An empty path means the current directory.
pub fn file_server(root: impl Into<PathBuf>) -> FileServer {
    let mut root = root.into();
    if root.as_os_str().is_empty() {
        root = PathBuf::from(".");
    }
    FileServer { root }
}

impl FileServer {
    /// The directory served.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl Handler for FileServer {
    fn serve_http(&self, w: &mut ResponseWriter, r: &mut Request) {
        let Some(decoded) = resolve::decode(r.path()) else {
            return fail(w, "invalid URL path", StatusCode::BAD_REQUEST);
        };
        let path = resolve::join(&self.root, &resolve::clean(&decoded));
        serve_path(w, r, Scope::Under(&self.root), &path, &decoded, true);
    }

    /// Always: file I/O blocks.
    fn may_block(&self) -> bool {
        true
    }

    fn is_blocking(&self, _r: &Request) -> bool {
        true
    }
}

/// Replies with the file or directory at `path` (Go's `http.ServeFile`), whatever the
/// request's URL path names.
///
/// A directory needs a request URL ending in `/` (else `301` to add it) and is served by
/// its `index.html` or a listing; a file as [`serve_content`] describes. A request whose
/// URL path ends in `/index.html` is redirected to `./`, and one whose URL path holds a
/// `..` segment is refused with `400` (in case `path` was built from the URL). Unlike
/// [`FileServer`], `path` may lead anywhere, through any link: the caller chose it.
///
/// ```
/// use nethttp::{blocking, Request, ResponseWriter};
///
/// let favicon = blocking(|w: &mut ResponseWriter, r: &mut Request| {
///     nethttp::serve_file(w, r, "static/favicon.ico");
/// });
/// # fn is_handler(_: impl nethttp::Handler) {}
/// # is_handler(favicon);
/// ```
pub fn serve_file(w: &mut ResponseWriter, r: &Request, path: impl AsRef<Path>) {
    let Some(decoded) = resolve::decode(r.path()) else {
        return fail(w, "invalid URL path", StatusCode::BAD_REQUEST);
    };
    if resolve::contains_dot_dot(&decoded) {
        return fail(w, "invalid URL path", StatusCode::BAD_REQUEST);
    }
    serve_path(w, r, Scope::Anywhere, path.as_ref(), &decoded, false);
}

/// Replies with `content` (Go's `http.ServeContent`), handling conditional and range
/// requests.
///
/// - `Content-Type`: kept if the handler set one, else found from `name`'s extension,
///   else sniffed from the first 512 bytes. `name` is used for nothing else and may be
///   empty.
/// - `modtime`, unless `None` or the Unix epoch, is sent as `Last-Modified` and checked
///   against `If-Modified-Since` (→ 304), `If-Unmodified-Since` (→ 412) and a dated
///   `If-Range`, in whole seconds.
/// - An `ETag` the handler set before the call is checked against `If-Match` (→ 412),
///   `If-None-Match` (→ 304 for GET and HEAD, else 412) and a tagged `If-Range`, in the
///   order of RFC 9110 §13.2.2.
/// - `Range: bytes=…` gets `206 Partial Content` with `Content-Range` for one range, a
///   `multipart/byteranges` body for several, `416` with `Content-Range: bytes */SIZE`
///   if none can be satisfied. Ranges that add up to more than the content are ignored.
/// - `Content-Length` is always sent (unless the handler set `Content-Encoding`), and
///   `Accept-Ranges: bytes`. HEAD gets the head alone.
///
/// The size is found by seeking to the end; the bytes are read in pieces as the client
/// takes them.
///
/// ```
/// use std::io::Cursor;
/// use nethttp::{blocking, Request, ResponseWriter};
///
/// let report = blocking(|w: &mut ResponseWriter, r: &mut Request| {
///     w.headers_mut().insert("etag", "\"v1\"".parse().unwrap());
///     let csv = Cursor::new(b"day,visits\nmon,3\n".to_vec());
///     nethttp::serve_content(w, r, "report.csv", None, csv);
/// });
/// # fn is_handler(_: impl nethttp::Handler) {}
/// # is_handler(report);
/// ```
pub fn serve_content(
    w: &mut ResponseWriter,
    r: &Request,
    name: &str,
    modtime: Option<SystemTime>,
    mut content: impl Read + Seek,
) {
    let size = content
        .seek(SeekFrom::End(0))
        .and_then(|size| content.seek(SeekFrom::Start(0)).map(|_| size));
    match size {
        Ok(size) => content::serve(w, r, name, modtime, size, &mut content::Reader(content)),
        Err(e) => {
            log::warn!("serve_content: {e}");
            fail(w, "seeker can't seek", StatusCode::INTERNAL_SERVER_ERROR);
        }
    }
}

/// Go's `serveFile`: serves the file or directory at `path`, opened within `scope`.
/// `url_path` is the decoded request path; `redirect` asks for the canonical-URL
/// redirects of the file server.
fn serve_path(
    w: &mut ResponseWriter,
    r: &Request,
    scope: Scope<'_>,
    path: &Path,
    url_path: &[u8],
    redirect: bool,
) {
    if url_path.ends_with(b"/index.html") {
        return local_redirect(w, r, "./");
    }
    let (mut file, mut metadata) = match scope.open(path) {
        Ok(opened) => opened,
        Err(e) => return fail_io(w, path, &e),
    };
    let slash = url_path.ends_with(b"/");
    if redirect && !metadata.is_dir() && slash {
        return local_redirect(w, r, &format!("../{}", last_segment(r.path())));
    }
    let mut name = file_name(path);
    if metadata.is_dir() {
        if !slash {
            return local_redirect(w, r, &format!("{}/", last_segment(r.path())));
        }
        if let Some((index, index_metadata)) = open_index(scope, path) {
            (file, metadata, name) = (index, index_metadata, "index.html".to_string());
        }
    }
    if metadata.is_dir() {
        let modtime = metadata.modified().ok();
        if conditional::not_modified_since(r, modtime) {
            return conditional::write_not_modified(w);
        }
        if let Some(secs) = modtime.and_then(conditional::unix_seconds) {
            w.headers_mut()
                .insert(LAST_MODIFIED, conditional::http_date(secs));
        }
        if let Err(e) = listing::write(w, path) {
            log::warn!("listing {}: {e}", path.display());
            fail(
                w,
                "Error reading directory",
                StatusCode::INTERNAL_SERVER_ERROR,
            );
        }
        return;
    }
    let modtime = metadata.modified().ok();
    content::serve(w, r, &name, modtime, metadata.len(), &mut file);
}

/// The `index.html` of the directory `dir`, if it has one that is not itself a directory.
fn open_index(scope: Scope<'_>, dir: &Path) -> Option<(File, Metadata)> {
    let (file, metadata) = scope.open(&dir.join("index.html")).ok()?;
    (!metadata.is_dir()).then_some((file, metadata))
}

/// The file name at the end of `path` (for its extension), `""` if none.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The last non-empty segment of a (still escaped) URL path: Go's `path.Base`.
fn last_segment(path: &str) -> &str {
    path.trim_end_matches('/').rsplit('/').next().unwrap_or("")
}

/// A `301` to `to`, relative to the request's URL, with its query (Go's `localRedirect`).
fn local_redirect(w: &mut ResponseWriter, r: &Request, to: &str) {
    let to = match r.uri().query() {
        Some(query) if !query.is_empty() => format!("{to}?{query}"),
        _ => to.to_string(),
    };
    match HeaderValue::try_from(to) {
        Ok(location) => {
            w.headers_mut().insert(LOCATION, location);
            w.write_header(StatusCode::MOVED_PERMANENTLY);
        }
        Err(_) => fail(w, "invalid URL path", StatusCode::BAD_REQUEST),
    }
}

/// Answers an error opening `path`: 404 or 403 by its kind, else 500 with the details in
/// the log only (Go's `toHTTPError`: the client learns nothing about the file system).
fn fail_io(w: &mut ResponseWriter, path: &Path, e: &io::Error) {
    match e.kind() {
        io::ErrorKind::NotFound => fail(w, "404 page not found", StatusCode::NOT_FOUND),
        io::ErrorKind::PermissionDenied => fail(w, "403 Forbidden", StatusCode::FORBIDDEN),
        _ => {
            log::warn!("opening {}: {e}", path.display());
            fail(
                w,
                "500 Internal Server Error",
                StatusCode::INTERNAL_SERVER_ERROR,
            );
        }
    }
}
