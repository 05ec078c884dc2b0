//! Handler panics: a 500 if nothing was sent yet (and the connection goes on), a cut
//! connection if part of the response already left, and no harm to other connections.

mod util;

use std::io::{BufReader, Read, Write};
use std::thread;

use nethttp::{Request, ResponseWriter, Server};
use util::{connect, read_response, serve, start};

/// `/panic` panics before writing anything (after setting a header), `/flush-panic` sends
/// part of a response then panics, anything else answers with its path.
fn app(w: &mut ResponseWriter, r: &mut Request) {
    match r.path() {
        "/panic" => {
            w.headers_mut()
                .insert("x-leak", "must not be sent".parse().unwrap());
            w.write_all(b"half-written").unwrap();
            panic!("deliberate panic before anything was sent");
        }
        "/flush-panic" => {
            w.write_all(b"partial").unwrap();
            w.flush().unwrap();
            panic!("deliberate panic after a flush");
        }
        path => {
            let path = path.to_string();
            w.write_all(path.as_bytes()).unwrap();
        }
    }
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n")
}

#[test]
fn a_panic_becomes_a_500_and_the_connection_goes_on() {
    let server = serve(app);
    let stream = connect(server.local_addr());
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);

    writer.write_all(get("/panic").as_bytes()).unwrap();
    let failed = read_response(&mut reader, false).unwrap();
    assert_eq!(failed.status, 500);
    assert_eq!(failed.text(), "Internal Server Error\n");
    assert_eq!(
        failed.header("x-leak"),
        None,
        "headers of the failed handler are dropped"
    );
    assert!(!failed.closes());

    writer.write_all(get("/ok").as_bytes()).unwrap();
    let next = read_response(&mut reader, false).unwrap();
    assert_eq!((next.status, next.text().as_str()), (200, "/ok"));

    // The same within a pipeline.
    let batch = format!("{}{}{}", get("/a"), get("/panic"), get("/b"));
    writer.write_all(batch.as_bytes()).unwrap();
    let statuses: Vec<(u16, String)> = (0..3)
        .map(|_| {
            let r = read_response(&mut reader, false).unwrap();
            (r.status, r.text())
        })
        .collect();
    assert_eq!(statuses[0], (200, "/a".to_string()));
    assert_eq!(statuses[1].0, 500);
    assert_eq!(statuses[2], (200, "/b".to_string()));
    server.close().unwrap();
}

#[test]
fn a_panic_after_a_flush_cuts_the_connection() {
    let server = serve(app);
    let mut stream = connect(server.local_addr());
    let batch = format!("{}{}", get("/flush-panic"), get("/never"));
    stream.write_all(batch.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .expect("the server closes the connection");
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("a head was sent");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("\r\nTransfer-Encoding: chunked"), "{head}");
    assert_eq!(body, "7\r\npartial\r\n", "the chunk, and no last chunk");

    let mut reader = BufReader::new(&raw[..]);
    assert!(
        read_response(&mut reader, false).is_err(),
        "a client sees a truncated response"
    );
    server.close().unwrap();
}

#[test]
fn panics_on_one_connection_do_not_disturb_another() {
    // One loop, so both connections share it.
    let server = start(Server::new(app).threads(1));
    let addr = server.local_addr();
    let panicker = thread::spawn(move || {
        let stream = connect(addr);
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        for i in 0..200 {
            let path = if i % 10 == 9 {
                "/flush-panic"
            } else {
                "/panic"
            };
            if path == "/flush-panic" {
                // That one costs the connection: start a new one.
                let mut cut = connect(addr);
                cut.write_all(get(path).as_bytes()).unwrap();
                let mut raw = Vec::new();
                cut.read_to_end(&mut raw).unwrap();
                assert!(raw.ends_with(b"7\r\npartial\r\n"));
                continue;
            }
            writer.write_all(get(path).as_bytes()).unwrap();
            assert_eq!(read_response(&mut reader, false).unwrap().status, 500);
        }
    });

    let stream = connect(addr);
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut i = 0;
    while !panicker.is_finished() || i < 200 {
        let path = format!("/steady/{i}");
        writer.write_all(get(&path).as_bytes()).unwrap();
        let response = read_response(&mut reader, false).unwrap();
        assert_eq!((response.status, response.text()), (200, path));
        i += 1;
    }
    panicker
        .join()
        .expect("the panicking client saw the expected answers");
    server.close().unwrap();
}
