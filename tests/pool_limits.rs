//! The blocking pool as a Go programmer expects it: many sleeping handlers run at once, and
//! middleware that wraps a router keeps the router's blocking routes on the pool (a plain
//! closure around it runs them on the loop, which is logged as an error, once).

mod util;

use std::io::{BufReader, Write};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use nethttp::{blocking, wrap, Handler, Request, ResponseWriter, ServeMux, Server};
use util::{connect, read_response, start};

/// Many more handlers than the old default of 64 threads sleep at once: all are answered
/// in about one sleep, none with `503`.
#[test]
fn three_hundred_sleeping_handlers_run_at_once() {
    const CLIENTS: usize = 300;
    const SLEEP: Duration = Duration::from_millis(600);
    let server = start(Server::new(blocking(
        |w: &mut ResponseWriter, _r: &mut Request| {
            thread::sleep(SLEEP);
            let _ = w.write_all(b"slept");
        },
    )));
    let addr = server.local_addr();
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            thread::spawn(move || {
                let client = connect(addr);
                (&client)
                    .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                    .unwrap();
                read_response(&mut BufReader::new(&client), false).unwrap()
            })
        })
        .collect();
    for client in clients {
        let response = client.join().unwrap();
        assert_eq!((response.status, response.text().as_str()), (200, "slept"));
    }
    let took = started.elapsed();
    assert!(took < SLEEP * 3, "{CLIENTS} sleeps took {took:?}");
    server.close().unwrap();
}

/// The name of the thread each request ran on, by path.
type Threads = Arc<Mutex<Vec<(String, String)>>>;

fn router(threads: &Threads) -> ServeMux {
    let record = |threads: Threads| {
        move |w: &mut ResponseWriter, r: &mut Request| {
            let name = thread::current().name().unwrap_or("?").to_owned();
            threads
                .lock()
                .unwrap()
                .push((r.uri().path().to_owned(), name));
            let _ = w.write_all(b"ok");
        }
    };
    let mut mux = ServeMux::new();
    mux.handle("/quick", record(Arc::clone(threads)));
    mux.handle("/slow", blocking(record(Arc::clone(threads))));
    mux
}

fn get_both(server: &nethttp::Running) {
    let responses = util::exchange_all(
        server.local_addr(),
        b"GET /quick HTTP/1.1\r\nHost: t\r\n\r\nGET /slow HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(responses.len(), 2);
}

#[test]
fn middleware_made_with_wrap_keeps_blocking_routes_on_the_pool() {
    let threads = Threads::default();
    let wrapped = wrap(
        router(&threads),
        |w: &mut ResponseWriter, r: &mut Request, next: &ServeMux| {
            w.headers_mut()
                .insert("x-layer", nethttp::http::HeaderValue::from_static("1"));
            next.serve_http(w, r);
        },
    );
    let server = start(Server::new(wrapped));
    get_both(&server);
    let threads = threads.lock().unwrap();
    assert!(
        threads[0].0 == "/quick" && threads[0].1.starts_with("nethttp-loop"),
        "{threads:?}"
    );
    assert_eq!(threads[1], ("/slow".into(), "nethttp-blocking".into()));
    server.close().unwrap();
}

#[test]
fn a_closure_around_a_router_runs_blocking_routes_on_the_loop_and_says_so() {
    util::logs::record(log::LevelFilter::Error);
    let threads = Threads::default();
    let mux = router(&threads);
    let server = start(Server::new(
        move |w: &mut ResponseWriter, r: &mut Request| mux.serve_http(w, r),
    ));
    get_both(&server);
    get_both(&server);
    assert!(threads.lock().unwrap()[1].1.starts_with("nethttp-loop"));
    let errors = util::logs::messages(log::Level::Error);
    assert_eq!(errors.len(), 1, "logged once: {errors:?}");
    assert!(
        errors[0].contains("GET /slow") && errors[0].contains("nethttp::wrap"),
        "{errors:?}"
    );
    server.close().unwrap();
}
