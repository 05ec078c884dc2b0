//! Integration tests of the event loop over real loopback sockets and real threads.
//!
//! Every test body runs under [`within`], so a loop that blocks when it should not fails the
//! test instead of hanging `cargo test`.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream, UdpSocket};
use poller::{Cx, EventLoop, Interest, Machine, Next, Readiness, Token};

/// How long any one test may take before it counts as stuck.
const LIMIT: Duration = Duration::from_secs(5);

/// Runs `f` on its own thread and returns its result, failing the test if it takes longer
/// than `limit` (a loop blocked in `poll` for good) and re-raising its panic if it panics.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let body = thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => {
            body.join().expect("test body");
            value
        }
        Err(RecvTimeoutError::Disconnected) => match body.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the body sends before it returns"),
        },
        Err(RecvTimeoutError::Timeout) => panic!("test body still running after {limit:?}"),
    }
}

/// The slot index inside a token (the low half; the high half is a generation). Only used to
/// check that a test really did reuse a slot.
fn slot_index(token: Token) -> usize {
    token.0 & ((1 << (usize::BITS / 2)) - 1)
}

// ---------------------------------------------------------------------------------------------
// Phases 3, 4 and 5 of one turn run in that order.

/// Records each call into the loop's `Local`.
struct OrderProbe {
    socket: UdpSocket,
}

impl Machine for OrderProbe {
    type Msg = &'static str;
    type Local = Vec<String>;

    fn start(&mut self, cx: &mut Cx<'_, Self>) -> Next {
        cx.register(&mut self.socket, Interest::READABLE).unwrap();
        // Already due: phase 5 of the next turn will fire it.
        cx.set_timer(Instant::now());
        cx.local.push("start".into());
        Next::Continue
    }

    fn ready(&mut self, cx: &mut Cx<'_, Self>, readiness: Readiness) -> Next {
        let mut buf = [0u8; 64];
        let mut got = Vec::new();
        loop {
            match self.socket.recv(&mut buf) {
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("recv: {e}"),
            }
        }
        assert!(readiness.readable, "{readiness:?}");
        cx.local
            .push(format!("ready {}", String::from_utf8(got).unwrap()));
        Next::Continue
    }

    fn message(&mut self, cx: &mut Cx<'_, Self>, msg: &'static str) -> Next {
        cx.local.push(format!("message {msg}"));
        Next::Continue
    }

    fn timeout(&mut self, cx: &mut Cx<'_, Self>) -> Next {
        cx.local.push("timeout".into());
        Next::Continue
    }
}

#[test]
fn one_turn_dispatches_readiness_then_inbox_then_timers() {
    within(LIMIT, || {
        // A datagram is waiting before the loop starts. `peek` blocks until it has arrived,
        // so the socket is certainly readable when it is registered.
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        sender
            .send_to(b"ping", receiver.local_addr().unwrap())
            .unwrap();
        receiver.peek(&mut [0u8; 8]).unwrap();
        receiver.set_nonblocking(true).unwrap();

        let mut lp = EventLoop::new(Vec::new()).unwrap();
        let token = lp.insert(OrderProbe {
            socket: UdpSocket::from_std(receiver),
        });
        // A message is queued too, and the timer armed in `start` is due.
        assert!(lp.remote().send(token, "hello"));

        lp.turn().unwrap();

        assert_eq!(
            lp.local().as_slice(),
            ["start", "ready ping", "message hello", "timeout"]
        );
        let stats = lp.counters().snapshot();
        assert_eq!(stats.turns, 1);
        assert_eq!(stats.wakeups, 1);
        assert_eq!(stats.timers, 1);
    });
}

// ---------------------------------------------------------------------------------------------
// The inbox: waking a blocked loop, coalescing wake-ups, spawning from another thread.

/// Keeps every message it receives in the loop's `Local`.
struct Mailbox;

impl Machine for Mailbox {
    type Msg = u32;
    type Local = Vec<u32>;

    fn start(&mut self, _: &mut Cx<'_, Self>) -> Next {
        Next::Continue
    }
    fn ready(&mut self, _: &mut Cx<'_, Self>, _: Readiness) -> Next {
        Next::Continue
    }
    fn timeout(&mut self, _: &mut Cx<'_, Self>) -> Next {
        Next::Continue
    }
    fn message(&mut self, cx: &mut Cx<'_, Self>, msg: u32) -> Next {
        cx.local.push(msg);
        Next::Continue
    }
}

#[test]
fn a_send_from_another_thread_wakes_a_blocked_loop() {
    within(LIMIT, || {
        let mut lp = EventLoop::new(Vec::new()).unwrap();
        let token = lp.insert(Mailbox);
        let remote = lp.remote();
        let delay = Duration::from_millis(50);
        // Taken before the sender starts, so the send is at least `delay` after it.
        let started = Instant::now();
        let sender = thread::spawn(move || {
            thread::sleep(delay);
            assert!(remote.send(token, 7));
        });

        // No timers and no ready sockets: this turn sleeps until the waker fires.
        lp.turn().unwrap();
        let slept = started.elapsed();
        sender.join().unwrap();

        assert_eq!(lp.local().as_slice(), [7]);
        assert!(
            slept >= delay,
            "the turn returned after {slept:?}, before the send"
        );
        let stats = lp.counters().snapshot();
        assert_eq!(stats.turns, 1);
        assert_eq!(stats.wakeups, 1);
    });
}

#[test]
fn a_burst_of_sends_before_a_turn_costs_one_wakeup() {
    within(LIMIT, || {
        const SENDS: u32 = 5000;
        let mut lp = EventLoop::new(Vec::new()).unwrap();
        let token = lp.insert(Mailbox);
        let remote = lp.remote();
        thread::spawn(move || {
            for i in 0..SENDS {
                assert!(remote.send(token, i));
            }
        })
        .join()
        .unwrap();

        // The inbox is drained a bounded number per turn, so this takes a few turns, but
        // the later ones do not sleep and no further wake-up is needed.
        while lp.local().len() < SENDS as usize {
            lp.turn().unwrap();
        }

        assert!(
            lp.local().iter().copied().eq(0..SENDS),
            "in order, once each"
        );
        let stats = lp.counters().snapshot();
        assert_eq!(stats.wakeups, 1);
        assert!(stats.turns < 10, "{stats:?}");
    });
}

#[test]
fn sends_racing_a_running_loop_coalesce_wakeups() {
    let (stats, received) = within(LIMIT, || {
        const SENDS: u32 = 20_000;
        let (to_test, from_loop) = mpsc::channel();
        let looper = thread::spawn(move || {
            let mut lp = EventLoop::new(Vec::new()).unwrap();
            let token = lp.insert(Mailbox);
            to_test.send((lp.remote(), token)).unwrap();
            lp.run().unwrap();
            (lp.counters().snapshot(), std::mem::take(lp.local()))
        });
        let (remote, token) = from_loop.recv().unwrap();
        for i in 0..SENDS {
            assert!(remote.send(token, i));
        }
        // `Stop` is queued behind every message, so `run` returns after all are delivered.
        assert!(remote.stop());
        looper.join().unwrap()
    });

    let sends = received.len() as u64;
    assert!(
        received.iter().copied().eq(0..20_000),
        "in order, once each"
    );
    assert!(stats.wakeups >= 1);
    assert!(
        stats.wakeups * 10 <= sends,
        "{} wake-ups for {sends} sends: not coalesced ({stats:?})",
        stats.wakeups
    );
}

/// Reports its `start` (with its token) and every message over a std channel.
struct Spawned {
    report: mpsc::Sender<(Token, &'static str)>,
}

impl Machine for Spawned {
    type Msg = &'static str;
    type Local = ();

    fn start(&mut self, cx: &mut Cx<'_, Self>) -> Next {
        self.report.send((cx.token(), "start")).unwrap();
        Next::Continue
    }
    fn ready(&mut self, _: &mut Cx<'_, Self>, _: Readiness) -> Next {
        Next::Continue
    }
    fn timeout(&mut self, _: &mut Cx<'_, Self>) -> Next {
        Next::Continue
    }
    fn message(&mut self, cx: &mut Cx<'_, Self>, msg: &'static str) -> Next {
        self.report.send((cx.token(), msg)).unwrap();
        Next::Continue
    }
}

#[test]
fn remote_spawn_from_another_thread_adopts_and_starts_the_machine() {
    let stats = within(LIMIT, || {
        let (to_test, from_loop) = mpsc::channel();
        // The loop starts empty and blocks in its first turn.
        let looper = thread::spawn(move || {
            let mut lp = EventLoop::<Spawned>::new(()).unwrap();
            to_test.send(lp.remote()).unwrap();
            lp.run().unwrap();
            (lp.len(), lp.counters().snapshot())
        });
        let remote = from_loop.recv().unwrap();

        let (report, reports) = mpsc::channel();
        let spawner = {
            let remote = remote.clone();
            thread::spawn(move || {
                assert!(remote.spawn(Spawned { report }).is_ok());
            })
        };
        spawner.join().unwrap();

        let (token, what) = reports.recv_timeout(LIMIT).unwrap();
        assert_eq!(what, "start");
        // The token `start` saw is a real address: a message to it arrives.
        assert!(remote.send(token, "hello"));
        assert_eq!(reports.recv_timeout(LIMIT).unwrap(), (token, "hello"));

        assert!(remote.stop());
        let (len, stats) = looper.join().unwrap();
        assert_eq!(len, 1);
        stats
    });
    assert_eq!(stats.spawns, 1);
}

// ---------------------------------------------------------------------------------------------
// Tokens carry a generation: a reused slot does not receive what was meant for the old one.

/// Logs `(name, what)` for every call; closes on the message "close".
struct Named {
    name: &'static str,
    timer: Option<Duration>,
}

impl Machine for Named {
    type Msg = &'static str;
    type Local = Vec<(&'static str, &'static str)>;

    fn start(&mut self, cx: &mut Cx<'_, Self>) -> Next {
        if let Some(after) = self.timer {
            cx.set_timer(Instant::now() + after);
        }
        Next::Continue
    }
    fn ready(&mut self, cx: &mut Cx<'_, Self>, _: Readiness) -> Next {
        cx.local.push((self.name, "ready"));
        Next::Continue
    }
    fn timeout(&mut self, cx: &mut Cx<'_, Self>) -> Next {
        cx.local.push((self.name, "timeout"));
        Next::Continue
    }
    fn message(&mut self, cx: &mut Cx<'_, Self>, msg: &'static str) -> Next {
        cx.local.push((self.name, msg));
        if msg == "close" {
            Next::Close
        } else {
            Next::Continue
        }
    }
}

#[test]
fn a_stale_token_does_not_reach_the_slots_next_occupant() {
    within(LIMIT, || {
        let ms = Duration::from_millis;
        let mut lp = EventLoop::new(Vec::new()).unwrap();
        let remote = lp.remote();

        // The old machine has a timer pending when it closes.
        let old = lp.insert(Named {
            name: "old",
            timer: Some(ms(20)),
        });
        // A witness in another slot whose deadline comes later: timers fire earliest first,
        // so once it fires the old machine's heap entry has surfaced too.
        lp.insert(Named {
            name: "witness",
            timer: Some(ms(30)),
        });
        assert!(remote.send(old, "close"));
        lp.turn().unwrap();
        assert_eq!(
            lp.len(),
            1,
            "closed machines are reaped at the end of the turn"
        );

        let new = lp.insert(Named {
            name: "new",
            timer: None,
        });
        assert_ne!(old, new);
        assert_eq!(slot_index(old), slot_index(new), "the slot was reused");

        assert!(remote.send(old, "stale"));
        assert!(remote.send(new, "fresh"));
        while lp.local().last() != Some(&("witness", "timeout")) {
            lp.turn().unwrap();
        }

        // Neither the message nor the timer meant for "old" reached "new".
        assert_eq!(
            lp.local().as_slice(),
            [("old", "close"), ("new", "fresh"), ("witness", "timeout")]
        );
        let stats = lp.counters().snapshot();
        assert_eq!(stats.timers, 1);
        assert_eq!(stats.closes, 1);
    });
}

// ---------------------------------------------------------------------------------------------
// Timers.

/// Sets a deadline in `start`; on messages, moves or clears it. Logs each firing with its time.
struct Alarm {
    id: u32,
    at: Option<Instant>,
}

#[derive(Clone)]
enum AlarmMsg {
    MoveTo(Instant),
    Cancel,
}

impl Machine for Alarm {
    type Msg = AlarmMsg;
    type Local = Vec<(u32, Instant)>;

    fn start(&mut self, cx: &mut Cx<'_, Self>) -> Next {
        if let Some(at) = self.at {
            cx.set_timer(at);
            assert_eq!(cx.deadline(), Some(at));
        }
        Next::Continue
    }
    fn ready(&mut self, _: &mut Cx<'_, Self>, _: Readiness) -> Next {
        Next::Continue
    }
    fn timeout(&mut self, cx: &mut Cx<'_, Self>) -> Next {
        // The loop fires a deadline once, and only after it has passed.
        assert_eq!(cx.deadline(), None);
        let now = Instant::now();
        assert!(now >= self.at.unwrap(), "fired early");
        cx.local.push((self.id, now));
        Next::Continue
    }
    fn message(&mut self, cx: &mut Cx<'_, Self>, msg: AlarmMsg) -> Next {
        match msg {
            AlarmMsg::MoveTo(at) => {
                self.at = Some(at);
                cx.set_timer(at);
            }
            AlarmMsg::Cancel => {
                cx.clear_timer();
                assert_eq!(cx.deadline(), None);
            }
        }
        Next::Continue
    }
}

fn alarm(id: u32, at: Instant) -> Alarm {
    Alarm { id, at: Some(at) }
}

fn ids(fired: &[(u32, Instant)]) -> Vec<u32> {
    fired.iter().map(|&(id, _)| id).collect()
}

#[test]
fn timers_fire_earliest_first_across_turns() {
    within(LIMIT, || {
        let base = Instant::now();
        let ms = Duration::from_millis;
        let mut lp = EventLoop::new(Vec::new()).unwrap();
        lp.insert(alarm(0, base + ms(30)));
        lp.insert(alarm(1, base + ms(10)));
        lp.insert(alarm(2, base + ms(20)));

        while lp.local().len() < 3 {
            lp.turn().unwrap();
        }

        assert_eq!(ids(lp.local()), [1, 2, 0]);
        assert_eq!(lp.counters().snapshot().timers, 3);
    });
}

#[test]
fn timers_due_in_the_same_turn_fire_earliest_first() {
    within(LIMIT, || {
        let base = Instant::now();
        let us = Duration::from_micros;
        let mut lp = EventLoop::new(Vec::new()).unwrap();
        lp.insert(alarm(0, base + us(3)));
        lp.insert(alarm(1, base + us(1)));
        lp.insert(alarm(2, base + us(2)));

        // By the time `poll` returns (at once, or after the 1 ms it rounds up to), all
        // three deadlines have passed.
        lp.turn().unwrap();

        assert_eq!(ids(lp.local()), [1, 2, 0]);
        assert_eq!(lp.counters().snapshot().turns, 1);
    });
}

#[test]
fn moving_a_deadline_later_delays_it_and_clearing_it_cancels_it() {
    within(LIMIT, || {
        let base = Instant::now();
        let ms = Duration::from_millis;
        let mut lp = EventLoop::new(Vec::new()).unwrap();
        let remote = lp.remote();
        let moved = lp.insert(alarm(0, base + ms(10)));
        let cancelled = lp.insert(alarm(1, base + ms(10)));
        // A witness that fires after the others would have.
        lp.insert(alarm(2, base + ms(50)));

        // Both messages arrive in the first turn, whose phase 4 comes before its phase 5:
        // they act before the 10 ms deadlines can fire, however late that turn runs.
        assert!(remote.send(moved, AlarmMsg::MoveTo(base + ms(40))));
        assert!(remote.send(cancelled, AlarmMsg::Cancel));
        while lp.local().len() < 2 {
            lp.turn().unwrap();
        }

        let fired = lp.local().clone();
        assert_eq!(ids(&fired), [0, 2], "the cancelled alarm never fired");
        assert!(
            fired[0].1 >= base + ms(40),
            "the moved alarm fired at its new deadline"
        );
        // The old 10 ms heap entry surfaced and was re-armed, not fired.
        assert_eq!(lp.counters().snapshot().timers, 2);
    });
}

/// Re-arms its timer at the turn's own `now` on every firing: due again at once.
struct Rearm;

impl Machine for Rearm {
    type Msg = ();
    type Local = Vec<&'static str>;

    fn start(&mut self, cx: &mut Cx<'_, Self>) -> Next {
        cx.set_timer(Instant::now());
        Next::Continue
    }
    fn ready(&mut self, _: &mut Cx<'_, Self>, _: Readiness) -> Next {
        Next::Continue
    }
    fn timeout(&mut self, cx: &mut Cx<'_, Self>) -> Next {
        cx.local.push("timeout");
        // Fail fast rather than spin if phase 5 keeps calling us within one turn.
        assert!(
            cx.local.len() < 100,
            "timeout called {} times",
            cx.local.len()
        );
        let now = cx.now();
        cx.set_timer(now);
        Next::Continue
    }
    fn message(&mut self, cx: &mut Cx<'_, Self>, _: ()) -> Next {
        cx.local.push("message");
        Next::Continue
    }
}

#[test]
fn a_timer_rearmed_for_now_fires_once_per_turn() {
    within(LIMIT, || {
        let mut lp = EventLoop::new(Vec::new()).unwrap();
        let token = lp.insert(Rearm);
        let remote = lp.remote();
        for _ in 0..3 {
            lp.turn().unwrap();
        }
        // The loop stays responsive: the next turn does not sleep, and still drains its inbox.
        assert!(remote.send(token, ()));
        lp.turn().unwrap();

        assert_eq!(
            lp.local().as_slice(),
            ["timeout", "timeout", "timeout", "message", "timeout"]
        );
        assert_eq!(lp.counters().snapshot().turns, 4);
    });
}

// ---------------------------------------------------------------------------------------------
// An idle loop sleeps in the kernel.

/// Registers a listener and never accepts: it is only there to be quiet.
struct Quiet(TcpListener);

impl Machine for Quiet {
    type Msg = ();
    type Local = ();

    fn start(&mut self, cx: &mut Cx<'_, Self>) -> Next {
        cx.register(&mut self.0, Interest::READABLE).unwrap();
        Next::Continue
    }
    fn ready(&mut self, _: &mut Cx<'_, Self>, _: Readiness) -> Next {
        panic!("nobody connects to this listener");
    }
    fn timeout(&mut self, _: &mut Cx<'_, Self>) -> Next {
        panic!("no timer was set");
    }
    fn message(&mut self, _: &mut Cx<'_, Self>, _: ()) -> Next {
        Next::Continue
    }
}

#[test]
fn an_idle_loop_blocks_instead_of_spinning() {
    within(LIMIT, || {
        let (to_test, from_loop) = mpsc::channel();
        let looper = thread::spawn(move || {
            let mut lp = EventLoop::new(()).unwrap();
            lp.insert(Quiet(
                TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap(),
            ));
            to_test.send((lp.remote(), lp.counters())).unwrap();
            lp.run().unwrap();
        });
        let (remote, counters) = from_loop.recv().unwrap();

        thread::sleep(Duration::from_millis(300));
        let idle = counters.snapshot();
        assert!(idle.turns <= 2, "the idle loop turned {} times", idle.turns);
        assert_eq!(idle.events, 0);

        assert!(remote.stop());
        looper.join().unwrap();
        let stopped = counters.snapshot();
        assert!(stopped.turns <= 2, "{stopped:?}");
        assert_eq!(stopped.wakeups, 1, "only the stop woke it");
    });
}

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

/// Sets a coarse deadline `after` from now, within `slack`, and counts its firings.
struct Coarse {
    after: Duration,
    slack: Duration,
}

impl Machine for Coarse {
    type Msg = ();
    type Local = Vec<Instant>;

    fn start(&mut self, cx: &mut Cx<'_, Self>) -> Next {
        let at = Instant::now() + self.after;
        cx.set_timer_within(at, self.slack);
        let deadline = cx.deadline().expect("armed");
        assert!(
            deadline >= at && deadline < at + self.slack,
            "rounded up by less than the slack"
        );
        Next::Continue
    }

    fn ready(&mut self, _: &mut Cx<'_, Self>, _: Readiness) -> Next {
        Next::Continue
    }

    fn message(&mut self, _: &mut Cx<'_, Self>, _: ()) -> Next {
        Next::Continue
    }

    fn timeout(&mut self, cx: &mut Cx<'_, Self>) -> Next {
        cx.local.push(Instant::now());
        Next::Close
    }
}

#[test]
fn coarse_deadlines_in_one_window_fire_in_one_turn() {
    within(Duration::from_secs(5), || {
        let mut lp: EventLoop<Coarse> = EventLoop::new(Vec::new()).unwrap();
        let slack = Duration::from_millis(100);
        // Deadlines armed 2 ms apart, all inside one 100 ms window at most twice.
        for i in 0..20 {
            lp.insert(Coarse {
                after: Duration::from_millis(150) + Duration::from_micros(i * 500),
                slack,
            });
            std::thread::sleep(Duration::from_micros(500));
        }
        let before = lp.counters().snapshot().turns;
        while !lp.is_empty() {
            lp.turn().unwrap();
        }
        let turns = lp.counters().snapshot().turns - before;
        assert_eq!(lp.local().len(), 20);
        assert!(
            turns <= 3,
            "20 deadlines within {slack:?} took {turns} turns"
        );
    });
}
