//! The `Content-Type` of a file: from its name's extension, else sniffed from its first
//! bytes. Used by `content.rs` before the head is written.

/// How many leading bytes sniffing looks at (Go's `sniffLen`).
pub(super) const SNIFF_LEN: usize = crate::sniff::SNIFF_LEN;

/// Extensions (lower case, without the dot) and their types, sorted by extension so
/// [`by_extension`] can binary-search. Text types carry `charset=utf-8`, as Go's do.
const TYPES: &[(&str, &str)] = &[
    ("7z", "application/x-7z-compressed"),
    ("apng", "image/apng"),
    ("avif", "image/avif"),
    ("bmp", "image/bmp"),
    ("css", "text/css; charset=utf-8"),
    ("csv", "text/csv; charset=utf-8"),
    ("flac", "audio/flac"),
    ("gif", "image/gif"),
    ("gz", "application/gzip"),
    ("htm", "text/html; charset=utf-8"),
    ("html", "text/html; charset=utf-8"),
    ("ico", "image/vnd.microsoft.icon"),
    ("jpeg", "image/jpeg"),
    ("jpg", "image/jpeg"),
    ("js", "text/javascript; charset=utf-8"),
    ("json", "application/json"),
    ("m4a", "audio/mp4"),
    ("map", "application/json"),
    ("md", "text/markdown; charset=utf-8"),
    ("mjs", "text/javascript; charset=utf-8"),
    ("mov", "video/quicktime"),
    ("mp3", "audio/mpeg"),
    ("mp4", "video/mp4"),
    ("oga", "audio/ogg"),
    ("ogg", "audio/ogg"),
    ("ogv", "video/ogg"),
    ("otf", "font/otf"),
    ("pdf", "application/pdf"),
    ("png", "image/png"),
    ("svg", "image/svg+xml"),
    ("tar", "application/x-tar"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("ttf", "font/ttf"),
    ("txt", "text/plain; charset=utf-8"),
    ("wasm", "application/wasm"),
    ("wav", "audio/wav"),
    ("webm", "video/webm"),
    ("webmanifest", "application/manifest+json"),
    ("webp", "image/webp"),
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("xhtml", "application/xhtml+xml"),
    ("xml", "text/xml; charset=utf-8"),
    ("zip", "application/zip"),
];

/// The type for `name`'s extension (what follows its last dot), in any case; `None` if
/// it has none or the table does not know it.
pub(super) fn by_extension(name: &str) -> Option<&'static str> {
    let (_, ext) = name.rsplit_once('.')?;
    if ext.is_empty() || ext.len() > 16 {
        return None;
    }
    let ext = ext.to_ascii_lowercase();
    let i = TYPES.binary_search_by(|(e, _)| (*e).cmp(&ext)).ok()?;
    Some(TYPES[i].1)
}

/// The type of content that starts with `head`, sniffed as a response body's is (Go's
/// `DetectContentType`, which looks at [`SNIFF_LEN`] bytes at most).
pub(super) fn sniff(head: &[u8]) -> &'static str {
    crate::sniff::detect_content_type(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_lower_case() {
        for pair in TYPES.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} before {}", pair[0].0, pair[1].0);
        }
        assert!(TYPES
            .iter()
            .all(|(e, _)| e.bytes().all(|b| !b.is_ascii_uppercase())));
    }

    #[test]
    fn finds_types_by_extension() {
        assert_eq!(by_extension("index.html"), Some("text/html; charset=utf-8"));
        assert_eq!(by_extension("PHOTO.JPG"), Some("image/jpeg"));
        assert_eq!(by_extension("a.tar.gz"), Some("application/gzip"));
        assert_eq!(
            by_extension("app.mjs"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(by_extension("font.woff2"), Some("font/woff2"));
        assert_eq!(by_extension("README"), None);
        assert_eq!(by_extension("trailing."), None);
        assert_eq!(by_extension("a.unknown"), None);
    }
}
