//! `nethttp::metrics`: the Prometheus text format, its counters matching what was sent, and
//! parsed by Python's `prometheus_client` (CI installs it; missing, the test fails).

mod util;

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};

use nethttp::http::StatusCode;
use nethttp::{blocking, Request, ResponseWriter, ServeMux, Server};

fn server() -> nethttp::Running {
    let mut mux = ServeMux::new();
    mux.handle("GET /metrics", nethttp::metrics);
    mux.handle("GET /{$}", util::hello);
    mux.handle(
        "GET /missing",
        blocking(|w: &mut ResponseWriter, _r: &mut Request| {
            w.write_header(StatusCode::NOT_FOUND);
        }),
    );
    mux.handle("GET /fail", |w: &mut ResponseWriter, _r: &mut Request| {
        w.write_header(StatusCode::INTERNAL_SERVER_ERROR);
    });
    util::start(Server::new(mux).threads(2))
}

/// The samples of a scrape: `name{labels}` → value.
fn scrape(addr: std::net::SocketAddr) -> (String, HashMap<String, f64>) {
    let raw = b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let response = util::parse_all(&util::exchange(addr, raw)).remove(0);
    assert_eq!(response.status, 200);
    let content_type = response.header("content-type").unwrap_or_default();
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    let text = response.text();
    let samples = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').expect(l);
            (name.to_string(), value.parse().expect(l))
        })
        .collect();
    (text, samples)
}

#[test]
fn the_counters_match_what_was_sent() {
    let server = server();
    let addr = server.local_addr();
    let get = |path: &str| {
        let raw = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        util::exchange(addr, raw.as_bytes())
    };
    for _ in 0..3 {
        get("/");
    }
    get("/missing");
    get("/missing");
    get("/fail");
    util::exchange(addr, b"BAD REQUEST\r\n\r\n"); // refused: 400
    let mut idle = util::connect(addr);
    idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let _ = util::read_response(&mut std::io::BufReader::new(&mut idle), false);
    let (_, m) = scrape(addr);
    let responses = |handler: &str, class: &str| {
        m[&format!("nethttp_responses_total{{handler=\"{handler}\",class=\"{class}\"}}")]
    };
    assert_eq!(
        responses("inline", "2xx"),
        4.0,
        "3 hellos and the idle one's"
    );
    assert_eq!(responses("blocking", "4xx"), 2.0);
    assert_eq!(responses("inline", "5xx"), 1.0);
    assert_eq!(responses("inline", "4xx"), 1.0, "the refusal");
    assert_eq!(
        m["nethttp_connections_open"], 2.0,
        "the idle one and the scrape"
    );
    assert!(m["nethttp_read_bytes_total"] > 100.0);
    assert!(m["nethttp_written_bytes_total"] > 100.0);
    assert_eq!(
        m["nethttp_memory_budget_bytes"],
        nethttp::DEFAULT_MAX_MEMORY as f64
    );
    assert_eq!(m["nethttp_pool_queued"], 0.0);
    server.close().unwrap();
}

#[test]
fn prometheus_client_parses_the_exposition() {
    let server = server();
    util::exchange(
        server.local_addr(),
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let (text, _) = scrape(server.local_addr());
    let script = "import sys\nfrom prometheus_client.parser import text_string_to_metric_families as parse\n\
                  families = list(parse(sys.stdin.read()))\n\
                  names = {f.name for f in families}\n\
                  assert 'nethttp_responses' in names and 'nethttp_connections_open' in names, names\n\
                  print(len(families))";
    let mut python = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    python
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = python.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "prometheus_client (pip install prometheus_client) could not parse it: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "12",
        "metric families"
    );
    server.close().unwrap();
}
