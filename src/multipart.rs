//! `multipart/form-data` read as a stream (Go's `multipart.Reader`): each part's header
//! fields, then its bytes through `Read`, so a part of any size goes where the handler
//! sends it (a file, a hash) without being held. [`Request::parse_multipart_form`] builds
//! Go's `ParseMultipartForm` on top of it (`multipart/form.rs`).
//!
//! The body is `preamble`, then for each part `--boundary CRLF headers CRLF content`, each
//! content ending at `CRLF --boundary`, the last delimiter followed by `--`, then an
//! epilogue, which is ignored. As in Go, spaces and tabs may follow a delimiter before its
//! line ends, and a body whose first delimiter line ends in a bare LF uses bare LFs
//! throughout. A malformed delimiter or header, too many or too long header lines, or a
//! body that ends inside a part are errors; `Content-Transfer-Encoding` is not decoded.

mod disposition;
mod form;
mod parser;

pub(crate) use disposition::boundary;
pub(crate) use form::read_form;
pub use form::{FileHeader, FileReader, MultipartForm};
pub use parser::{Multipart, MultipartError, Part};

#[cfg(test)]
mod tests;
