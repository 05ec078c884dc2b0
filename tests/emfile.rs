//! Out of descriptors: a server whose process hits `EMFILE` parks its listener (no busy
//! loop on the ever-readable listener), closes a connection that sits idle to make room,
//! and serves again once descriptors are free.
//!
//! The server runs in a child process (this test binary re-run for `emfile_child`), whose
//! descriptor limit is lowered with `prlimit`, so the limit and the CPU time measured are the
//! server's alone.

mod util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nethttp::Server;
use util::{hello, read_response};

/// Set in the child's environment: only then does `emfile_child` run a server.
const CHILD_ENV: &str = "NETHTTP_EMFILE_CHILD";

/// The child's line announcing the server's address.
const ADDR_LINE: &str = "emfile-child-listening-on ";

/// The descriptor limit of the child.
const NOFILE: u32 = 64;

#[test]
#[ignore = "the server half of a_server_out_of_descriptors_parks_then_recovers, run in a child process"]
fn emfile_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let pid = std::process::id().to_string();
    let limit = format!("--nofile={NOFILE}:{NOFILE}");
    let status = Command::new("prlimit")
        .args(["--pid", &pid, &limit])
        .status()
        .expect("run prlimit");
    assert!(status.success(), "prlimit failed: {status}");
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let open_files = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    assert!(open_files.contains(&format!(" {NOFILE} ")), "{open_files}");

    let listener = nethttp::listen("127.0.0.1:0").expect("bind");
    let server = Server::new(hello)
        .threads(2)
        .start(listener)
        .expect("start");
    println!("{ADDR_LINE}{}", server.local_addr());
    std::io::stdout().flush().unwrap();
    // Serve until the parent closes our stdin.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    server.close().unwrap();
}

/// Kills the child if the test fails before it ends it.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// CPU time (user + system) the process `pid` has used so far.
fn cpu_time(pid: u32, tick: Duration) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/<pid>/stat");
    // The command name may hold spaces: count fields after its closing parenthesis, where
    // field 3 (state) comes first, so utime (14) and stime (15) are the 12th and 13th.
    let after = &stat[stat.rfind(')').expect("comm") + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u32 = fields[11].parse::<u32>().unwrap() + fields[12].parse::<u32>().unwrap();
    tick * ticks
}

/// The length of a clock tick in `/proc/<pid>/stat`.
fn clock_tick() -> Duration {
    let hz = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(100);
    Duration::from_secs(1) / hz
}

/// Connects and sends a GET.
fn request(addr: SocketAddr, wait: Duration) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(wait)).unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    stream
}

/// Reads the one response a connection has been sent; `None` on a read timeout.
fn answer(stream: &TcpStream) -> Option<u16> {
    match read_response(&mut BufReader::new(stream), false) {
        Ok(response) => Some(response.status),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            None
        }
        Err(e) => panic!("reading a response: {e}"),
    }
}

#[test]
fn a_server_out_of_descriptors_parks_then_recovers() {
    let exe = std::env::current_exe().unwrap();
    let child = Command::new(exe)
        .args(["--exact", "emfile_child", "--nocapture", "--ignored"])
        .env(CHILD_ENV, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("re-run this test binary");
    let mut child = Reaper(child);
    let pid = child.0.id();
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let addr: SocketAddr = loop {
        let line = lines
            .next()
            .expect("the child ended before serving")
            .unwrap();
        if let Some(addr) = line.strip_prefix(ADDR_LINE) {
            break addr.parse().unwrap();
        }
    };

    // Connections until one is not answered: the server is out of descriptors, and the
    // last connection waits in the kernel's backlog.
    let mut served = Vec::new();
    let waiting = loop {
        assert!(
            served.len() < 2 * NOFILE as usize,
            "never ran out of descriptors"
        );
        let stream = request(addr, Duration::from_millis(500));
        match answer(&stream) {
            Some(status) => {
                assert_eq!(status, 200);
                // A request under way: the connection is not idle, so it is not closed
                // to make room (see the shedding step below).
                (&stream).write_all(b"GET / HTTP/1.1\r\nHost: x").unwrap();
                served.push(stream);
            }
            None => break stream,
        }
    };
    println!(
        "the server ran out of descriptors after {} connections",
        served.len()
    );
    assert!(
        served.len() > NOFILE as usize / 2,
        "parked after only {} connections",
        served.len()
    );

    // Parked: the listener is readable all along, yet the process sleeps.
    let tick = clock_tick();
    let before = cpu_time(pid, tick);
    thread::sleep(Duration::from_secs(2));
    let used = cpu_time(pid, tick) - before;
    println!("CPU time used while parked for 2 s: {used:?}");
    assert!(
        used < Duration::from_millis(50),
        "{used:?} of CPU in 2 s parked: a busy loop"
    );
    assert_eq!(answer(&waiting), None, "served while out of descriptors");

    // One connection finishes its request and then sits idle: the server closes it to make
    // room (at half a second idle), and the waiting connection is served.
    let mut idle = served.pop().unwrap();
    idle.write_all(b"\r\n\r\n").unwrap();
    assert_eq!(answer(&idle), Some(200));
    waiting
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(answer(&waiting), Some(200), "no room made by the idle one");
    let mut rest = Vec::new();
    assert_eq!(
        idle.read_to_end(&mut rest).ok(),
        Some(0),
        "the idle one closed"
    );

    // Free the descriptors: new connections are served again.
    drop(served);
    let freed = Instant::now();
    let fresh = request(addr, Duration::from_secs(5));
    assert_eq!(
        answer(&fresh),
        Some(200),
        "not served after descriptors were freed"
    );
    println!(
        "served again {:?} after descriptors were freed",
        freed.elapsed()
    );

    drop(child.0.stdin.take());
    let status = child.0.wait().unwrap();
    assert!(status.success(), "the child failed: {status}");
}
