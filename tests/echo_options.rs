//! The echo showcase (`examples/echo.rs`) end to end, its options and signals: header and
//! idle timeouts, `SIGTERM` (in-flight requests finish, at most 10 s) and `SIGINT` exiting 0,
//! and a `:PORT` address, checked on the real example binary run as a child process.

mod util;

use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use util::echo_child::{get, read, Echo};
use util::{connect, read_until_closed};

#[test]
fn header_timeout_closes_a_dribbled_head() {
    let echo = Echo::start(&["--header-timeout", "0.3"]);
    let mut stream = connect(echo.addr);
    let started = Instant::now();
    let mut writer = stream.try_clone().unwrap();
    let dribbler = thread::spawn(move || {
        for b in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: yes\r\n" {
            if writer.write_all(&[*b]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
    });
    let (bytes, closed) = read_until_closed(&mut stream);
    let elapsed = closed - started;
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_millis(1500),
        "closed after {elapsed:?}"
    );
    if !bytes.is_empty() {
        let r = read(&mut BufReader::new(&bytes[..]), false);
        assert_eq!(r.status, 408);
    }
    dribbler.join().unwrap();
}

#[test]
fn idle_timeout_closes_an_idle_keep_alive_connection() {
    let echo = Echo::start(&["--idle-timeout", "0.3"]);
    let mut stream = connect(echo.addr);
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let r = read(&mut reader, false);
    assert!(!r.closes());
    let answered = Instant::now();
    assert!(reader.buffer().is_empty());
    let (bytes, closed) = read_until_closed(&mut stream);
    assert!(bytes.is_empty(), "{:?}", String::from_utf8_lossy(&bytes));
    let idle = closed - answered;
    assert!(
        idle >= Duration::from_millis(250) && idle < Duration::from_millis(1500),
        "closed after {idle:?} idle"
    );
}

#[test]
fn sigterm_finishes_the_in_flight_request_and_exits_0() {
    let mut echo = Echo::start(&[]);
    // An idle keep-alive connection, to be closed by the shutdown.
    let mut idle = connect(echo.addr);
    idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut idle_reader = BufReader::new(idle.try_clone().unwrap());
    assert_eq!(read(&mut idle_reader, false).status, 200);

    let mut busy = connect(echo.addr);
    busy.write_all(b"GET /sleep?ms=800 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    thread::sleep(Duration::from_millis(200));
    let signalled = Instant::now();
    echo.signal("TERM");

    // The idle connection is closed at once, not after the sleep.
    let (bytes, closed) = read_until_closed(&mut idle);
    assert!(bytes.is_empty());
    assert!(
        closed - signalled < Duration::from_millis(400),
        "idle closed after {:?}",
        closed - signalled
    );
    // No new connections are served.
    thread::sleep(Duration::from_millis(50));
    if let Ok(mut late) = TcpStream::connect(echo.addr) {
        late.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let _ = late.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut answer = Vec::new();
        let _ = late.read_to_end(&mut answer);
        assert!(answer.is_empty(), "served after the signal: {answer:?}");
    }

    let r = read(&mut BufReader::new(busy), false);
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "slept 800");
    let status = echo.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "{status}");
}

#[test]
fn sigterm_gives_in_flight_requests_10_s_then_exits_0() {
    let mut echo = Echo::start(&[]);
    let mut busy = connect(echo.addr);
    busy.set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    busy.write_all(b"GET /sleep?ms=30000 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    thread::sleep(Duration::from_millis(100));
    let signalled = Instant::now();
    echo.signal("TERM");
    let status = echo.wait_exit(Duration::from_secs(13));
    let took = signalled.elapsed();
    assert_eq!(status.code(), Some(0), "{status}");
    assert!(
        took >= Duration::from_millis(9500) && took < Duration::from_secs(12),
        "exited {took:?} after the signal"
    );
    let (bytes, _) = read_until_closed(&mut busy);
    assert!(bytes.is_empty(), "{:?}", String::from_utf8_lossy(&bytes));
}

#[test]
fn sigint_exits_0() {
    let mut echo = Echo::start(&[]);
    assert_eq!(get(echo.addr, "/").status, 200);
    echo.signal("INT");
    let status = echo.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "{status}");
}

#[test]
fn colon_port_listens_on_all_interfaces() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let echo = Echo::start_raw(&[&format!(":{port}")]);
    assert!(
        echo.line.starts_with("listening on http://") && echo.line.ends_with(&format!(":{port}")),
        "{:?}",
        echo.line
    );
    assert_eq!(echo.addr.port(), port);
    assert_eq!(get(echo.addr, "/").text(), "Hello, World!");
}

#[test]
fn sigterm_right_after_the_listening_line_exits_0() {
    for _ in 0..40 {
        let mut echo = Echo::start(&[]);
        echo.signal("TERM");
        let status = echo.wait_exit(Duration::from_secs(5));
        assert_eq!(status.code(), Some(0), "{status}");
    }
}

#[test]
fn access_log_writes_a_combined_log_format_line_per_response() {
    let mut echo = Echo::start(&["--access-log"]);
    let raw = b"GET /status/404 HTTP/1.1\r\nHost: x\r\nReferer: http://a/\"b\r\nUser-Agent: test/1\r\n\r\n";
    let response = util::echo_child::request(echo.addr, raw);
    assert_eq!(response.status, 404);
    let line = echo.stdout_line();
    let (start, rest) = line.split_once(" [").expect(&line);
    assert_eq!(start, "127.0.0.1 - -");
    let (time, rest) = rest.split_once("] ").expect(&line);
    assert!(time.ends_with(" +0000") && time.len() == 26, "{time}");
    let (fields, micros) = rest.rsplit_once(' ').expect(&line);
    assert_eq!(
        fields,
        r#""GET /status/404 HTTP/1.1" 404 - "http://a/\"b" "test/1""#
    );
    assert!(micros.parse::<u64>().is_ok(), "{micros}");
    let hello = util::echo_child::get(echo.addr, "/");
    assert_eq!(hello.status, 200);
    assert!(echo
        .stdout_line()
        .contains(r#""GET / HTTP/1.1" 200 13 "-" "-""#));
}

#[test]
fn drain_delay_keeps_serving_with_readyz_503_then_exits_0() {
    let mut echo = Echo::start(&["--drain-delay", "0.6"]);
    assert_eq!(get(echo.addr, "/readyz").text(), "ready\n");
    let began = Instant::now();
    echo.signal("TERM");
    thread::sleep(Duration::from_millis(150));
    let ready = get(echo.addr, "/readyz");
    assert_eq!((ready.status, ready.text().as_str()), (503, "draining\n"));
    assert_eq!(get(echo.addr, "/").text(), "Hello, World!");
    let status = echo.wait_exit(Duration::from_secs(5));
    assert!(status.success(), "{status}");
    assert!(began.elapsed() >= Duration::from_millis(600));
}
