//! The examples' logger: a few lines instead of a dependency. Records go to stderr as
//! `LEVEL [thread] message`; the level comes from `RUST_LOG` (`error`, `warn`, `info`,
//! `debug`, `trace`; default `warn`), so the server's warnings and panics are seen, and at
//! `trace` the event loop's every step (see `cargo run --example trace`). Access lines
//! (`nethttp::access_log`), when asked for, go to stdout as they are. A service would use a
//! logger crate (`env_logger`, say) the same way: `nethttp` only writes through `log`.
#![allow(dead_code)] // each example uses the part it needs

use log::{LevelFilter, Log, Metadata, Record};

struct Logger {
    /// The level for diagnostics.
    level: LevelFilter,
    /// Access lines are printed on stdout.
    access: bool,
}

impl Logger {
    fn is_access(metadata: &Metadata<'_>) -> bool {
        metadata.target() == nethttp::ACCESS_LOG_TARGET
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        if Logger::is_access(metadata) {
            return self.access || metadata.level() <= self.level;
        }
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        if self.access && Logger::is_access(record.metadata()) {
            println!("{}", record.args());
            return;
        }
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("?");
        eprintln!("{:<5} [{name}] {}", record.level(), record.args());
    }

    fn flush(&self) {}
}

/// Installs the logger at `RUST_LOG`'s level, or `default` if it is unset or unknown.
pub fn init(default: LevelFilter) {
    init_with_access(default, false);
}

/// The same, with access lines on stdout if `access`.
pub fn init_with_access(default: LevelFilter, access: bool) {
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(default);
    let logger = Box::leak(Box::new(Logger { level, access }));
    if log::set_logger(logger).is_ok() {
        let access_level = if access {
            LevelFilter::Info
        } else {
            LevelFilter::Off
        };
        log::set_max_level(level.max(access_level));
    }
}
