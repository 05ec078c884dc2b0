//! The latency probe: does the server answer promptly all through the abuse? Every
//! `PROBE_EVERY` one `GET /` goes on a kept-alive connection, and, on a thread of its own so
//! that one kind's slow moment does not delay the other, one on a fresh connection. Each
//! probe is timed and checked; `report` prints the percentiles, the worst of each minute
//! and every probe slower than `SLOW`.
//!
//! What is timed: on the kept-alive connection, writing the request and reading the whole
//! answer (connecting, when the connection must be made again, is not timed); on a fresh
//! connection, connecting as well. A probe that fails, or gets anything but `200 Hello,
//! World!`, is lost.

use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use crate::server::HELLO;
use crate::wire::{connect, read_response};

/// One probe of each kind starts this often; ticks missed while a probe was slow are
/// skipped, not bunched up.
pub const PROBE_EVERY: Duration = Duration::from_millis(100);

/// A probe slower than this is a slow moment, listed in the report with its time.
pub const SLOW: Duration = Duration::from_secs(1);

/// Which connection a probe goes on.
#[derive(Clone, Copy)]
pub enum Connection {
    /// One connection kept alive between probes, made again only when it closes or fails.
    Kept,
    /// A new connection for every probe.
    Fresh,
}

/// One probe: when it started (since the clients started), and how long its answer took or
/// why it was lost.
struct Probe {
    at: Duration,
    outcome: Result<Duration, String>,
}

/// Every probe of one kind, in the order they were sent.
#[derive(Default)]
pub struct Log {
    probes: Mutex<Vec<Probe>>,
}

/// Probes `connection` every `PROBE_EVERY` until `stop`, into `log`.
pub fn probe(
    addr: SocketAddr,
    connection: Connection,
    log: &Log,
    stop: &AtomicBool,
    started: Instant,
) {
    let mut kept: Option<BufReader<TcpStream>> = None;
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let at = started.elapsed();
        let outcome = match connection {
            Connection::Kept => on_kept(addr, &mut kept),
            Connection::Fresh => on_fresh(addr),
        };
        log.probes.lock().unwrap().push(Probe { at, outcome });
        let now = Instant::now();
        while next <= now {
            next += PROBE_EVERY;
        }
        thread::sleep(next - now);
    }
}

/// Times one exchange on the kept-alive connection, making it first if there is none.
fn on_kept(addr: SocketAddr, kept: &mut Option<BufReader<TcpStream>>) -> Result<Duration, String> {
    let conn = match kept {
        Some(conn) => conn,
        None => kept.insert(BufReader::new(
            connect(addr).map_err(|e| format!("connect: {e}"))?,
        )),
    };
    let asked = Instant::now();
    match ask(conn) {
        Ok(closes) => {
            if closes {
                *kept = None;
            }
            Ok(asked.elapsed())
        }
        Err(why) => {
            *kept = None;
            Err(why)
        }
    }
}

/// Times connecting and one exchange on a new connection.
fn on_fresh(addr: SocketAddr) -> Result<Duration, String> {
    let asked = Instant::now();
    let stream = connect(addr).map_err(|e| format!("connect: {e}"))?;
    ask(&mut BufReader::new(stream))?;
    Ok(asked.elapsed())
}

/// Sends `GET /` and checks the answer; says whether the server will close the connection.
fn ask<S: Read + Write>(conn: &mut BufReader<S>) -> Result<bool, String> {
    conn.get_mut()
        .write_all(b"GET / HTTP/1.1\r\nHost: soak\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let r = read_response(conn, false).map_err(|e| format!("read: {e}"))?;
    if r.status != 200 || r.body != HELLO {
        return Err(format!(
            "status {} with {} bytes instead of 200 {:?}",
            r.status,
            r.body.len(),
            String::from_utf8_lossy(HELLO)
        ));
    }
    Ok(r.closes)
}

/// What the report says about one kind of probe.
pub struct Summary {
    pub probes: usize,
    pub lost: usize,
    /// Percentiles (nearest rank) and maximum of the answered probes; zero if none was.
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    /// The slowest answer in each minute of the run; `None` for a minute without one.
    pub minute_max: Vec<Option<Duration>>,
    /// Answers slower than `SLOW`: when the probe started, and how long it took.
    pub slow: Vec<(Duration, Duration)>,
    /// Lost probes: when, and why.
    pub lost_why: Vec<(Duration, String)>,
}

impl Log {
    /// Sums up the log of a run of `secs` seconds. A probe started after the last whole
    /// or partial minute (as the clients are told to stop) counts in that minute.
    pub fn summary(&self, secs: u64) -> Summary {
        let probes = self.probes.lock().unwrap();
        let minutes = secs.div_ceil(60).max(1) as usize;
        let mut minute_max = vec![None; minutes];
        let (mut took, mut slow, mut lost_why) = (Vec::new(), Vec::new(), Vec::new());
        for p in probes.iter() {
            match &p.outcome {
                Ok(t) => {
                    took.push(*t);
                    let minute = (p.at.as_secs() / 60).min(minutes as u64 - 1) as usize;
                    let worst: &mut Option<Duration> = &mut minute_max[minute];
                    *worst = Some(worst.map_or(*t, |w| w.max(*t)));
                    if *t > SLOW {
                        slow.push((p.at, *t));
                    }
                }
                Err(why) => lost_why.push((p.at, why.clone())),
            }
        }
        took.sort_unstable();
        let rank = |q: f64| match took.len() {
            0 => Duration::ZERO,
            n => took[((q * n as f64).ceil() as usize).clamp(1, n) - 1],
        };
        Summary {
            probes: probes.len(),
            lost: lost_why.len(),
            p50: rank(0.50),
            p99: rank(0.99),
            max: took.last().copied().unwrap_or_default(),
            minute_max,
            slow,
            lost_why,
        }
    }
}
