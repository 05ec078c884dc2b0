//! Integration tests of the event loop over real loopback sockets and real threads: the
//! order of one turn's phases, the inbox (waking a blocked loop, coalescing wake-ups,
//! spawning from another thread), token generations, and an idle loop that sleeps.
//!
//! Every test body runs under `util::within`, so a loop that blocks when it should not fails
//! the test instead of hanging `cargo test`.

mod util;

use std::io::ErrorKind;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, UdpSocket};
use poller::{Cx, EventLoop, Interest, Machine, Next, Readiness, Token};
use util::{within, LIMIT};

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
