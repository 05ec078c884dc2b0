//! Resident memory: the process's RSS, and the lock that lets a test measuring it run alone.

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The tests that measure the process's resident memory run alone (they take this lock to
/// write), so no other test's buffers, threads or panic backtraces show up in their
/// figures; the others share it (and their timings are spared the measured load). Test
/// binaries run one after another, so the lock orders the tests of one binary.
static MEMORY: RwLock<()> = RwLock::new(());

/// Holds the memory lock to write: no other test of this binary runs meanwhile.
pub fn alone() -> RwLockWriteGuard<'static, ()> {
    MEMORY.write().unwrap_or_else(|e| e.into_inner())
}

/// Holds the memory lock to read: runs beside any test but one that measures memory.
pub fn shared() -> RwLockReadGuard<'static, ()> {
    MEMORY.read().unwrap_or_else(|e| e.into_inner())
}

/// The resident set size of this process (server and client both), in bytes.
pub fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS line");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("VmRSS value");
    kib * 1024
}
