//! Listeners other than a plain TCP one: Unix-domain sockets and systemd socket activation.

mod util;

use std::io::{BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use nethttp::{Listener, Server};
use util::{hello, read_response};

#[test]
fn a_unix_domain_listener_serves() {
    let dir = std::env::temp_dir().join(format!("nethttp-unix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("http.sock");
    let _ = std::fs::remove_file(&path);
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let server = Server::new(
        |w: &mut nethttp::ResponseWriter, r: &mut nethttp::Request| {
            write!(w, "from {}", r.remote_addr()).unwrap();
        },
    )
    .threads(2)
    .start(listener)
    .unwrap();
    for _ in 0..3 {
        let mut stream = UnixStream::connect(&path).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut reader = BufReader::new(stream);
        for _ in 0..2 {
            let response = read_response(&mut reader, false).unwrap();
            assert_eq!(response.status, 200);
            assert_eq!(response.text(), "from 0.0.0.0:0");
        }
    }
    server.close().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_socket_activation_there_is_no_inherited_listener() {
    // This process was not started by systemd: LISTEN_PID is absent or names another.
    if std::env::var("LISTEN_PID").is_err() {
        assert!(nethttp::systemd_listener().unwrap().is_none());
    }
}

/// Runs in a child process whose descriptor 3 is a listening socket, as systemd would
/// start it; serves one request, then exits. Ignored unless the parent test starts it.
#[test]
#[ignore]
fn systemd_child() {
    if std::env::var("NETHTTP_SYSTEMD_CHILD").is_err() {
        return;
    }
    let listener = nethttp::systemd_listener()
        .unwrap()
        .expect("descriptor 3 from the parent");
    assert!(matches!(listener, Listener::Tcp(_)));
    assert!(std::env::var("LISTEN_FDS").is_err(), "variables removed");
    let server = Server::new(hello).threads(1).start(listener).unwrap();
    println!("serving {}", server.local_addr());
    std::thread::sleep(Duration::from_secs(3));
    server.close().unwrap();
}

#[test]
fn an_inherited_systemd_listener_serves() {
    // python3 binds the socket, puts it on descriptor 3 and execs this test binary with
    // LISTEN_PID set to the exec'd process's pid, which is what systemd does.
    let exe = std::env::current_exe().unwrap();
    let script = r#"
import os, socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
os.dup2(s.fileno(), 3); os.set_inheritable(3, True)
os.environ["LISTEN_PID"] = str(os.getpid()); os.environ["LISTEN_FDS"] = "1"
os.environ["NETHTTP_SYSTEMD_CHILD"] = "1"
os.execv(sys.argv[1], [sys.argv[1], "--exact", "systemd_child", "--ignored", "--nocapture"])
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .arg(&exe)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut stdout = child.stdout.take().unwrap();
    let mut first = Vec::new();
    let mut byte = [0u8; 1];
    while stdout.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
        first.push(byte[0]);
    }
    let port: u16 = String::from_utf8(first).unwrap().trim().parse().unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut answer = None;
    for _ in 0..100 {
        // The socket already listens; the child needs a moment to start serving it.
        let raw = util::exchange(
            addr,
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        if !raw.is_empty() {
            answer = Some(raw);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let responses = util::parse_all(&answer.expect("the child answered"));
    assert_eq!(responses[0].status, 200);
    assert_eq!(responses[0].text(), "Hello, World!");
    assert!(child.wait().unwrap().success(), "the child test passed");
}

/// Go listens with the system's accept queue (`somaxconn`), not `std`'s 128: connections
/// the server has not accepted yet wait in the kernel instead of having their handshakes
/// dropped (and retried a second or more later).
#[test]
fn the_accept_queue_is_as_long_as_the_system_allows() {
    let somaxconn: usize = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(4096);
    // Nothing accepts from this listener: every connection below stays queued.
    let listener = nethttp::listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let queued = somaxconn.min(600);
    let mut held = Vec::new();
    for i in 0..queued {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            Ok(s) => held.push(s),
            Err(e) => panic!("connection {i} of {queued} was not queued: {e}"),
        }
    }
    assert_eq!(held.len(), queued);
}

#[test]
fn listeners_with_so_reuseport_share_a_port() {
    let first = nethttp::listen_reuse_port("127.0.0.1:0").unwrap();
    let addr = first.local_addr().unwrap();
    let second = nethttp::listen_reuse_port(&addr.to_string()).expect("a second listener");
    assert!(
        nethttp::listen(&addr.to_string()).is_err(),
        "without SO_REUSEPORT: in use"
    );
    // Both serve: connections go to either while both listen, to the other once one goes.
    let a = nethttp::Server::new(util::hello)
        .threads(1)
        .start(first)
        .unwrap();
    let b = nethttp::Server::new(util::hello)
        .threads(1)
        .start(second)
        .unwrap();
    for _ in 0..10 {
        let answer = util::exchange(
            addr,
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert!(answer.ends_with(b"Hello, World!"));
    }
    a.shutdown(std::time::Duration::from_secs(5)).unwrap();
    for _ in 0..10 {
        let answer = util::exchange(
            addr,
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert!(
            answer.ends_with(b"Hello, World!"),
            "the other listener takes over"
        );
    }
    b.close().unwrap();
}

#[test]
fn keep_alive_probes_are_set_on_accepted_sockets() {
    let server = util::start(
        nethttp::Server::new(util::hello).tcp_keep_alive(std::time::Duration::from_secs(7)),
    );
    let port = server.local_addr().port();
    let _client = util::connect(server.local_addr());
    std::thread::sleep(std::time::Duration::from_millis(100));
    let out = std::process::Command::new("ss")
        .args([
            "-tno",
            "state",
            "established",
            &format!("( sport = :{port} )"),
        ])
        .output()
        .expect("ss (iproute2) lists the server's sockets");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("timer:(keepalive"),
        "no keep-alive timer on the accepted socket: {text}"
    );
    server.close().unwrap();
}
