//! The echo example (`examples/echo.rs`) as a child process: build it if stale, start it on a
//! free port, signal it, watch its memory, and read its responses checking each `Date`.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::{connect, read_response, Response};

/// The example binary: `target/<profile>/examples/echo`, next to this test's `deps/`
/// directory. Built (once per test process) if missing or older than the sources, as after
/// `cargo test --test echo`, which does not build examples.
pub fn binary() -> PathBuf {
    static CHECKED: Mutex<bool> = Mutex::new(false);
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let path = dir.join("examples").join("echo");
    let mut checked = CHECKED.lock().unwrap_or_else(|e| e.into_inner());
    if !*checked {
        let built = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let sources = ["examples/echo.rs", "Cargo.toml", "src", "poller/src"];
        let stale = match built {
            None => true,
            Some(built) => sources
                .iter()
                .any(|source| newer_than(&root.join(source), built)),
        };
        if stale {
            let status = Command::new(env!("CARGO"))
                .args(["build", "--example", "echo"])
                .current_dir(&root)
                .status()
                .expect("run cargo build");
            assert!(status.success(), "cargo build --example echo: {status}");
        }
        *checked = true;
    }
    assert!(path.exists(), "no example binary at {}", path.display());
    path
}

/// `path`, or a file under it, was modified after `time`.
fn newer_than(path: &std::path::Path, time: std::time::SystemTime) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if meta.is_dir() {
        std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .any(|entry| newer_than(&entry.path(), time))
    } else {
        meta.modified().is_ok_and(|m| m > time)
    }
}

/// A running echo child, killed when dropped (also when a test fails).
pub struct Echo {
    child: Option<Child>,
    /// The `listening on http://...` line, without its newline.
    pub line: String,
    pub addr: SocketAddr,
    /// The rest of the child's stdout, kept open.
    _stdout: Option<BufReader<ChildStdout>>,
}

impl Echo {
    /// Starts the example on `127.0.0.1:0` with `args` after the address.
    pub fn start(args: &[&str]) -> Echo {
        let mut all = vec!["127.0.0.1:0"];
        all.extend_from_slice(args);
        Echo::start_raw(&all)
    }

    /// Starts the example with exactly `args`; waits for the `listening on` line.
    pub fn start_raw(args: &[&str]) -> Echo {
        let mut child = Command::new(binary())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // The example has no logger: its stderr carries only the deliberate panics of
            // `/panic`, which would read as failures in the test output.
            .stderr(Stdio::null())
            .env("RUST_BACKTRACE", "0")
            .spawn()
            .expect("spawn the echo example");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let read = reader.read_line(&mut line).map(|_| line);
            let _ = tx.send((read, reader));
        });
        let mut echo = Echo {
            child: Some(child),
            line: String::new(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            _stdout: None,
        };
        // `echo` is built first so that a failure below still kills the child.
        let (line, reader) = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("no `listening on` line within 10 s");
        let line = line.expect("read the child's stdout");
        echo._stdout = Some(reader);
        let line = line.trim_end_matches('\n').to_string();
        let port: u16 = line
            .strip_prefix("listening on http://")
            .and_then(|rest| rest.rsplit_once(':'))
            .and_then(|(_, port)| port.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        echo.addr = SocketAddr::from(([127, 0, 0, 1], port));
        echo.line = line;
        echo
    }

    /// The child's next line on stdout (an access-log line), without its newline.
    pub fn stdout_line(&mut self) -> String {
        let mut line = String::new();
        let reader = self._stdout.as_mut().expect("stdout");
        reader
            .read_line(&mut line)
            .expect("read the child's stdout");
        line.trim_end_matches('\n').to_string()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Sends `signal` (`TERM`, `INT`) with `kill`.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal}: {status}");
    }

    /// Waits up to `limit` for the child to exit on its own.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let started = Instant::now();
        let child = self.child.as_mut().unwrap();
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "the child did not exit within {limit:?}"
            );
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Echo {
    /// A memory figure of the child from `/proc/PID/status` (`VmRSS`, `VmHWM`), in bytes.
    pub fn memory(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let line = status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .unwrap_or_else(|| panic!("no {field} in /proc/PID/status"));
        let kib: u64 = line.trim().trim_end_matches("kB").trim().parse().unwrap();
        kib * 1024
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Reads one response and checks it carries a valid `Date`.
pub fn read(reader: &mut impl BufRead, head_request: bool) -> Response {
    let response = read_response(reader, head_request).expect("a well-formed response");
    let date = response
        .header("date")
        .unwrap_or_else(|| panic!("no Date in {response:?}"));
    assert!(httpdate::parse_http_date(date).is_ok(), "bad Date {date:?}");
    response
}

/// Sends `raw` on a fresh connection and reads one response.
pub fn request(addr: SocketAddr, raw: &[u8]) -> Response {
    let head_request = raw.starts_with(b"HEAD ");
    let mut stream = connect(addr);
    stream.write_all(raw).expect("write");
    read(&mut BufReader::new(stream), head_request)
}

/// Sends a GET for `target` on a fresh connection and reads the response.
pub fn get(addr: SocketAddr, target: &str) -> Response {
    request(
        addr,
        format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
    )
}
