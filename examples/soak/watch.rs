//! Watching the server from outside, through `/proc/<pid>`: its resident memory, open
//! descriptors and CPU time. A `Watcher` thread keeps the peaks while the clients run;
//! after they leave, `after_clients` samples once a second to see what the server gives
//! back, and when. `report` prints both.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The server's resident memory (KiB), open descriptors and CPU ticks, from /proc.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    pub rss_kib: u64,
    pub fds: usize,
    /// User and system time, in `clock_ticks()` per second.
    pub cpu_ticks: u64,
}

/// Reads a sample of process `pid`; a figure that cannot be read is 0.
pub fn sample(pid: u32) -> Sample {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Sample {
        rss_kib,
        fds,
        cpu_ticks: tick(11) + tick(12),
    }
}

/// CPU ticks per second, as `/proc/<pid>/stat` counts them.
pub fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as u64
    } else {
        100
    }
}

// ---- while the clients run ----

/// How often the watcher samples for peaks.
const WATCH_EVERY: Duration = Duration::from_millis(100);

/// The most memory and descriptors the server held at any one sample, and the most RSS
/// in each minute of the run (a leak shows as a climb from minute to minute; a plateau is
/// memory the allocator keeps for reuse).
#[derive(Default)]
pub struct Peak {
    pub rss_kib: AtomicU64,
    pub fds: AtomicUsize,
    pub rss_kib_by_minute: Mutex<Vec<u64>>,
}

/// A thread that samples the server every `WATCH_EVERY` and keeps the peaks.
pub struct Watcher {
    peak: Arc<Peak>,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Watcher {
    pub fn start(pid: u32) -> Watcher {
        let peak = Arc::new(Peak::default());
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (peak, stop) = (Arc::clone(&peak), Arc::clone(&stop));
            thread::spawn(move || {
                let started = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    let s = sample(pid);
                    let minute = (started.elapsed().as_secs() / 60) as usize;
                    let mut by_minute = peak.rss_kib_by_minute.lock().unwrap();
                    if by_minute.len() <= minute {
                        by_minute.resize(minute + 1, 0);
                    }
                    by_minute[minute] = by_minute[minute].max(s.rss_kib);
                    drop(by_minute);
                    peak.rss_kib.fetch_max(s.rss_kib, Ordering::Relaxed);
                    peak.fds.fetch_max(s.fds, Ordering::Relaxed);
                    thread::sleep(WATCH_EVERY);
                }
            })
        };
        Watcher { peak, stop, thread }
    }

    /// Stops the thread; the peaks it saw.
    pub fn stop(self) -> Arc<Peak> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        self.peak
    }
}

// ---- after the clients left ----

/// After the clients leave, the server is sampled this often, for this long: long enough
/// for idle pool threads to exit (10 s idle) and for the last connections to drain.
const AFTER_EVERY: Duration = Duration::from_secs(1);
const AFTER_FOR: Duration = Duration::from_secs(40);

/// The sample the report calls "end": the server has seen the last closes, and its
/// lingering closes have run out.
pub const END_AFTER: Duration = Duration::from_secs(4);

/// RSS within this fraction of the last sample's is settled.
pub const SETTLED_WITHIN: f64 = 0.10;

/// Samples taken every `AFTER_EVERY` for `AFTER_FOR` after the clients left, each with the
/// time since they left. Never empty.
pub struct AfterClients {
    samples: Vec<(Duration, Sample)>,
}

/// Samples the server every `AFTER_EVERY` for `AFTER_FOR`, from now.
pub fn after_clients(pid: u32) -> AfterClients {
    let left = Instant::now();
    let mut samples = Vec::new();
    let mut since = Duration::ZERO;
    while since < AFTER_FOR {
        since += AFTER_EVERY;
        thread::sleep((left + since).saturating_duration_since(Instant::now()));
        samples.push((since, sample(pid)));
    }
    AfterClients { samples }
}

impl AfterClients {
    /// The first sample taken at least `after` after the clients left (else the last).
    pub fn at(&self, after: Duration) -> (Duration, Sample) {
        self.samples
            .iter()
            .find(|(since, _)| *since >= after)
            .copied()
            .unwrap_or_else(|| self.last())
    }

    /// The last sample, at the end of the window.
    pub fn last(&self) -> (Duration, Sample) {
        *self.samples.last().expect("never empty")
    }

    /// The first sample from which RSS stayed within `SETTLED_WITHIN` of the last sample's
    /// to the end of the window.
    pub fn settled_since(&self) -> Duration {
        let last = self.last().1.rss_kib as f64;
        let near = |s: &Sample| (s.rss_kib as f64 - last).abs() <= SETTLED_WITHIN * last;
        let unsettled = self.samples.iter().rposition(|(_, s)| !near(s));
        let first = unsettled.map_or(0, |i| i + 1);
        self.samples[first].0
    }

    /// The sample with the least RSS (the first, if several).
    pub fn lowest(&self) -> (Duration, Sample) {
        *self
            .samples
            .iter()
            .min_by_key(|(_, s)| s.rss_kib)
            .expect("never empty")
    }
}
