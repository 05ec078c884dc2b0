//! Integration tests of the event loop's timers: deadlines fire earliest first, across turns
//! and within one; moving a deadline delays it and clearing it cancels it; a timer re-armed
//! for now fires once per turn; and coarse deadlines in one window fire in one turn.
//!
//! Every test body runs under `util::within`, so a loop that blocks when it should not fails
//! the test instead of hanging `cargo test`.

mod util;

use std::time::{Duration, Instant};

use poller::{Cx, EventLoop, Machine, Next, Readiness};
use util::{within, LIMIT};

// ---------------------------------------------------------------------------------------------
// Timers.

/// Sets a deadline in `start`; on messages, moves or clears it. Logs each firing with its time.
struct Alarm {
    id: u32,
    at: Option<Instant>,
}

#[derive(Debug, Clone)]
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

/// Moves a coarse deadline in `start` and records each deadline the timer then holds.
struct Mover;

impl Machine for Mover {
    type Msg = ();
    type Local = Vec<(Instant, Duration, Instant)>;

    fn start(&mut self, cx: &mut Cx<'_, Self>) -> Next {
        let slack = Duration::from_millis(100);
        let first = Instant::now() + Duration::from_secs(10);
        cx.set_timer_within(first, slack);
        let held = cx.deadline().expect("armed");
        cx.local.push((first, slack, held));
        // Still within the window of a deadline a little earlier: kept. Later than the
        // deadline held, or so much earlier that it lies past the window: moved.
        let asks = [
            held - Duration::from_micros(1),
            held - slack,
            held + Duration::from_nanos(1),
            held - slack - Duration::from_millis(1),
        ];
        for at in [first].into_iter().chain(asks) {
            cx.set_timer_within(at, slack);
            cx.local.push((at, slack, cx.deadline().expect("armed")));
        }
        Next::Close
    }

    fn ready(&mut self, _: &mut Cx<'_, Self>, _: Readiness) -> Next {
        Next::Continue
    }

    fn message(&mut self, _: &mut Cx<'_, Self>, _: ()) -> Next {
        Next::Continue
    }

    fn timeout(&mut self, _: &mut Cx<'_, Self>) -> Next {
        unreachable!("closed in start, ten seconds before its deadline")
    }
}

#[test]
fn a_coarse_deadline_still_in_its_window_stays_and_any_other_moves() {
    within(LIMIT, || {
        let mut lp: EventLoop<Mover> = EventLoop::new(Vec::new()).unwrap();
        lp.insert(Mover);
        let log = lp.local().clone();
        let held: Vec<_> = log.iter().map(|&(_, _, held)| held).collect();
        for &(at, slack, deadline) in &log {
            assert!(
                deadline >= at && deadline <= at + slack,
                "{deadline:?} outside [{at:?}, +{slack:?}]"
            );
        }
        assert_eq!(held[1], held[0], "the same deadline again");
        assert_eq!(held[2], held[0], "a little earlier: kept");
        assert_eq!(held[3], held[0], "the window's start: kept");
        assert!(held[4] > held[0], "later: moved");
        assert!(held[5] < held[0], "past the window: moved");
    });
}
