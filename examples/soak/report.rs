//! The report, written once everything has run: the well-formed requests and their
//! answers, the abuse, the latency probe, the server's memory, descriptors and CPU, and
//! the graceful shutdown. The figures come from `counts`, `probe`, `watch` and `server`.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::abuse::malformed_kinds;
use crate::counts::{get, Counts, Tally};
use crate::probe::{self, Summary};
use crate::server::{Shutdown, IN_FLIGHT};
use crate::watch::{AfterClients, Peak, Sample, END_AFTER, SETTLED_WITHIN};
use crate::SERVER_FDS;

/// Slow moments and lost probes listed for each kind of probe; the rest are counted.
const LISTED: usize = 20;

/// Everything a run found.
pub struct Run<'a> {
    pub secs: u64,
    pub addr: SocketAddr,
    pub pid: u32,
    pub counts: &'a Counts,
    /// The server before the clients started: fresh, then warm (one request of each kind
    /// served).
    pub start: Sample,
    pub warm: Sample,
    /// The server's live heap bytes `(now, most so far)` when warm and
    /// at the end of the watch after they left.
    pub heap: ((usize, usize), (usize, usize)),
    pub peak: &'a Peak,
    pub after: &'a AfterClients,
    /// Server CPU time while the abuse ran, and how long it ran.
    pub cpu_secs: f64,
    pub abuse_secs: f64,
    pub shutdown: &'a Shutdown,
}

impl fmt::Display for Run<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "soak: {} s on {}, server pid {}: default Server settings, {} loops, \
             descriptor limit {SERVER_FDS}",
            self.secs,
            self.addr,
            self.pid,
            std::thread::available_parallelism().map_or(1, |n| n.get())
        )?;
        self.well_formed(f)?;
        self.abuse(f)?;
        self.probes(f)?;
        self.server(f)?;
        self.shutdown(f)
    }
}

impl Run<'_> {
    fn well_formed(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "\nwell-formed requests          sent  answered   correct    lost"
        )?;
        let c = self.counts;
        let kinds: [(&str, &Tally); 3] = [
            ("keep-alive (mixed)", &c.keep_alive),
            ("pipelined bursts", &c.pipelined),
            ("blocking (200 ms)", &c.blocking),
        ];
        let mut total = [0u64; 4];
        for (name, tally) in kinds {
            let figures = tally.figures();
            tally_line(f, name, figures)?;
            for (sum, n) in total.iter_mut().zip(figures) {
                *sum += n;
            }
        }
        tally_line(f, "total", total)?;
        for (_, tally) in kinds {
            for why in tally.wrong() {
                writeln!(f, "    ! {why}")?;
            }
        }
        Ok(())
    }

    fn abuse(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.counts;
        writeln!(f, "\nabuse")?;
        writeln!(
            f,
            "  slowloris     {} connections dripped; {} answered 408, {} closed by the server",
            get(&c.slowloris_opened),
            get(&c.slowloris_408),
            get(&c.slowloris_closed)
        )?;
        writeln!(
            f,
            "  idle waves    {} silent sockets opened, at most {} held at once; {} connects \
             timed out at the cap",
            get(&c.idle_opened),
            c.idle_peak.load(Ordering::Relaxed),
            get(&c.idle_connect_failures)
        )?;
        writeln!(
            f,
            "  resets        {} mid-head, {} mid-body (inline), {} mid-body (blocking), {} \
             mid-response",
            get(&c.resets[0]),
            get(&c.resets[1]),
            get(&c.resets[2]),
            get(&c.resets[3])
        )?;
        writeln!(
            f,
            "  malformed     {} sent ({} kinds), {} answered as expected",
            get(&c.malformed_sent),
            malformed_kinds(),
            get(&c.malformed_as_expected)
        )?;
        for why in c.malformed_unexpected.lock().unwrap().iter() {
            writeln!(f, "    ! {why}")?;
        }
        Ok(())
    }

    fn probes(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kinds = [
            ("kept-alive", self.counts.probe_kept.summary(self.secs)),
            (
                "fresh (with connect)",
                self.counts.probe_fresh.summary(self.secs),
            ),
        ];
        let every = probe::PROBE_EVERY.as_millis();
        writeln!(
            f,
            "\nlatency probe: GET / every {every} ms on each connection"
        )?;
        writeln!(
            f,
            "  {:<22}{:>10}{:>8}{:>12}{:>12}{:>12}",
            "connection", "probes", "lost", "p50", "p99", "max"
        )?;
        for (name, s) in &kinds {
            writeln!(
                f,
                "  {name:<22}{:>10}{:>8}{:>12}{:>12}{:>12}",
                s.probes,
                s.lost,
                ms(s.p50),
                ms(s.p99),
                ms(s.max)
            )?;
        }
        writeln!(f, "  max of each minute, in ms")?;
        for (name, s) in &kinds {
            writeln!(f, "    {name:<22}{}", minute_maxima(s))?;
        }
        let slow = kinds.iter().map(|(_, s)| s.slow.len()).sum::<usize>();
        let over = probe::SLOW.as_secs();
        if slow == 0 {
            writeln!(f, "  slow moments (over {over} s): none")?;
        } else {
            writeln!(
                f,
                "  slow moments (over {over} s), from the clients' start:"
            )?;
            for (name, s) in &kinds {
                for (at, took) in s.slow.iter().take(LISTED) {
                    writeln!(
                        f,
                        "    {name:<22} at {:>6.1} s: {}",
                        at.as_secs_f64(),
                        ms(*took)
                    )?;
                }
                more(f, s.slow.len())?;
            }
        }
        for (name, s) in &kinds {
            for (at, why) in s.lost_why.iter().take(LISTED) {
                writeln!(f, "    ! {name} at {:.1} s: lost: {why}", at.as_secs_f64())?;
            }
            more(f, s.lost_why.len())?;
        }
        Ok(())
    }

    fn server(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (end_at, end) = self.after.at(END_AFTER);
        let (last_at, last) = self.after.last();
        let (lowest_at, lowest) = self.after.lowest();
        writeln!(f, "\nserver          RSS      open fds")?;
        sample_line(f, "start", self.start.rss_kib, self.start.fds, "fresh")?;
        let warm_note = "after one request of each kind";
        sample_line(f, "warm", self.warm.rss_kib, self.warm.fds, warm_note)?;
        sample_line(
            f,
            "peak",
            self.peak.rss_kib.load(Ordering::Relaxed),
            self.peak.fds.load(Ordering::Relaxed),
            "",
        )?;
        let by_minute = self.peak.rss_kib_by_minute.lock().unwrap();
        let minutes: Vec<String> = by_minute
            .iter()
            .map(|k| format!("{:.1}", *k as f64 / 1024.0))
            .collect();
        writeln!(f, "  peak RSS of each minute, MiB: {}", minutes.join("  "))?;
        let end_note = format!("{} s after the clients left", end_at.as_secs());
        sample_line(f, "end", end.rss_kib, end.fds, &end_note)?;
        let settled_note = format!(
            "{} s after the clients left; RSS within {:.0}% of this from {} s on",
            last_at.as_secs(),
            100.0 * SETTLED_WITHIN,
            self.after.settled_since().as_secs()
        );
        sample_line(f, "settled", last.rss_kib, last.fds, &settled_note)?;
        let lowest_note = format!(
            "least RSS, {} s after the clients left",
            lowest_at.as_secs()
        );
        sample_line(f, "lowest", lowest.rss_kib, lowest.fds, &lowest_note)?;
        let ((start_live, _), (end_live, peak_live)) = self.heap;
        writeln!(
            f,
            "  live heap (allocated, not freed): warm {} KiB, peak {} KiB, settled {} KiB",
            start_live / 1024,
            peak_live / 1024,
            end_live / 1024
        )?;
        writeln!(
            f,
            "  CPU while the abuse ran: {:.1} s over {:.0} s = {:.0}% of one core",
            self.cpu_secs,
            self.abuse_secs,
            100.0 * self.cpu_secs / self.abuse_secs
        )
    }

    fn shutdown(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.shutdown;
        writeln!(
            f,
            "\nshutdown: {IN_FLIGHT} requests in flight at SIGTERM, {} answered correctly, {} \
             with Connection: close; new connections refused: {}; server exited with {} {} ms \
             after the signal",
            s.answered,
            s.closing,
            s.refused_after,
            s.status,
            s.took.as_millis()
        )
    }
}

/// One row of the well-formed table: sent, answered, correct, lost.
fn tally_line(f: &mut fmt::Formatter<'_>, name: &str, [a, b, c, d]: [u64; 4]) -> fmt::Result {
    writeln!(f, "  {name:<22}{a:>10}{b:>10}{c:>10}{d:>8}")
}

/// One row of the server table, with a note in parentheses if there is one.
fn sample_line(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    rss_kib: u64,
    fds: usize,
    note: &str,
) -> fmt::Result {
    write!(f, "  {name:<8}{rss_kib:>8} KiB  {fds:>8}")?;
    if note.is_empty() {
        writeln!(f)
    } else {
        writeln!(f, "   ({note})")
    }
}

/// The worst answer of each minute, in ms, `-` for a minute without one.
fn minute_maxima(s: &Summary) -> String {
    let each: Vec<String> = s
        .minute_max
        .iter()
        .map(|m| m.map_or("-".to_string(), |d| format!("{:.1}", millis(d))))
        .collect();
    each.join("  ")
}

/// "… and N more" after a list cut at `LISTED`.
fn more(f: &mut fmt::Formatter<'_>, listed: usize) -> fmt::Result {
    if listed > LISTED {
        writeln!(f, "    ... and {} more", listed - LISTED)?;
    }
    Ok(())
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", millis(d))
}
