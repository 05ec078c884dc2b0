//! The flood itself: the clients with their bodies and echo checks, and the probe.

use crate::wire::{connect, context, describe, exchange, other, read_body, read_head};
use crate::Options;
use std::io::{self, BufReader, ErrorKind, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{PoisonError, RwLock};
use std::thread;
use std::time::{Duration, Instant};

/// Stack size of each client's two threads: they keep little on the stack, and thousands of
/// them must fit.
pub(crate) const STACK: usize = 128 * 1024;
/// Bytes per body write and per comparison, and the capacity of each client's read buffer.
pub(crate) const PIECE: usize = 64 * 1024;
/// The body pattern repeats every `PERIOD` bytes (a prime, so the pattern does not line up
/// with power-of-two buffer sizes).
pub(crate) const PERIOD: usize = 251;
/// How often the probe sends `GET /`; ticks missed while a probe was slow are skipped.
pub(crate) const PROBE_EVERY: Duration = Duration::from_millis(10);
/// The probe's request, on a connection kept alive.
pub(crate) const GET_ROOT: &[u8] = b"GET / HTTP/1.1\r\nHost: flood\r\n\r\n";

/// What client `c` sends: byte `j` of its body is `(j * 31 + c * 7) % 251`. Each client's
/// sequence is client 0's from some offset on, so one shared block of client 0's sequence,
/// `PIECE + PERIOD` bytes long, holds every piece any client sends or expects.
#[derive(Clone, Copy)]
pub(crate) struct Body<'a> {
    /// Client 0's sequence, shared by every client.
    pub(crate) block: &'a [u8],
    /// Where this client's sequence starts in client 0's: the `k` with
    /// `k * 31 ≡ c * 7 (mod 251)`.
    pub(crate) shift: usize,
}

impl Body<'_> {
    fn block() -> Vec<u8> {
        (0..PIECE + PERIOD)
            .map(|k| (k * 31 % PERIOD) as u8)
            .collect()
    }

    fn of_client(block: &[u8], c: usize) -> Body<'_> {
        let shift = (0..PERIOD).find(|k| k * 31 % PERIOD == c * 7 % PERIOD);
        let shift = shift.expect("31 has an inverse mod 251, a prime");
        Body { block, shift }
    }

    /// The `len` bytes (at most `PIECE`) from `offset` on.
    fn piece(&self, offset: u64, len: usize) -> &[u8] {
        let start = ((offset % PERIOD as u64) as usize + self.shift) % PERIOD;
        &self.block[start..start + len]
    }

    /// Checks `received`, found at `offset` of the answer's body, against the body sent.
    fn check(&self, offset: u64, received: &[u8]) -> io::Result<()> {
        for (i, part) in received.chunks(PIECE).enumerate() {
            let at = offset + (i * PIECE) as u64;
            let sent = self.piece(at, part.len());
            if let Some(k) = part.iter().zip(sent).position(|(a, b)| a != b) {
                let at = at + k as u64;
                return Err(other(format!("differs from the bytes sent at byte {at}")));
            }
        }
        Ok(())
    }
}

/// What one client did: body bytes sent and received, and why it failed if it did.
#[derive(Default)]
pub(crate) struct Outcome {
    pub(crate) sent: u64,
    pub(crate) received: u64,
    pub(crate) failure: Option<String>,
}

/// The flood's findings: each client's outcome, the time from the start until the last
/// client finished, and how long each answered probe took and why the others failed.
pub(crate) struct Flood {
    pub(crate) outcomes: Vec<Outcome>,
    pub(crate) took: Duration,
    pub(crate) latencies: Vec<Duration>,
    pub(crate) probe_failures: Vec<String>,
}

/// Step 3: the clients and the probe, started together, until the last client finishes.
/// They wait at a starting gate (a lock held while they are spawned) rather than at a
/// `Barrier`: a thread that cannot be spawned would leave a `Barrier` waiting forever.
pub(crate) fn flood(options: &Options, addr: SocketAddr) -> Flood {
    let block = Body::block();
    let (gate, done) = (RwLock::new(()), AtomicBool::new(false));
    let wait_at = |gate: &RwLock<()>| drop(gate.read().unwrap_or_else(PoisonError::into_inner));
    thread::scope(|s| {
        let closed = gate.write().unwrap_or_else(PoisonError::into_inner);
        let clients: Vec<_> = (0..options.clients)
            .map(|c| {
                let (body, gate) = (Body::of_client(&block, c), &gate);
                small_thread().spawn_scoped(s, move || {
                    wait_at(gate);
                    client(addr, options, body)
                })
            })
            .collect();
        let probe = thread::Builder::new().spawn_scoped(s, || {
            wait_at(&gate);
            probe(addr, &done, options.timeout)
        });
        let started = Instant::now();
        drop(closed);
        let outcomes = (clients.into_iter())
            .map(|client| match client.map(|thread| thread.join()) {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(_)) => failed_with("its thread panicked".into()),
                Err(e) => failed_with(format!("starting its thread: {e}")),
            })
            .collect();
        let took = started.elapsed();
        done.store(true, Relaxed);
        let (latencies, probe_failures) = match probe.map(|thread| thread.join()) {
            Ok(Ok(probes)) => probes,
            _ => (
                vec![],
                vec!["the probe thread did not start, or panicked".into()],
            ),
        };
        Flood {
            outcomes,
            took,
            latencies,
            probe_failures,
        }
    })
}

pub(crate) fn small_thread() -> thread::Builder {
    thread::Builder::new().stack_size(STACK)
}

pub(crate) fn failed_with(reason: String) -> Outcome {
    let failure = Some(reason);
    Outcome {
        failure,
        ..Outcome::default()
    }
}

/// One client: opens its connection, then sends its upload on this thread while a reader
/// thread of its own reads and checks the answer, so neither side waits on the other.
pub(crate) fn client(addr: SocketAddr, options: &Options, body: Body) -> Outcome {
    let deadline = Instant::now() + options.timeout;
    let conn = connect(addr, options.timeout).and_then(|out| Ok((out.try_clone()?, out)));
    let (input, out) = match conn {
        Ok(pair) => pair,
        Err(e) => return failed_with(format!("connect: {}", describe(&e))),
    };
    thread::scope(|s| {
        let reader =
            small_thread().spawn_scoped(s, || read_echo(input, options.bytes, body, deadline));
        let Ok(reader) = reader else {
            return failed_with("could not start its reader thread".into());
        };
        let (sent, sending) = send_upload(out, options, body, deadline);
        let (received, answer) = reader.join().unwrap_or((0, Err(other("reader panicked"))));
        let failure = match (answer, sending) {
            (Err(e), _) => Some(e.to_string()),
            (Ok(()), Err(e)) => Some(format!("sending: {}", describe(&e))),
            (Ok(()), Ok(())) => None,
        };
        Outcome {
            sent,
            received,
            failure,
        }
    })
}

/// Sends the request head, then the body piece by piece: the body bytes sent, and the error
/// that stopped it, if one did.
pub(crate) fn send_upload(
    mut out: TcpStream,
    options: &Options,
    body: Body,
    deadline: Instant,
) -> (u64, io::Result<()>) {
    let (route, bytes) = (&options.route, options.bytes);
    let head = format!(
        "POST {route} HTTP/1.1\r\nHost: flood\r\nContent-Length: {bytes}\r\nConnection: close\r\n\r\n"
    );
    let mut sent = 0;
    let mut send = || {
        out.write_all(head.as_bytes())?;
        while sent < bytes {
            if Instant::now() > deadline {
                return Err(io::Error::from(ErrorKind::TimedOut));
            }
            let len = (bytes - sent).min(PIECE as u64) as usize;
            out.write_all(body.piece(sent, len))?;
            sent += len as u64;
        }
        Ok(())
    };
    let result = send();
    (sent, result)
}

/// Reads the answer to an upload and checks it (see `check_echo`): the body bytes received,
/// and why the answer is wrong if it is; then the connection is shut down, which wakes a
/// sender blocked on it.
pub(crate) fn read_echo(
    input: TcpStream,
    bytes: u64,
    body: Body,
    deadline: Instant,
) -> (u64, io::Result<()>) {
    let mut r = BufReader::with_capacity(PIECE, input);
    let mut received = 0;
    let result = check_echo(&mut r, bytes, body, deadline, &mut received);
    if result.is_err() {
        let _ = r.get_ref().shutdown(Shutdown::Both);
    }
    (received, result)
}

/// Status 200, then a body of exactly the `bytes` bytes sent, compared as they arrive and
/// counted into `received`, all before `deadline`.
pub(crate) fn check_echo(
    r: &mut BufReader<TcpStream>,
    bytes: u64,
    body: Body,
    deadline: Instant,
    received: &mut u64,
) -> io::Result<()> {
    let head = read_head(r).map_err(|e| context("answer head", &e))?;
    if head.status != 200 {
        return Err(other(format!("status {}", head.status)));
    }
    if let Some(n) = head.length.filter(|&n| n != bytes) {
        return Err(other(format!("Content-Length {n}, not {bytes}")));
    }
    let mut check = |piece: &[u8]| {
        if Instant::now() > deadline {
            return Err(io::Error::from(ErrorKind::TimedOut));
        }
        if *received + piece.len() as u64 > bytes {
            return Err(other(format!("longer than the {bytes} bytes sent")));
        }
        body.check(*received, piece)?;
        *received += piece.len() as u64;
        Ok(())
    };
    read_body(r, &head, &mut check).map_err(|e| context("answer body", &e))?;
    match *received == bytes {
        true => Ok(()),
        false => Err(other(format!("answer body: {received} bytes, not {bytes}"))),
    }
}

/// Sends `GET /` on one kept-alive connection every `PROBE_EVERY` until `done`, timing each
/// whole answer; the times of the answered probes, and why the others failed. A failed probe
/// drops the connection; the next one opens a new one (connecting is not timed).
pub(crate) fn probe(
    addr: SocketAddr,
    done: &AtomicBool,
    timeout: Duration,
) -> (Vec<Duration>, Vec<String>) {
    let (mut latencies, mut failures) = (vec![], vec![]);
    let mut conn: Option<BufReader<TcpStream>> = None;
    let mut next = Instant::now();
    loop {
        thread::sleep(next.saturating_duration_since(Instant::now()));
        if done.load(Relaxed) {
            return (latencies, failures);
        }
        next = (next + PROBE_EVERY).max(Instant::now());
        let kept = conn
            .take()
            .map_or_else(|| connect(addr, timeout).map(BufReader::new), Ok);
        let started = Instant::now();
        match kept.and_then(|mut kept| Ok((exchange(&mut kept, GET_ROOT)?, kept))) {
            Ok((head, kept)) if head.status == 200 => {
                latencies.push(started.elapsed());
                conn = (!head.closes).then_some(kept);
            }
            Ok((head, _)) => failures.push(format!("status {}", head.status)),
            Err(e) => failures.push(describe(&e)),
        }
    }
}
