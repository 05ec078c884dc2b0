//! A middleware built on `nethttp::Filter`: a gzip encoder. It wraps a handler with
//! `nethttp::wrap`, so a blocking route stays on the pool. (The access log beside it in
//! `main.rs` is the library's `nethttp::access_log`, built the same way.)

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use nethttp::http::header::{
    HeaderValue, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, VARY,
};
use nethttp::http::{HeaderMap, StatusCode};
use nethttp::{wrap, Filter, Handler, Request, ResponseWriter, Wrap};

/// Bodies smaller than this are sent as they are: compressing them gains nothing.
pub const MIN_GZIP: u64 = 1024;

/// Compresses responses with gzip for clients that accept it (`Accept-Encoding`), unless
/// they are already encoded, small, or of a type that is compressed already.
pub fn gzip<H: Handler>(
    next: H,
) -> Wrap<H, impl Fn(&mut ResponseWriter, &mut Request, &H) + Send + Sync + 'static> {
    wrap(next, |w: &mut ResponseWriter, r: &mut Request, next: &H| {
        w.headers_mut()
            .append(VARY, HeaderValue::from_static("Accept-Encoding"));
        if accepts_gzip(r) {
            w.add_filter(Gzip { encoder: None });
        }
        next.serve_http(w, r);
    })
}

fn accepts_gzip(r: &Request) -> bool {
    let Some(accept) = r
        .headers()
        .get(ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    accept.split(',').any(|coding| {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or("").trim();
        let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
        (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
    })
}

/// The gzip encoder of one response; `None` when it passes the body through.
pub struct Gzip {
    pub encoder: Option<GzEncoder<Vec<u8>>>,
}

impl Filter for Gzip {
    fn head(&mut self, status: &mut StatusCode, headers: &mut HeaderMap, length: Option<u64>) {
        let declared = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse().ok());
        let small = length.or(declared).is_some_and(|n: u64| n < MIN_GZIP);
        let encoded = headers.contains_key(CONTENT_ENCODING);
        let compressed_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| {
                t.starts_with("image/")
                    || t.starts_with("video/")
                    || t.contains("zip")
                    || t.contains("gzip")
            });
        let bodiless = *status == StatusCode::NO_CONTENT || *status == StatusCode::NOT_MODIFIED;
        if small || encoded || compressed_type || bodiless {
            return;
        }
        headers.remove(CONTENT_LENGTH);
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        self.encoder = Some(GzEncoder::new(Vec::new(), Compression::fast()));
    }

    fn body(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        let Some(encoder) = &mut self.encoder else {
            return out.extend_from_slice(bytes);
        };
        let _ = encoder.write_all(bytes);
        out.append(encoder.get_mut());
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        if let Some(encoder) = self.encoder.take() {
            if let Ok(rest) = encoder.finish() {
                out.extend_from_slice(&rest);
            }
        }
    }
}
