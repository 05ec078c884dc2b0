//! Content sniffing: a `Content-Type` guessed from a body's first bytes (Go's
//! `http.DetectContentType`, after the WHATWG MIME Sniffing Standard).
//!
//! Used by `response.rs` when a handler writes a body without setting `Content-Type`, at
//! the moment the head is decided (step 2 of the life of a response). No I/O here.
//!
//! The algorithm, in order:
//!
//! 1. Look at the first [`SNIFF_LEN`] bytes only.
//! 2. Try each row of [`TABLE`], top to bottom; the first that matches names the type.
//!    HTML tags and `<?xml` may follow leading whitespace; every other signature must start
//!    at the first byte.
//! 3. No row matched: `text/plain; charset=utf-8` if, past leading whitespace, no byte is a
//!    binary control byte; else `application/octet-stream`.
//!
//! The table holds the signatures Go recognises, in Go's order: HTML, XML, PDF,
//! PostScript, the UTF-16 and UTF-8 byte order marks, images (icon, BMP, GIF, WebP, PNG,
//! JPEG), audio and video (AIFF, MP3 with an ID3 tag, Ogg, MIDI, AVI, WAVE, MP4, WebM),
//! fonts (EOT, TrueType, OpenType, collections, WOFF, WOFF2), archives (gzip, zip, RAR) and
//! WebAssembly. Like Go, it does not look for MP3 frames without an ID3 tag.

/// How many leading bytes decide the type (Go's `sniffLen`, the standard's resource
/// header).
pub(crate) const SNIFF_LEN: usize = 512;

const HTML: &str = "text/html; charset=utf-8";

/// How one row of the table recognises its type.
#[derive(Debug, Clone, Copy)]
enum Signature {
    /// An HTML tag or comment opener, after leading whitespace, letters compared without
    /// regard to case, then a space or `>`.
    Tag(&'static [u8]),
    /// These bytes, after leading whitespace.
    AfterSpace(&'static [u8]),
    /// These bytes at the start.
    Prefix(&'static [u8]),
    /// Bytes at the start compared under a mask: byte `i` matches if
    /// `data[i] & mask[i] == pattern[i]` (mask 0x00: any byte). The data must be at least
    /// as long as the pattern.
    Masked {
        pattern: &'static [u8],
        mask: &'static [u8],
    },
    /// An MP4 `ftyp` box naming an `mp4` brand (the standard's "signature for MP4").
    Mp4,
}

use Signature::{AfterSpace, Masked, Mp4, Prefix, Tag};

/// The signatures, in the order they are tried, each with its type.
const TABLE: &[(Signature, &str)] = &[
    (Tag(b"<!DOCTYPE HTML"), HTML),
    (Tag(b"<HTML"), HTML),
    (Tag(b"<HEAD"), HTML),
    (Tag(b"<SCRIPT"), HTML),
    (Tag(b"<IFRAME"), HTML),
    (Tag(b"<H1"), HTML),
    (Tag(b"<DIV"), HTML),
    (Tag(b"<FONT"), HTML),
    (Tag(b"<TABLE"), HTML),
    (Tag(b"<A"), HTML),
    (Tag(b"<STYLE"), HTML),
    (Tag(b"<TITLE"), HTML),
    (Tag(b"<B"), HTML),
    (Tag(b"<BODY"), HTML),
    (Tag(b"<BR"), HTML),
    (Tag(b"<P"), HTML),
    (Tag(b"<!--"), HTML),
    (AfterSpace(b"<?xml"), "text/xml; charset=utf-8"),
    (Prefix(b"%PDF-"), "application/pdf"),
    (Prefix(b"%!PS-Adobe-"), "application/postscript"),
    // Byte order marks; each needs a few bytes of text after it.
    (
        Masked {
            pattern: b"\xFE\xFF\x00\x00",
            mask: b"\xFF\xFF\x00\x00",
        },
        "text/plain; charset=utf-16be",
    ),
    (
        Masked {
            pattern: b"\xFF\xFE\x00\x00",
            mask: b"\xFF\xFF\x00\x00",
        },
        "text/plain; charset=utf-16le",
    ),
    (
        Masked {
            pattern: b"\xEF\xBB\xBF\x00",
            mask: b"\xFF\xFF\xFF\x00",
        },
        "text/plain; charset=utf-8",
    ),
    // Images.
    (Prefix(b"\x00\x00\x01\x00"), "image/x-icon"),
    (Prefix(b"\x00\x00\x02\x00"), "image/x-icon"),
    (Prefix(b"BM"), "image/bmp"),
    (Prefix(b"GIF87a"), "image/gif"),
    (Prefix(b"GIF89a"), "image/gif"),
    (
        Masked {
            pattern: b"RIFF\x00\x00\x00\x00WEBPVP",
            mask: b"\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF\xFF\xFF",
        },
        "image/webp",
    ),
    (Prefix(b"\x89PNG\r\n\x1A\n"), "image/png"),
    (Prefix(b"\xFF\xD8\xFF"), "image/jpeg"),
    // Audio and video, in the standard's order.
    (
        Masked {
            pattern: b"FORM\x00\x00\x00\x00AIFF",
            mask: RIFF_MASK,
        },
        "audio/aiff",
    ),
    (Prefix(b"ID3"), "audio/mpeg"),
    (Prefix(b"OggS\x00"), "application/ogg"),
    (Prefix(b"MThd\x00\x00\x00\x06"), "audio/midi"),
    (
        Masked {
            pattern: b"RIFF\x00\x00\x00\x00AVI ",
            mask: RIFF_MASK,
        },
        "video/avi",
    ),
    (
        Masked {
            pattern: b"RIFF\x00\x00\x00\x00WAVE",
            mask: RIFF_MASK,
        },
        "audio/wave",
    ),
    (Mp4, "video/mp4"),
    (Prefix(b"\x1A\x45\xDF\xA3"), "video/webm"),
    // Fonts.
    (
        Masked {
            pattern: &EOT_PATTERN,
            mask: &EOT_MASK,
        },
        "application/vnd.ms-fontobject",
    ),
    (Prefix(b"\x00\x01\x00\x00"), "font/ttf"),
    (Prefix(b"OTTO"), "font/otf"),
    (Prefix(b"ttcf"), "font/collection"),
    (Prefix(b"wOFF"), "font/woff"),
    (Prefix(b"wOF2"), "font/woff2"),
    // Archives. RAR uses RAR Labs' own signatures (v1.5 to v4, then v5), as Go does.
    (Prefix(b"\x1F\x8B\x08"), "application/x-gzip"),
    (Prefix(b"PK\x03\x04"), "application/zip"),
    (Prefix(b"Rar!\x1A\x07\x00"), "application/x-rar-compressed"),
    (
        Prefix(b"Rar!\x1A\x07\x01\x00"),
        "application/x-rar-compressed",
    ),
    (Prefix(b"\x00asm"), "application/wasm"),
];

/// The mask of the RIFF-style containers: a four-byte tag, a length (any), a form type.
const RIFF_MASK: &[u8] = b"\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF";

/// Embedded OpenType: 34 bytes of header (any), then the magic `LP`.
const EOT_PATTERN: [u8; 36] = {
    let mut pattern = [0; 36];
    pattern[34] = b'L';
    pattern[35] = b'P';
    pattern
};
const EOT_MASK: [u8; 36] = {
    let mut mask = [0; 36];
    mask[34] = 0xFF;
    mask[35] = 0xFF;
    mask
};

/// The `Content-Type` of content that starts with `data` (Go's `http.DetectContentType`).
///
/// Only the first 512 bytes are looked at. The answer is always a valid type: when nothing
/// more specific fits, `application/octet-stream`. Text types carry `charset=utf-8` (or the
/// UTF-16 charset their byte order mark names).
///
/// ```
/// use nethttp::detect_content_type;
///
/// assert_eq!(detect_content_type(b"  <!doctype html><p>hi"), "text/html; charset=utf-8");
/// assert_eq!(detect_content_type(b"\x89PNG\r\n\x1a\n..."), "image/png");
/// assert_eq!(detect_content_type(b"{\"json\": true}"), "text/plain; charset=utf-8");
/// assert_eq!(detect_content_type(b"\x00\x01\x02"), "application/octet-stream");
/// ```
pub fn detect_content_type(data: &[u8]) -> &'static str {
    let data = &data[..data.len().min(SNIFF_LEN)];
    let text = &data[data.iter().take_while(|&&b| is_space(b)).count()..];
    TABLE
        .iter()
        .find(|(signature, _)| signature.matches(data, text))
        .map(|&(_, content_type)| content_type)
        .unwrap_or_else(|| match text.iter().any(|&b| is_binary(b)) {
            false => "text/plain; charset=utf-8",
            true => "application/octet-stream",
        })
}

impl Signature {
    /// Whether the sniffed `data` matches; `text` is `data` past its leading whitespace.
    fn matches(&self, data: &[u8], text: &[u8]) -> bool {
        match *self {
            Tag(tag) => is_tag(text, tag),
            AfterSpace(bytes) => text.starts_with(bytes),
            Prefix(bytes) => data.starts_with(bytes),
            Masked { pattern, mask } => {
                data.len() >= pattern.len()
                    && pattern
                        .iter()
                        .zip(mask)
                        .zip(data)
                        .all(|((&p, &m), &d)| d & m == p)
            }
            Mp4 => is_mp4(data),
        }
    }
}

/// `text` opens with `tag` (its letters in any case), followed by a space or `>`.
fn is_tag(text: &[u8], tag: &[u8]) -> bool {
    match text.get(tag.len()) {
        Some(b' ' | b'>') => text[..tag.len()].eq_ignore_ascii_case(tag),
        _ => false,
    }
}

/// An `ftyp` box that fits in `data` and lists `mp4` as its major brand or a compatible
/// brand (the minor version, bytes 12 to 15, is skipped).
fn is_mp4(data: &[u8]) -> bool {
    let Some(size) = data.get(..4) else {
        return false;
    };
    let size = u32::from_be_bytes([size[0], size[1], size[2], size[3]]) as usize;
    if data.len() < 12 || data.len() < size || size % 4 != 0 || &data[4..8] != b"ftyp" {
        return false;
    }
    (8..size)
        .step_by(4)
        .filter(|&at| at != 12)
        .any(|at| &data[at..at + 3] == b"mp4")
}

/// Whitespace as the standard defines it: tab, line feed, form feed, carriage return, space.
fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

/// A control byte that text does not contain (the standard's "binary data byte"): the C0
/// controls other than tab, line feed, form feed, carriage return and escape.
fn is_binary(b: u8) -> bool {
    matches!(b, 0x00..=0x08 | 0x0B | 0x0E..=0x1A | 0x1C..=0x1F)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cases: &[(&[u8], &str)]) {
        for &(data, expected) in cases {
            assert_eq!(
                detect_content_type(data),
                expected,
                "{:?}",
                String::from_utf8_lossy(data)
            );
        }
    }

    #[test]
    fn html_tags_after_whitespace_in_any_case() {
        check(&[
            (b"<!DOCTYPE HTML><html>", HTML),
            (b"<!doctype html>", HTML),
            (b" \t\r\n\x0c<HtMl>", HTML),
            (b"<head >", HTML),
            (b"<script>alert(1)", HTML),
            (b"<iframe src=x>", HTML),
            (b"<h1>Title</h1>", HTML),
            (b"<div>", HTML),
            (b"<font>", HTML),
            (b"<table>", HTML),
            (b"<a href=x>", HTML),
            (b"<style>", HTML),
            (b"<title>", HTML),
            (b"<b>bold</b>", HTML),
            (b"<body>", HTML),
            (b"<br>", HTML),
            (b"<p>para", HTML),
            (b"<!-- comment -->", HTML),
        ]);
    }

    #[test]
    fn a_tag_needs_a_space_or_angle_bracket_after_it() {
        check(&[
            (b"<html", "text/plain; charset=utf-8"),
            (b"<htmlx>", "text/plain; charset=utf-8"),
            (b"<ab>", "text/plain; charset=utf-8"),
            (b"<pre>", "text/plain; charset=utf-8"),
            (b"<!--x", "text/plain; charset=utf-8"),
            (b"<htm", "text/plain; charset=utf-8"),
        ]);
    }

    #[test]
    fn xml_pdf_postscript() {
        check(&[
            (b"<?xml version=\"1.0\"?>", "text/xml; charset=utf-8"),
            (b"\n <?xml", "text/xml; charset=utf-8"),
            (b"<?XML", "text/plain; charset=utf-8"),
            (b"%PDF-1.7\n", "application/pdf"),
            (b" %PDF-1.7", "text/plain; charset=utf-8"),
            (b"%!PS-Adobe-3.0", "application/postscript"),
        ]);
    }

    #[test]
    fn byte_order_marks_need_four_bytes() {
        check(&[
            (b"\xFE\xFF\x00\x41", "text/plain; charset=utf-16be"),
            (b"\xFF\xFE\x41\x00", "text/plain; charset=utf-16le"),
            (b"\xEF\xBB\xBFhi", "text/plain; charset=utf-8"),
            (b"\xFE\xFF", "text/plain; charset=utf-8"),
            (b"\xff\xfe\xfd", "text/plain; charset=utf-8"),
        ]);
    }

    #[test]
    fn images() {
        check(&[
            (b"\x00\x00\x01\x00\x01\x00", "image/x-icon"),
            (b"\x00\x00\x02\x00\x01\x00", "image/x-icon"),
            (b"BM\x36\x00", "image/bmp"),
            (b"GIF87a", "image/gif"),
            (b"GIF89a\x01\x00", "image/gif"),
            (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
            (b"\x89PNG\x0D\x0A\x1A\x0A\x00\x00", "image/png"),
            (b"\xFF\xD8\xFF\xE0", "image/jpeg"),
        ]);
    }

    #[test]
    fn audio_and_video() {
        check(&[
            (b"FORM\x00\x00\x00\x00AIFFCOMM", "audio/aiff"),
            (b"ID3\x04\x00", "audio/mpeg"),
            (b"OggS\x00\x02", "application/ogg"),
            (b"MThd\x00\x00\x00\x06\x00\x01", "audio/midi"),
            (b"RIFF\x24\x00\x00\x00AVI LIST", "video/avi"),
            (b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wave"),
            (b"\x1A\x45\xDF\xA3\x01", "video/webm"),
        ]);
    }

    #[test]
    fn mp4_by_its_ftyp_box() {
        let brand = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom";
        let compatible = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00iso2mp41";
        let minor_only = b"\x00\x00\x00\x10ftypisommp41";
        let box_too_long = b"\x00\x00\x00\x20ftypmp42\x00\x00\x00\x00";
        check(&[
            (brand, "video/mp4"),
            (compatible, "video/mp4"),
            (minor_only, "application/octet-stream"),
            (box_too_long, "application/octet-stream"),
            (b"\x00\x00\x00\x18ftyp", "application/octet-stream"),
        ]);
    }

    #[test]
    fn fonts() {
        let mut eot = vec![0x01; 34];
        eot.extend_from_slice(b"LP\x00\x00");
        check(&[
            (&eot, "application/vnd.ms-fontobject"),
            (b"\x00\x01\x00\x00\x00\x0F", "font/ttf"),
            (b"OTTO\x00", "font/otf"),
            (b"ttcf\x00\x01", "font/collection"),
            (b"wOFF\x00\x01", "font/woff"),
            (b"wOF2\x00\x01", "font/woff2"),
        ]);
    }

    #[test]
    fn archives_and_wasm() {
        check(&[
            (b"\x1F\x8B\x08\x00", "application/x-gzip"),
            (b"PK\x03\x04\x14\x00", "application/zip"),
            (b"Rar!\x1A\x07\x00\xCF", "application/x-rar-compressed"),
            (b"Rar!\x1A\x07\x01\x00", "application/x-rar-compressed"),
            (b"Rar \x1A\x07\x00", "application/octet-stream"),
            (b"\x00asm\x01\x00\x00\x00", "application/wasm"),
        ]);
    }

    #[test]
    fn text_or_binary() {
        check(&[
            (b"", "text/plain; charset=utf-8"),
            (b"plain words\n", "text/plain; charset=utf-8"),
            ("caf\u{e9}".as_bytes(), "text/plain; charset=utf-8"),
            (b"{\"json\": true}", "text/plain; charset=utf-8"),
            (b"tab\tff\x0cesc\x1b", "text/plain; charset=utf-8"),
            (b"\x00\x01\x02binary", "application/octet-stream"),
            (b"text then \x0b", "application/octet-stream"),
            (b"text then \x1f", "application/octet-stream"),
        ]);
    }

    #[test]
    fn only_the_first_512_bytes_count() {
        let mut data = vec![b'a'; SNIFF_LEN];
        data.push(0x00);
        assert_eq!(detect_content_type(&data), "text/plain; charset=utf-8");
        data[SNIFF_LEN - 1] = 0x00;
        assert_eq!(detect_content_type(&data), "application/octet-stream");

        let mut html = vec![b' '; SNIFF_LEN - 6];
        html.extend_from_slice(b"<html>");
        assert_eq!(detect_content_type(&html), HTML, "the tag fits");
        html.insert(0, b' ');
        assert_eq!(
            detect_content_type(&html),
            "text/plain; charset=utf-8",
            "the tag's `>` is byte 513"
        );
    }
}
