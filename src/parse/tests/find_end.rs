//! Finding the end of a head (CRLF, bare LF, partial heads, resumed scans), and sorting an
//! oversize head into 414 or 431.

use super::*;

// ---- find_end ----

#[test]
fn find_end_crlf() {
    let head = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_eq!(find_end(head, 0), Some(head.len()));
}

#[test]
fn find_end_bare_lf() {
    let head = b"GET / HTTP/1.1\nHost: x\n\n";
    assert_eq!(find_end(head, 0), Some(head.len()));
    // Mixed endings: CRLF then a bare LF, and a bare LF then CRLF.
    assert_eq!(find_end(b"GET / HTTP/1.0\r\n\n", 0), Some(17));
    assert_eq!(find_end(b"GET / HTTP/1.0\n\r\n", 0), Some(17));
}

#[test]
fn find_end_stops_at_the_first_blank_line() {
    let two = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_eq!(find_end(two, 0), Some(28));
    let with_body = b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n\r\n\r\n";
    assert_eq!(find_end(with_body, 0), Some(with_body.len() - 4));
}

#[test]
fn find_end_partial_heads() {
    for partial in [
        &b""[..],
        b"GET",
        b"GET / HTTP/1.1",
        b"GET / HTTP/1.1\r",
        b"GET / HTTP/1.1\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\n\r",
        b"GET / HTTP/1.1\nHost: x\n",
        b"\r\r\r",
    ] {
        assert_eq!(
            find_end(partial, 0),
            None,
            "{:?}",
            String::from_utf8_lossy(partial)
        );
    }
}

#[test]
fn find_end_resumes_from_every_earlier_scan_position() {
    for head in [
        &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"GET / HTTP/1.1\nHost: x\n\n",
        b"GET / HTTP/1.1\r\nHost: x\r\n\nEXTRA",
    ] {
        let end = find_end(head, 0).unwrap();
        for cut in 0..end {
            // A first read of `cut` bytes finds nothing; the scan resumes where it stopped.
            assert_eq!(find_end(&head[..cut], 0), None, "cut {cut}");
            assert_eq!(find_end(head, cut), Some(end), "resumed at {cut}");
        }
    }
}

#[test]
fn find_end_one_byte_at_a_time() {
    let head = b"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n";
    let mut scanned = 0;
    for len in 1..=head.len() {
        match find_end(&head[..len], scanned) {
            Some(end) => {
                assert_eq!((len, end), (head.len(), head.len()));
                return;
            }
            None => scanned = len,
        }
    }
    panic!("end never found");
}

#[test]
fn oversize_is_414_before_the_request_line_ends_else_431() {
    assert_eq!(oversize(b"GET /aaaaaaaaaaaaaaaa"), Reject::UriTooLong);
    assert_eq!(
        oversize(b"GET / HTTP/1.1\r\nX-Big: aaaaaaaa"),
        Reject::HeaderTooLarge
    );
}

#[test]
fn the_word_at_a_time_search_finds_the_first_lf_as_a_byte_search_does() {
    let naive = |buf: &[u8], from: usize| {
        buf[from..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| from + p)
    };
    // Every byte value beside and around a `\n` at every position of buffers of 0 to 20
    // bytes, searched from every start: borrows between bytes must not fool the search.
    for len in 0..=20usize {
        for fill in 0..=255u8 {
            for lf in 0..=len {
                let mut buf = vec![fill; len];
                if lf < len {
                    buf[lf] = b'\n';
                }
                for from in 0..=len {
                    assert_eq!(
                        super::super::next_lf(&buf, from),
                        naive(&buf, from),
                        "{buf:?} from {from}"
                    );
                }
            }
        }
    }
}
