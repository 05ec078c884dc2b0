//! The event loop end to end: an echo server over real loopback sockets, whose writes meet
//! back-pressure and leave bytes pending until the socket is writable again.
//!
//! The test body runs under `util::within`, so a loop that blocks when it should not fails
//! the test instead of hanging `cargo test`.

mod util;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use mio::net::{TcpListener, TcpStream};
use poller::{Cx, EventLoop, Interest, Machine, Next, Readiness};
use util::{within, LIMIT};

// ---------------------------------------------------------------------------------------------
// End to end: an echo server with partial writes.

/// Counts how often the echo machine met back-pressure.
#[derive(Default)]
struct EchoStats {
    /// Writes that the kernel refused with `WouldBlock`, leaving bytes pending. Shared with
    /// the test's client, which waits for it before it starts reading.
    blocked_writes: Arc<AtomicUsize>,
    bytes_echoed: usize,
}

enum Echo {
    Listener(TcpListener),
    Conn {
        stream: TcpStream,
        pending: Vec<u8>,
        eof: bool,
    },
}

impl Machine for Echo {
    type Msg = ();
    type Local = EchoStats;

    fn start(&mut self, cx: &mut Cx<'_, Self>) -> Next {
        match self {
            Echo::Listener(listener) => cx.register(listener, Interest::READABLE).unwrap(),
            Echo::Conn { stream, .. } => cx
                .register(stream, Interest::READABLE | Interest::WRITABLE)
                .unwrap(),
        }
        Next::Continue
    }

    fn ready(&mut self, cx: &mut Cx<'_, Self>, _: Readiness) -> Next {
        match self {
            Echo::Listener(listener) => loop {
                match listener.accept() {
                    Ok((stream, _)) => cx.spawn(Echo::Conn {
                        stream,
                        pending: Vec::new(),
                        eof: false,
                    }),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return Next::Continue,
                    Err(e) => panic!("accept: {e}"),
                }
            },
            Echo::Conn {
                stream,
                pending,
                eof,
            } => {
                let mut buf = [0u8; 16 * 1024];
                loop {
                    // Flush what is pending; stop reading while the peer is not taking it.
                    while !pending.is_empty() {
                        match stream.write(pending) {
                            Ok(n) => {
                                pending.drain(..n);
                                cx.local.bytes_echoed += n;
                            }
                            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                                cx.local.blocked_writes.fetch_add(1, Ordering::Relaxed);
                                return Next::Continue;
                            }
                            Err(e) => panic!("write: {e}"),
                        }
                    }
                    if *eof {
                        return Next::Close;
                    }
                    match stream.read(&mut buf) {
                        Ok(0) => *eof = true,
                        Ok(n) => pending.extend_from_slice(&buf[..n]),
                        Err(e) if e.kind() == ErrorKind::WouldBlock => return Next::Continue,
                        Err(e) => panic!("read: {e}"),
                    }
                }
            }
        }
    }

    fn timeout(&mut self, _: &mut Cx<'_, Self>) -> Next {
        Next::Continue
    }
    fn message(&mut self, _: &mut Cx<'_, Self>, _: ()) -> Next {
        Next::Continue
    }
}

/// Byte `i` of the stream the echo test sends.
fn pattern(i: usize) -> u8 {
    (i % 251) as u8
}

#[test]
fn echo_end_to_end_through_partial_writes() {
    const MIB: usize = 1 << 20;
    // A bound on how much the client sends while waiting for back-pressure; loopback
    // buffers grow to a few MiB, so in practice it stops far sooner.
    const CAP: usize = 64 * MIB;
    let (stats, counters) = within(LIMIT, || {
        let stats = EchoStats::default();
        let blocked_writes = Arc::clone(&stats.blocked_writes);
        let (to_test, from_loop) = mpsc::channel();
        let looper = thread::spawn(move || {
            let mut lp = EventLoop::new(stats).unwrap();
            let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let addr: SocketAddr = listener.local_addr().unwrap();
            lp.insert(Echo::Listener(listener));
            to_test.send((lp.remote(), addr)).unwrap();
            lp.run().unwrap();
            (std::mem::take(lp.local()), lp.counters().snapshot())
        });
        let (remote, addr) = from_loop.recv().unwrap();

        let mut client = std::net::TcpStream::connect(addr).unwrap();
        let mut writer = client.try_clone().unwrap();
        let written = Arc::new(AtomicBool::new(false));
        // The writer sends 1 MiB, and more while the server has not yet met a full socket;
        // then one more MiB, so that the server has bytes pending when the client starts to
        // read. It returns how many bytes it sent.
        let write_side = {
            let written = Arc::clone(&written);
            let blocked_writes = Arc::clone(&blocked_writes);
            thread::spawn(move || {
                let mut sent = 0;
                let mut chunk = |sent: &mut usize, len: usize| {
                    let bytes: Vec<u8> = (*sent..*sent + len).map(pattern).collect();
                    writer.write_all(&bytes).unwrap();
                    *sent += len;
                };
                chunk(&mut sent, MIB);
                while blocked_writes.load(Ordering::Relaxed) == 0 && sent < CAP {
                    chunk(&mut sent, 64 * 1024);
                }
                chunk(&mut sent, MIB);
                writer.shutdown(Shutdown::Write).unwrap();
                written.store(true, Ordering::Release);
                sent
            })
        };
        // Do not read until a write of the server's has been refused: it must then keep
        // the rest pending and wait for a writable event. The writer cannot stall first,
        // since the server only stops reading once its writes are refused.
        while blocked_writes.load(Ordering::Relaxed) == 0 && !written.load(Ordering::Acquire) {
            thread::sleep(Duration::from_millis(1));
        }
        let mut echoed = Vec::new();
        // Returns at end of file: the server closes once it has echoed everything.
        client.read_to_end(&mut echoed).unwrap();
        let sent = write_side.join().unwrap();
        assert_eq!(echoed.len(), sent);
        assert!(echoed.iter().enumerate().all(|(i, &b)| b == pattern(i)));

        assert!(remote.stop());
        let (stats, counters) = looper.join().unwrap();
        assert_eq!(stats.bytes_echoed, sent);
        (stats, counters)
    });
    assert!(
        stats.blocked_writes.load(Ordering::Relaxed) > 0,
        "the server never met a full socket, so partial writes went untested"
    );
    assert_eq!(counters.spawns, 2, "the listener and one connection");
    assert_eq!(counters.closes, 1, "the connection closed at end of file");
}
