//! The server under test: started as a child process, its address read from what it
//! prints, its resident set read from `/proc`.

use crate::wire::other;
use std::fs;
use std::io::{self, BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::thread;
use std::time::Duration;

/// How often the sampler reads the server's RSS.
pub(crate) const SAMPLE_EVERY: Duration = Duration::from_millis(20);

/// The server, a child process; dropping it sends SIGTERM and waits for the exit.
pub(crate) struct ServerProcess {
    pub(crate) child: Child,
    /// Where it listens, from the line it prints.
    pub(crate) addr: SocketAddr,
}

impl ServerProcess {
    pub(crate) fn start(command: &str) -> io::Result<ServerProcess> {
        let mut words = command.split_whitespace();
        let program = words.next().ok_or_else(|| other("--server-cmd is empty"))?;
        let mut child = Command::new(program)
            .args(words)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| other(format!("starting {program}: {e}")))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let mut server = ServerProcess { child, addr };
        server.addr = listening_address(stdout)?; // on an error, `server` drops: SIGTERM
        Ok(server)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // SAFETY: kill only sends a signal, to our own child, which has not been waited for
        // yet, so its pid cannot have been reused.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

/// Reads the server's output up to its `listening on http://IP:PORT` line, and the address
/// in it (an unspecified IP means loopback). The server's other output goes on to stderr,
/// on a thread that lives as long as the pipe, so the server never blocks on a full pipe.
pub(crate) fn listening_address(stdout: ChildStdout) -> io::Result<SocketAddr> {
    let mut out = BufReader::new(stdout);
    let mut line = String::new();
    let mut addr: SocketAddr = loop {
        line.clear();
        if out.read_line(&mut line)? == 0 {
            return Err(other("the server ended before saying where it listens"));
        }
        if let Some(addr) = line.trim().strip_prefix("listening on http://") {
            break addr
                .parse()
                .map_err(|_| other(format!("bad line {line:?}")))?;
        }
        eprint!("{line}");
    };
    if addr.ip().is_unspecified() {
        addr.set_ip(Ipv4Addr::LOCALHOST.into());
    }
    thread::spawn(move || io::copy(&mut out, &mut io::stderr()));
    Ok(addr)
}

/// A size field of `/proc/PID/status` (VmRSS, VmHWM), in KiB.
pub(crate) fn status_kib(pid: u32, field: &str) -> io::Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    (status.lines())
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().strip_suffix("kB")?.trim().parse().ok())
        .ok_or_else(|| other(format!("no {field} for the server (has it exited?)")))
}

/// Reads a process's RSS every `SAMPLE_EVERY` until `stop` (or the process is gone); the
/// peak seen, in KiB.
pub(crate) fn sample_peak(pid: u32, stop: &AtomicBool) -> u64 {
    let mut peak = 0;
    while !stop.load(Relaxed) {
        match status_kib(pid, "VmRSS") {
            Ok(kib) => peak = peak.max(kib),
            Err(_) => break,
        }
        thread::sleep(SAMPLE_EVERY);
    }
    peak
}
