//! The report: one line per figure.

use crate::load::Flood;
use crate::Options;
use std::io::{self};
use std::time::Duration;

/// Distinct failure reasons printed, for the clients and for the probe.
pub(crate) const REASONS_SHOWN: usize = 5;

/// The server's resident set in KiB: before the flood, its peak as sampled and as the kernel
/// recorded it (VmHWM, 0 if unread), and `--after-secs` after the flood.
pub(crate) struct Rss {
    pub(crate) start: u64,
    pub(crate) peak: u64,
    pub(crate) high_water: u64,
    pub(crate) after: io::Result<u64>,
}

/// Step 5: prints one line per figure, and the first few distinct failure reasons; whether
/// every client and probe succeeded.
pub(crate) fn report(options: &Options, flood: &Flood, rss: &Rss) -> bool {
    let outcomes = &flood.outcomes;
    let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
    let mb_per_s = |bytes: u64| bytes as f64 / 1e6 / flood.took.as_secs_f64();
    let up = mb_per_s(outcomes.iter().map(|o| o.sent).sum());
    let down = mb_per_s(outcomes.iter().map(|o| o.received).sum());
    println!(
        "clients {} x {} bytes to {}: {} ok, {failed} failed, in {:.2} s \
         ({:.0} MB/s: {up:.0} up + {down:.0} down)",
        options.clients,
        options.bytes,
        options.route,
        outcomes.len() - failed,
        flood.took.as_secs_f64(),
        up + down,
    );
    print_reasons("client", outcomes.iter().filter_map(|o| o.failure.as_ref()));
    let mib = |kib: &u64| format!("{:.1} MiB", *kib as f64 / 1024.0);
    let after = rss
        .after
        .as_ref()
        .map_or_else(|e| format!("unknown: {e}"), mib);
    println!(
        "server RSS: start {}, peak {} (VmHWM {}), {} s after {after}",
        mib(&rss.start),
        mib(&rss.peak),
        mib(&rss.high_water),
        options.after.as_secs_f64(),
    );
    let failures = &flood.probe_failures;
    println!(
        "GET / during the flood: {}",
        latencies(&flood.latencies, failures.len())
    );
    print_reasons("probe", failures.iter());
    failed == 0 && failures.is_empty() && rss.after.is_ok()
}

/// `N probes, p50 .., p99 .., max .., F failed`, with times in ms.
pub(crate) fn latencies(answered: &[Duration], failed: usize) -> String {
    let mut sorted = answered.to_vec();
    sorted.sort();
    let total = sorted.len() + failed;
    if sorted.is_empty() {
        return format!("{total} probes, none answered, {failed} failed");
    }
    // The nearest-rank percentile: the least time within which p% of the answers came.
    let ms = |p: usize| sorted[(sorted.len() * p).div_ceil(100) - 1].as_secs_f64() * 1e3;
    let (p50, p99, max) = (ms(50), ms(99), ms(100));
    format!("{total} probes, p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms, {failed} failed")
}

/// The first `REASONS_SHOWN` distinct reasons, in order of first appearance, with counts.
pub(crate) fn print_reasons<'a>(who: &str, reasons: impl Iterator<Item = &'a String>) {
    let mut distinct: Vec<(&String, usize)> = Vec::new();
    for reason in reasons {
        match distinct.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, count)) => *count += 1,
            None => distinct.push((reason, 1)),
        }
    }
    for (reason, count) in distinct.iter().take(REASONS_SHOWN) {
        println!("  {who} failure (x{count}): {reason}");
    }
    if let Some(more) = distinct.len().checked_sub(REASONS_SHOWN).filter(|&n| n > 0) {
        println!("  ... and {more} more distinct {who} failure reasons");
    }
}
