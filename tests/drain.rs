//! Draining for load balancers: during a graceful shutdown's drain delay the server keeps
//! serving while `readiness` answers 503; systemd hears READY=1 and STOPPING=1.
//! (One test per file: it sets NOTIFY_SOCKET for the whole process.)

mod util;

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use nethttp::{ServeMux, Server};

fn get(addr: std::net::SocketAddr, path: &str) -> util::Response {
    let raw = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    util::parse_all(&util::exchange(addr, raw.as_bytes())).remove(0)
}

#[test]
fn a_drain_delay_keeps_serving_while_readiness_says_draining_and_systemd_hears() {
    let dir = util::TempDir::new("notify");
    let path = dir.0.join("notify.sock");
    let systemd = UnixDatagram::bind(&path).unwrap();
    systemd
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    std::env::set_var("NOTIFY_SOCKET", &path);
    let heard = |systemd: &UnixDatagram| {
        let mut buf = [0u8; 256];
        let n = systemd.recv(&mut buf).expect("a notification");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };

    let mut mux = ServeMux::new();
    mux.handle("GET /readyz", nethttp::readiness);
    mux.handle("GET /{$}", util::hello);
    let server = util::start(Server::new(mux).drain_delay(Duration::from_millis(600)));
    let addr = server.local_addr();
    assert_eq!(heard(&systemd), "READY=1");
    assert_eq!(get(addr, "/readyz").text(), "ready\n");

    let handle = server.handle();
    let began = Instant::now();
    let stopping = std::thread::spawn(move || server.shutdown(Duration::from_secs(5)));
    assert_eq!(heard(&systemd), "STOPPING=1");
    assert!(handle.is_draining());
    let ready = get(addr, "/readyz");
    assert_eq!((ready.status, ready.text().as_str()), (503, "draining\n"));
    assert_eq!(
        get(addr, "/").text(),
        "Hello, World!",
        "still serving while draining"
    );
    stopping.join().unwrap().unwrap();
    assert!(
        began.elapsed() >= Duration::from_millis(600),
        "{:?}",
        began.elapsed()
    );
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the listener closed after the drain"
    );
    std::env::remove_var("NOTIFY_SOCKET");
}
