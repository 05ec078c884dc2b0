//! Log records kept for a test to read: the library logs through `log`, and a test that
//! checks what it says installs this recorder (once per test binary).

use std::sync::Mutex;

/// Every record at or above the installed level, as (level, message).
static RECORDS: Mutex<Vec<(log::Level, String)>> = Mutex::new(Vec::new());

struct Recorder;

impl log::Log for Recorder {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }
    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            let message = record.args().to_string();
            RECORDS.lock().unwrap().push((record.level(), message));
        }
    }
    fn flush(&self) {}
}

/// Records what is logged at `level` or above from now on.
pub fn record(level: log::LevelFilter) {
    log::set_logger(&Recorder).unwrap();
    log::set_max_level(level);
}

/// The messages logged at exactly `level` so far.
pub fn messages(level: log::Level) -> Vec<String> {
    let records = RECORDS.lock().unwrap();
    records
        .iter()
        .filter(|(l, _)| *l == level)
        .map(|(_, m)| m.clone())
        .collect()
}
