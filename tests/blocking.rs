//! Blocking handlers on the pool: they run off the event loop, so inline requests are not
//! stalled; a panic costs a 500 and not a pool thread; and a full pool answers 503.

mod util;

use std::io::{BufReader, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use nethttp::{blocking, Handler, Request, ResponseWriter, Server};
use util::memory::shared;
use util::{connect, read_response, start};

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes()
}

/// `/sleep` blocks for 2 s on the pool; everything else answers inline.
struct SleepOrHello {
    sleeping: Arc<AtomicUsize>,
}

impl Handler for SleepOrHello {
    fn serve_http(&self, w: &mut ResponseWriter, r: &mut Request) {
        if r.path() == "/sleep" {
            self.sleeping.fetch_add(1, Ordering::SeqCst);
            thread::sleep(Duration::from_secs(2));
            let _ = w.write_all(b"slept");
        } else {
            let _ = w.write_all(b"hello");
        }
    }

    fn is_blocking(&self, r: &Request) -> bool {
        r.path() == "/sleep"
    }
}

#[test]
fn sleeping_blocking_handlers_do_not_stall_inline_requests() {
    let _shared = shared();
    let sleeping = Arc::new(AtomicUsize::new(0));
    let handler = SleepOrHello {
        sleeping: Arc::clone(&sleeping),
    };
    let server = start(Server::new(handler).threads(2));
    let addr = server.local_addr();

    let mut sleepers: Vec<TcpStream> = (0..4).map(|_| connect(addr)).collect();
    for s in &mut sleepers {
        s.write_all(&get("/sleep")).unwrap();
    }
    let waiting = Instant::now();
    while sleeping.load(Ordering::SeqCst) < 4 {
        assert!(
            waiting.elapsed() < Duration::from_secs(1),
            "the sleepers did not start"
        );
        thread::sleep(Duration::from_millis(1));
    }

    let stream = connect(addr);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut worst = Duration::ZERO;
    let all = Instant::now();
    for i in 0..200 {
        let sent = Instant::now();
        writer.write_all(&get("/")).unwrap();
        let response = read_response(&mut reader, false).unwrap();
        worst = worst.max(sent.elapsed());
        assert_eq!(
            (response.status, response.text().as_str()),
            (200, "hello"),
            "request {i}"
        );
    }
    println!(
        "200 inline requests beside 4 sleepers: {:?}, worst {worst:?}",
        all.elapsed()
    );
    assert!(
        worst < Duration::from_millis(100),
        "an inline request took {worst:?}"
    );
    assert!(
        all.elapsed() < Duration::from_millis(1500),
        "the inline requests waited for the sleepers"
    );

    for s in sleepers {
        let response = read_response(&mut BufReader::new(s), false).unwrap();
        assert_eq!((response.status, response.text().as_str()), (200, "slept"));
    }
    server.close().unwrap();
}

#[test]
fn a_panicking_blocking_handler_costs_a_500_and_nothing_more() {
    let _shared = shared();
    let handler = blocking(|w: &mut ResponseWriter, r: &mut Request| {
        if r.path() == "/panic" {
            panic!("boom (expected by the test)");
        }
        let _ = w.write_all(b"fine");
    });
    // One pool thread: had the panic killed it, the next request would never be served.
    let server = start(Server::new(handler).threads(2).blocking_threads(1));
    let addr = server.local_addr();
    for round in 0..3 {
        let stream = connect(addr);
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        writer.write_all(&get("/panic")).unwrap();
        let response = read_response(&mut reader, false).unwrap();
        assert_eq!(response.status, 500, "round {round}");
        let stream = connect(addr);
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        writer.write_all(&get("/")).unwrap();
        let response = read_response(&mut reader, false).unwrap();
        assert_eq!(
            (response.status, response.text().as_str()),
            (200, "fine"),
            "round {round}"
        );
    }
    server.close().unwrap();
}

/// A gate blocking handlers wait at until the test opens it.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
    waiting: AtomicUsize,
}

impl Gate {
    fn wait(&self) {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.opened.wait(open).unwrap();
        }
    }

    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

#[test]
fn a_full_pool_answers_503() {
    let _shared = shared();
    let gate = Arc::new(Gate::default());
    let served = Arc::new(AtomicU64::new(0));
    let (g, s) = (Arc::clone(&gate), Arc::clone(&served));
    let handler = blocking(move |w: &mut ResponseWriter, _r: &mut Request| {
        g.wait();
        s.fetch_add(1, Ordering::SeqCst);
        let _ = w.write_all(b"through");
    });
    // One thread, so one request runs and one waits in the queue; the rest get 503.
    let server = start(Server::new(handler).threads(2).blocking_threads(1));
    let addr = server.local_addr();

    let mut first = connect(addr);
    first.write_all(&get("/")).unwrap();
    let waiting = Instant::now();
    while gate.waiting.load(Ordering::SeqCst) < 1 {
        assert!(
            waiting.elapsed() < Duration::from_secs(2),
            "the first request never ran"
        );
        thread::sleep(Duration::from_millis(1));
    }
    // Two more: one fits in the queue, the other finds it full.
    let mut others: Vec<TcpStream> = (0..2).map(|_| connect(addr)).collect();
    for s in &mut others {
        s.write_all(&get("/")).unwrap();
    }
    let mut refused = None;
    for (i, s) in others.iter().enumerate() {
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut peek = [0u8; 1];
        if s.peek(&mut peek).is_ok() {
            assert!(
                refused.is_none(),
                "both extra requests were answered while the pool was busy"
            );
            refused = Some(i);
        }
    }
    let refused = refused.expect("no request was refused although the pool was full");
    let mut refused_stream = others.remove(refused);
    refused_stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let response = read_response(&mut BufReader::new(&mut refused_stream), false).unwrap();
    assert_eq!(response.status, 503);
    assert_eq!(served.load(Ordering::SeqCst), 0);

    gate.open();
    for s in [first, others.remove(0)] {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let response = read_response(&mut BufReader::new(s), false).unwrap();
        assert_eq!(
            (response.status, response.text().as_str()),
            (200, "through")
        );
    }
    assert_eq!(served.load(Ordering::SeqCst), 2);
    // The pool is free again.
    let mut again = connect(addr);
    again.write_all(&get("/")).unwrap();
    let response = read_response(&mut BufReader::new(again), false).unwrap();
    assert_eq!(response.status, 200);
    let _ = refused_stream.shutdown(Shutdown::Both);
    server.close().unwrap();
}
