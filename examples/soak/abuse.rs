//! Hostile clients, run beside the well-formed traffic of `honest`: slowloris drips, idle
//! floods up to the server's descriptor cap, resets at every stage of an exchange, and
//! malformed and smuggling requests that must each get their refusal. They count into
//! `counts::Counts`.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::counts::{add, Counts};
use crate::rng::Rng;
use crate::wire::{connect, read_response};
use crate::SERVER_FDS;

/// Slowloris connections held open at once.
const SLOWLORIS_CONNS: usize = 200;

/// An idle wave starts this often and holds its sockets this long.
const IDLE_EVERY: Duration = Duration::from_secs(120);
const IDLE_HOLD: Duration = Duration::from_secs(25);

/// The first idle wave starts this long after the clients, once the rest are going.
const FIRST_IDLE_WAVE: Duration = Duration::from_secs(20);

/// Connections that send a head one byte a second; the server must answer 408 and close.
pub fn slowloris(addr: SocketAddr, counts: &Counts, stop: &AtomicBool) {
    let head = b"GET /slow HTTP/1.1\r\nHost: soak\r\nX-Drip: ".to_vec();
    let mut conns: Vec<(TcpStream, usize)> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        while conns.len() < SLOWLORIS_CONNS {
            match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
                Ok(s) => {
                    let _ = s.set_nonblocking(true);
                    add(&counts.slowloris_opened);
                    conns.push((s, 0));
                }
                Err(_) => break,
            }
        }
        let mut keep = Vec::with_capacity(conns.len());
        for (mut s, sent) in conns.drain(..) {
            let mut buf = [0u8; 512];
            match s.read(&mut buf) {
                Ok(0) => add(&counts.slowloris_closed),
                Ok(n) => {
                    if buf[..n].starts_with(b"HTTP/1.1 408") {
                        add(&counts.slowloris_408);
                    }
                    add(&counts.slowloris_closed);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    let byte = head.get(sent).copied().unwrap_or(b'a');
                    if s.write(&[byte]).is_ok() {
                        keep.push((s, sent + 1));
                    } else {
                        add(&counts.slowloris_closed);
                    }
                }
                Err(_) => add(&counts.slowloris_closed),
            }
        }
        conns = keep;
        thread::sleep(Duration::from_secs(1));
    }
}

/// Every `IDLE_EVERY`, opens silent sockets until the server's descriptors run out (its
/// backlog then holds the rest), holds them for `IDLE_HOLD`, then lets them go.
pub fn idle_waves(addr: SocketAddr, counts: &Counts, stop: &AtomicBool, started: Instant) {
    let mut next = started + FIRST_IDLE_WAVE;
    while !stop.load(Ordering::Relaxed) {
        if Instant::now() < next {
            thread::sleep(Duration::from_millis(200));
            continue;
        }
        next += IDLE_EVERY;
        let mut held = Vec::new();
        let until = Instant::now() + IDLE_HOLD;
        while Instant::now() < until && !stop.load(Ordering::Relaxed) {
            while held.len() < SERVER_FDS as usize + 256 {
                match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
                    Ok(s) => {
                        add(&counts.idle_opened);
                        held.push(s);
                    }
                    Err(_) => {
                        add(&counts.idle_connect_failures);
                        break;
                    }
                }
            }
            counts.idle_peak.fetch_max(held.len(), Ordering::Relaxed);
            // The server closes silent sockets at its header timeout: drop those, reopen.
            held.retain(|s| {
                let _ = s.set_nonblocking(true);
                let mut buf = [0u8; 64];
                matches!((&*s).read(&mut buf), Err(e) if e.kind() == ErrorKind::WouldBlock)
            });
            thread::sleep(Duration::from_millis(500));
        }
    }
}

/// Clients that abort with a reset: mid-head, mid-body (inline, blocking), mid-response.
pub fn resetters(addr: SocketAddr, seed: u64, counts: &Counts, stop: &AtomicBool) {
    let mut rng = Rng(seed);
    while !stop.load(Ordering::Relaxed) {
        let kind = rng.below(4) as usize;
        let Ok(mut s) = connect(addr) else {
            thread::sleep(Duration::from_millis(50));
            continue;
        };
        let _ = match kind {
            0 => s.write_all(b"GET / HTTP/1.1\r\nHost: soak\r\nX-Partial: abc"),
            1 | 2 => {
                let target = if kind == 1 { "/echo" } else { "/pool/echo" };
                let head = format!(
                    "POST {target} HTTP/1.1\r\nHost: soak\r\nContent-Length: 1000000\r\n\r\n"
                );
                s.write_all(head.as_bytes())
                    .and_then(|_| s.write_all(&rng.bytes(20_000)))
            }
            _ => s
                .write_all(b"GET /bytes/50000000 HTTP/1.1\r\nHost: soak\r\n\r\n")
                .and_then(|_| s.read_exact(&mut [0u8; 100_000])),
        };
        thread::sleep(Duration::from_millis(rng.below(20)));
        reset_on_close(&s);
        drop(s);
        add(&counts.resets[kind]);
        thread::sleep(Duration::from_millis(20));
    }
}

/// Sets SO_LINGER to zero, so that closing the socket sends a reset.
fn reset_on_close(s: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the descriptor is open for the life of `s`, and the option value is a
    // `linger` of the size passed.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

/// Hostile requests and the status each must be refused with (or, for the few that are
/// valid but odd, answered with: 200).
const HOSTILE: &[(&str, &[u8], u16)] = &[
    ("CL.TE", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED", 400),
    ("TE.CL", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n", 400),
    ("TE xchunked", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 501),
    ("TE space before colon", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400),
    ("TE twice", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-encoding: x\r\n\r\n0\r\n\r\n", 501),
    ("TE list", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
    ("TE on 1.0", b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("TE folded", b"POST /echo HTTP/1.1\r\nHost: x\r\nX: y\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("CL twice, differing", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400),
    ("CL plus", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello", 400),
    ("CL list", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello", 400),
    ("CL inner space", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5 5\r\n\r\nhello", 400),
    ("CL leading zeros", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 005\r\nConnection: close\r\n\r\nhello", 200),
    ("obs-fold", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400),
    ("bare LF", b"GET / HTTP/1.1\nHost: x\nConnection: close\n\n", 200),
    ("NUL in a value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
    ("no Host", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("two Hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("HTTP/2.0", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    ("Expect: other", b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx", 417),
    ("bad chunk size", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", 400),
    ("forbidden trailer", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 5\r\n\r\nhello", 400),
    ("body over the limit", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 9000000\r\n\r\n", 413),
];

/// Oversized heads, built once.
fn oversized() -> Vec<(&'static str, Vec<u8>, u16)> {
    let mut long_target = b"GET /".to_vec();
    long_target.extend(std::iter::repeat(b'a').take(70_000));
    long_target.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut long_head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    long_head.extend(std::iter::repeat(b'b').take(70_000));
    long_head.extend_from_slice(b"\r\n\r\n");
    vec![
        ("long target", long_target, 414),
        ("long head", long_head, 431),
    ]
}

/// How many kinds of malformed request `malformed` cycles through.
pub fn malformed_kinds() -> usize {
    HOSTILE.len() + oversized().len()
}

/// Sends each hostile request on its own connection and checks the one answer it gets.
pub fn malformed(addr: SocketAddr, counts: &Counts, stop: &AtomicBool) {
    let big = oversized();
    let all: Vec<(&str, &[u8], u16)> = HOSTILE
        .iter()
        .copied()
        .chain(big.iter().map(|(n, w, s)| (*n, w.as_slice(), *s)))
        .collect();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let (name, wire, status) = all[i % all.len()];
        i += 1;
        let Ok(mut s) = connect(addr) else {
            thread::sleep(Duration::from_millis(50));
            continue;
        };
        add(&counts.malformed_sent);
        let _ = s.write_all(wire);
        let _ = s.shutdown(Shutdown::Write);
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        match verdict(name, status, &answer) {
            Ok(()) => add(&counts.malformed_as_expected),
            Err(why) => {
                let mut unexpected = counts.malformed_unexpected.lock().unwrap();
                if unexpected.len() < 10 {
                    unexpected.push(why);
                }
            }
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Whether `answer` is the one response a hostile request `name` must get: `status`, and
/// for a refusal, `Connection: close`.
fn verdict(name: &str, status: u16, answer: &[u8]) -> Result<(), String> {
    let mut reader = BufReader::new(answer);
    match read_response(&mut reader, false) {
        Ok(r) if r.status != status => Err(format!("{name}: {} instead of {status}", r.status)),
        Ok(r) if status >= 400 && !r.closes => Err(format!("{name}: refusal kept the connection")),
        Ok(_) if !reader.fill_buf().map_or(true, |rest| rest.is_empty()) => {
            Err(format!("{name}: more than one answer"))
        }
        Ok(_) => Ok(()),
        Err(e) => Err(format!("{name}: {e}")),
    }
}
