//! What the clients count, shared by all their threads: one `Tally` per kind of
//! well-formed traffic (`honest`), plain counters for the abuse (`abuse`), and the latency
//! probe's log (`probe`). `report` reads them once the clients have stopped.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::probe;

/// How many wrong answers a `Tally` keeps for the report.
const WRONG_KEPT: usize = 5;

/// Counts of one kind of well-formed request. Every request sent is, in the end, either
/// answered (correctly or not) or lost.
#[derive(Default)]
pub struct Tally {
    sent: AtomicU64,
    answered: AtomicU64,
    correct: AtomicU64,
    lost: AtomicU64,
    /// The first few wrong answers and losses, for the report.
    wrong: Mutex<Vec<String>>,
}

impl Tally {
    pub fn sent(&self, n: u64) {
        self.sent.fetch_add(n, Ordering::Relaxed);
    }

    pub fn answer(&self, ok: Result<(), String>) {
        self.answered.fetch_add(1, Ordering::Relaxed);
        match ok {
            Ok(()) => add(&self.correct),
            Err(why) => self.keep(why),
        }
    }

    pub fn lost(&self, n: u64, why: &str) {
        if n > 0 {
            self.lost.fetch_add(n, Ordering::Relaxed);
            self.keep(format!("lost {n}: {why}"));
        }
    }

    fn keep(&self, why: String) {
        let mut wrong = self.wrong.lock().unwrap();
        if wrong.len() < WRONG_KEPT {
            wrong.push(why);
        }
    }

    /// Sent, answered, answered correctly, lost.
    pub fn figures(&self) -> [u64; 4] {
        [&self.sent, &self.answered, &self.correct, &self.lost].map(get)
    }

    /// The wrong answers and losses kept.
    pub fn wrong(&self) -> Vec<String> {
        self.wrong.lock().unwrap().clone()
    }
}

/// Everything the clients count.
#[derive(Default)]
pub struct Counts {
    pub keep_alive: Tally,
    pub pipelined: Tally,
    pub blocking: Tally,
    pub slowloris_opened: AtomicU64,
    pub slowloris_408: AtomicU64,
    pub slowloris_closed: AtomicU64,
    pub idle_opened: AtomicU64,
    /// The most silent sockets one idle wave held at once.
    pub idle_peak: AtomicUsize,
    pub idle_connect_failures: AtomicU64,
    /// Resets mid-head, mid-body (inline), mid-body (blocking), mid-response.
    pub resets: [AtomicU64; 4],
    pub malformed_sent: AtomicU64,
    pub malformed_as_expected: AtomicU64,
    /// The first few hostile requests not refused as they must be.
    pub malformed_unexpected: Mutex<Vec<String>>,
    /// The latency probe on one kept-alive connection.
    pub probe_kept: probe::Log,
    /// The latency probe on a fresh connection each time.
    pub probe_fresh: probe::Log,
}

pub fn add(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

pub fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}
