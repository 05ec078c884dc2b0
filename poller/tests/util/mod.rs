//! Helpers shared by the event loop's integration tests: a time limit on each test body.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::Duration;

/// How long any one test may take before it counts as stuck.
pub const LIMIT: Duration = Duration::from_secs(5);

/// Runs `f` on its own thread and returns its result, failing the test if it takes longer
/// than `limit` (a loop blocked in `poll` for good) and re-raising its panic if it panics.
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let body = thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => {
            body.join().expect("test body");
            value
        }
        Err(RecvTimeoutError::Disconnected) => match body.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the body sends before it returns"),
        },
        Err(RecvTimeoutError::Timeout) => panic!("test body still running after {limit:?}"),
    }
}
