//! The examples' logger: ten lines instead of a dependency. Records go to stderr as
//! `LEVEL [thread] message`; the level comes from `RUST_LOG` (`error`, `warn`, `info`,
//! `debug`, `trace`; default `warn`), so the server's warnings and panics are seen, and at
//! `trace` the event loop's every step (see `cargo run --example trace`). A service would
//! use a logger crate (`env_logger`, say) the same way: `nethttp` only writes through `log`.

use log::{LevelFilter, Log, Metadata, Record};

struct Stderr;

impl Log for Stderr {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("?");
            eprintln!("{:<5} [{name}] {}", record.level(), record.args());
        }
    }

    fn flush(&self) {}
}

/// Installs the logger at `RUST_LOG`'s level, or `default` if it is unset or unknown.
pub fn init(default: LevelFilter) {
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(default);
    if log::set_logger(&Stderr).is_ok() {
        log::set_max_level(level);
    }
}
