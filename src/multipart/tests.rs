//! The multipart reader on bodies from Go's `mime/multipart` tests and RFC 7578, read whole
//! and a byte at a time.

use std::io::Read;

use super::*;
use crate::fuzzing::Trickle;

/// Each part as (form name, file name, content), or the error, for every read size.
fn parts(body: &[u8], boundary: &str) -> Result<Vec<(String, String, Vec<u8>)>, String> {
    let mut answers = Vec::new();
    for step in [1, 2, 3, 7, 64, 1 << 20] {
        let mut reader = Multipart::new(Trickle::new(body, step), boundary);
        let mut got = Vec::new();
        let outcome = loop {
            match reader.next_part() {
                Ok(None) => break Ok(got),
                Err(e) => break Err(e.to_string()),
                Ok(Some(mut part)) => {
                    let name = part.form_name().unwrap_or_default();
                    let file = part.file_name().unwrap_or_default();
                    let mut content = Vec::new();
                    if let Err(e) = part.read_to_end(&mut content) {
                        break Err(e.to_string());
                    }
                    got.push((name, file, content));
                }
            }
        };
        answers.push(outcome);
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "read size changed the parts: {answers:?}"
    );
    answers.remove(0)
}

fn part(name: &str, file: &str, content: &[u8]) -> (String, String, Vec<u8>) {
    (name.into(), file.into(), content.into())
}

#[test]
fn reads_fields_and_files_with_preamble_and_epilogue() {
    let body = b"This is the preamble.\r\n--MyBoundary\r\nContent-Disposition: form-data; name=\"field1\"\r\n\r\nvalue1\r\n--MyBoundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"dir/a.txt\"\r\nContent-Type: text/plain\r\n\r\nline one\r\nline two\r\n\r\n--MyBoundary--\r\nThis is the epilogue.\r\n";
    assert_eq!(
        parts(body, "MyBoundary").unwrap(),
        [
            part("field1", "", b"value1"),
            part("file", "a.txt", b"line one\r\nline two\r\n")
        ]
    );
}

/// As Go's `matchAfterPrefix` decides: `CRLF--b` followed by a letter or a single dash
/// is content; followed by a space, a tab, CR, LF or `--` it is a delimiter, whose line
/// must then be a proper one.
#[test]
fn a_delimiter_lookalike_inside_content_is_content() {
    let body = b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--bb\r\n--b-x\r\n--b\r\nContent-Disposition: form-data; name=y\r\n\r\n\r\n--b--";
    assert_eq!(
        parts(body, "b").unwrap(),
        [part("x", "", b"1\r\n--bb\r\n--b-x"), part("y", "", b"")]
    );
    let junk = b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--b x\r\n--b--";
    assert_eq!(
        parts(junk, "b").unwrap_err(),
        "multipart: expecting a new Part"
    );
    // An empty part may have its delimiter right after the headers' blank line.
    let tight = b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n--b\r\nContent-Disposition: form-data; name=y\r\n\r\n--bz\r\n--b--";
    assert_eq!(
        parts(tight, "b").unwrap(),
        [part("x", "", b""), part("y", "", b"--bz")]
    );
}

#[test]
fn padding_bare_lf_and_an_empty_form_are_read_as_go_reads_them() {
    let padded = b"--b \t\r\nContent-Disposition: form-data; name=x\r\n\r\nv\r\n--b  \r\nContent-Disposition: form-data; name=y\r\n\r\nw\r\n--b-- \r\n";
    assert_eq!(
        parts(padded, "b").unwrap(),
        [part("x", "", b"v"), part("y", "", b"w")]
    );
    let lf = b"--b\nContent-Disposition: form-data; name=x\n\nv\n--b\nContent-Disposition: form-data; name=y\n\nw\n--b--\n";
    assert_eq!(
        parts(lf, "b").unwrap(),
        [part("x", "", b"v"), part("y", "", b"w")]
    );
    assert_eq!(parts(b"--b--\r\n", "b").unwrap(), []);
    assert_eq!(parts(b"preamble only\r\n--b--", "b").unwrap(), []);
}

#[test]
fn truncated_and_malformed_bodies_are_errors() {
    let truncated = b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\nno end";
    assert_eq!(
        parts(truncated, "b").unwrap_err(),
        "multipart: unexpected end of body"
    );
    let no_final = b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\nv\r\n--b";
    assert_eq!(
        parts(no_final, "b").unwrap_err(),
        "multipart: unexpected end of body"
    );
    let bad_header = b"--b\r\nno colon here\r\n\r\nv\r\n--b--";
    assert_eq!(
        parts(bad_header, "b").unwrap_err(),
        "multipart: malformed MIME header line"
    );
    let spaced = b"--b\r\nContent-Disposition : form-data\r\n\r\nv\r\n--b--";
    assert!(parts(spaced, "b").is_err());
    assert_eq!(
        parts(b"", "b").unwrap_err(),
        "multipart: unexpected end of body"
    );
    let headers_cut = b"--b\r\nContent-Disposition: form-data; name=x\r\n";
    assert_eq!(
        parts(headers_cut, "b").unwrap_err(),
        "multipart: unexpected end of body"
    );
}

#[test]
fn a_form_keeps_small_files_in_memory_and_spills_large_ones() {
    let big = vec![b'z'; 5000];
    let mut body = b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--b\r\nContent-Disposition: form-data; name=small; filename=s.txt\r\n\r\nsmall\r\n--b\r\nContent-Disposition: form-data; name=big; filename=/x/big.bin\r\n\r\n".to_vec();
    body.extend_from_slice(&big);
    body.extend_from_slice(
        b"\r\n--b\r\nContent-Disposition: form-data\r\n\r\nnameless\r\n--b--\r\n",
    );
    let mut reader = Multipart::new(Trickle::new(&body, 100), "b");
    let form = read_form(&mut reader, 1000).unwrap();
    assert_eq!(form.values, [("a".to_string(), "1".to_string())]);
    let small = form.file("small").unwrap();
    assert!(small.in_memory());
    assert_eq!((small.filename.as_str(), small.size), ("s.txt", 5));
    let large = form.file("big").unwrap();
    assert!(!large.in_memory());
    assert_eq!((large.filename.as_str(), large.size), ("big.bin", 5000));
    let mut bytes = Vec::new();
    large.open().unwrap().read_to_end(&mut bytes).unwrap();
    assert_eq!(bytes, big);
    // More than max_memory plus 10 MB of values is too large.
    let mut huge = b"--b\r\nContent-Disposition: form-data; name=v\r\n\r\n".to_vec();
    huge.resize(huge.len() + (10 << 20) + 10, b'v');
    huge.extend_from_slice(b"\r\n--b--");
    let mut reader = Multipart::new(&huge[..], "b");
    assert!(matches!(
        read_form(&mut reader, 0),
        Err(MultipartError::TooLarge)
    ));
}
