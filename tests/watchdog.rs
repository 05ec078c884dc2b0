//! systemd's watchdog: with WATCHDOG_USEC set, the server pings WATCHDOG=1 at half that
//! period while it serves, and stops when it stops. (Its own file: it sets the
//! environment for the whole process.)

mod util;

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use nethttp::Server;

#[test]
fn the_watchdog_is_pinged_while_serving_and_not_after() {
    let dir = util::TempDir::new("watchdog");
    let path = dir.0.join("notify.sock");
    let systemd = UnixDatagram::bind(&path).unwrap();
    systemd
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    std::env::set_var("NOTIFY_SOCKET", &path);
    std::env::set_var("WATCHDOG_USEC", "100000"); // a ping every 50 ms
    let server = util::start(Server::new(util::hello));
    let mut buf = [0u8; 64];
    let began = Instant::now();
    let mut pings = 0;
    while began.elapsed() < Duration::from_millis(400) {
        let n = systemd.recv(&mut buf).unwrap();
        pings += usize::from(&buf[..n] == b"WATCHDOG=1");
    }
    assert!((4..=12).contains(&pings), "{pings} pings in 400 ms");
    server.close().unwrap();
    std::thread::sleep(Duration::from_millis(120));
    // What was sent before the close may still wait; then nothing comes for 500 ms.
    let closed = Instant::now();
    while systemd.recv(&mut buf).is_ok() {
        assert!(
            closed.elapsed() < Duration::from_secs(2),
            "pings after the server closed"
        );
    }
}
