//! Well-formed traffic, every answer checked: keep-alive clients (mixed requests, or the
//! blocking clients' 200 ms sleeps) and pipelined bursts. Each kind counts into its own
//! `Tally` (`counts`); the hostile clients running beside them are in `abuse`.

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use crate::counts::Tally;
use crate::rng::Rng;
use crate::server::{pattern, HELLO};
use crate::wire::{connect, read_response, Response};

/// One request and how to check its answer.
struct Exchange {
    wire: Vec<u8>,
    head: bool,
    status: u16,
    body: Vec<u8>,
}

/// A random well-formed request: hello, HEAD, echo by length or chunked (inline or on the
/// pool), a streamed download of up to 1 MiB, or a short sleep on the pool.
fn request(rng: &mut Rng) -> Exchange {
    let get = |target: &str| format!("GET {target} HTTP/1.1\r\nHost: soak\r\n\r\n").into_bytes();
    match rng.below(7) {
        0 => Exchange {
            wire: get("/"),
            head: false,
            status: 200,
            body: HELLO.to_vec(),
        },
        1 => Exchange {
            wire: b"HEAD / HTTP/1.1\r\nHost: soak\r\n\r\n".to_vec(),
            head: true,
            status: 200,
            body: Vec::new(),
        },
        2 | 3 => {
            let len = rng.below(64 * 1024) as usize;
            let body = rng.bytes(len);
            let target = echo_target(rng);
            let mut wire = format!(
                "POST {target} HTTP/1.1\r\nHost: soak\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            wire.extend_from_slice(&body);
            Exchange {
                wire,
                head: false,
                status: 200,
                body,
            }
        }
        4 => {
            let len = rng.below(16 * 1024) as usize;
            let body = rng.bytes(len);
            let target = echo_target(rng);
            let mut wire = format!(
                "POST {target} HTTP/1.1\r\nHost: soak\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            .into_bytes();
            for chunk in body.chunks(1 + rng.below(4096) as usize) {
                wire.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                wire.extend_from_slice(chunk);
                wire.extend_from_slice(b"\r\n");
            }
            wire.extend_from_slice(b"0\r\n\r\n");
            Exchange {
                wire,
                head: false,
                status: 200,
                body,
            }
        }
        5 => {
            let n = rng.below(1 << 20);
            Exchange {
                wire: get(&format!("/bytes/{n}")),
                head: false,
                status: 200,
                body: (0..n).map(pattern).collect(),
            }
        }
        _ => Exchange {
            wire: get("/sleep?ms=5"),
            head: false,
            status: 200,
            body: b"slept 5".to_vec(),
        },
    }
}

/// The inline echo or the blocking one, evenly.
fn echo_target(rng: &mut Rng) -> &'static str {
    if rng.below(2) == 0 {
        "/echo"
    } else {
        "/pool/echo"
    }
}

/// The blocking clients' one request.
fn sleep_200() -> Exchange {
    Exchange {
        wire: b"GET /sleep?ms=200 HTTP/1.1\r\nHost: soak\r\n\r\n".to_vec(),
        head: false,
        status: 200,
        body: b"slept 200".to_vec(),
    }
}

fn check(x: &Exchange, r: &Response) -> Result<(), String> {
    if r.status != x.status {
        return Err(format!("status {} for {:?}", r.status, first_line(&x.wire)));
    }
    if r.body != x.body {
        return Err(format!(
            "body of {} bytes, {} expected, for {:?}",
            r.body.len(),
            x.body.len(),
            first_line(&x.wire)
        ));
    }
    Ok(())
}

fn first_line(wire: &[u8]) -> String {
    let end = wire.iter().position(|&b| b == b'\r').unwrap_or(wire.len());
    String::from_utf8_lossy(&wire[..end]).into_owned()
}

/// Requests one at a time on a persistent connection, reconnecting when it closes. A
/// `sleepy` client sends only 200 ms sleeps, to keep the blocking pool busy.
pub fn keep_alive(addr: SocketAddr, seed: u64, sleepy: bool, tally: &Tally, stop: &AtomicBool) {
    let mut rng = Rng(seed);
    let mut conn: Option<BufReader<TcpStream>> = None;
    while !stop.load(Ordering::Relaxed) {
        let x = if sleepy {
            sleep_200()
        } else {
            request(&mut rng)
        };
        let reader = match conn.as_mut() {
            Some(reader) => reader,
            None => match connect(addr) {
                Ok(stream) => conn.insert(BufReader::new(stream)),
                Err(e) => {
                    tally.sent(1);
                    tally.lost(1, &format!("connect: {e}"));
                    thread::sleep(Duration::from_millis(100));
                    continue;
                }
            },
        };
        tally.sent(1);
        let outcome = reader
            .get_mut()
            .write_all(&x.wire)
            .and_then(|_| read_response(reader, x.head));
        match outcome {
            Ok(r) => {
                tally.answer(check(&x, &r));
                if r.closes {
                    conn = None;
                }
            }
            Err(e) => {
                tally.lost(1, &format!("{}: {e}", first_line(&x.wire)));
                conn = None;
            }
        }
    }
}

/// Bursts of 16–64 pipelined requests in one write, each burst on a new connection.
pub fn pipelined(addr: SocketAddr, seed: u64, tally: &Tally, stop: &AtomicBool) {
    let mut rng = Rng(seed);
    while !stop.load(Ordering::Relaxed) {
        let n = 16 + rng.below(49) as usize;
        let burst: Vec<Exchange> = (0..n)
            .map(|_| loop {
                let x = request(&mut rng);
                if x.body.len() <= 4096 {
                    break x; // small answers: the whole burst fits the socket buffers
                }
            })
            .collect();
        let wire: Vec<u8> = burst.iter().flat_map(|x| x.wire.clone()).collect();
        tally.sent(n as u64);
        let mut stream = match connect(addr) {
            Ok(stream) => stream,
            Err(e) => {
                tally.lost(n as u64, &format!("connect: {e}"));
                continue;
            }
        };
        // The burst goes from another thread while this one reads, as a real client's
        // would: neither side waits on the other's buffers.
        let writer = stream
            .try_clone()
            .map(|mut s| thread::spawn(move || s.write_all(&wire)));
        let mut reader = BufReader::new(&mut stream);
        let mut answered = 0;
        for x in &burst {
            match read_response(&mut reader, x.head) {
                Ok(r) => {
                    tally.answer(check(x, &r));
                    answered += 1;
                }
                Err(e) => {
                    tally.lost((n - answered) as u64, &format!("pipelined: {e}"));
                    break;
                }
            }
        }
        if let Ok(writer) = writer {
            let _ = writer.join();
        }
    }
}
