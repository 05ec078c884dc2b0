//! The blocking-handler pool: worker threads fed through a bounded crossbeam channel.
//!
//! A [blocking](crate::blocking) handler's request is packaged as a job and sent here by
//! the event loop, which goes straight back to serving other connections. Threads are started
//! on demand, up to the pool's size, and sleep on the channel between jobs; a thread that
//! finds no job for [`IDLE_EXIT`] exits, so a server whose blocking traffic has stopped gives
//! back the threads (and their memory) it grew for it. When every thread is busy, jobs wait
//! in the channel, which holds as many jobs as there are threads; when it is full too,
//! `submit` gives the job back and the loop answers 503.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};

/// How long a pool thread waits for a job before it exits.
const IDLE_EXIT: Duration = Duration::from_secs(10);

/// Work for a pool thread.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// A pool of threads for blocking handlers.
pub(crate) struct Workers {
    tx: Sender<Job>,
    rx: Receiver<Job>,
    /// Most threads to run at once.
    size: usize,
    /// How long an idle thread lingers.
    idle_exit: Duration,
    counts: Arc<Counts>,
}

/// The two counts `submit` and a retiring thread weigh against each other. Both sides
/// change one and then read the other, all sequentially consistent, so at least one of
/// them sees the other's change (see [`Counts::retire`]).
#[derive(Default)]
struct Counts {
    /// Threads running.
    started: AtomicUsize,
    /// Jobs submitted and not yet finished: queued or running.
    pending: AtomicUsize,
}

impl Workers {
    /// Threads running, and jobs submitted and not finished (running or queued).
    pub(crate) fn load(&self) -> (usize, usize) {
        let started = self.counts.started.load(SeqCst);
        (started, self.counts.pending.load(SeqCst))
    }

    pub(crate) fn new(size: usize) -> Workers {
        Workers::with_idle_exit(size, IDLE_EXIT)
    }

    fn with_idle_exit(size: usize, idle_exit: Duration) -> Workers {
        let (tx, rx) = crossbeam_channel::bounded(size);
        Workers {
            tx,
            rx,
            size,
            idle_exit,
            counts: Arc::default(),
        }
    }

    /// Queues `job`, starting a thread if there are more jobs than threads and the pool is
    /// not at its size. Gives the job back if the queue is full.
    ///
    /// Jobs are counted against threads rather than asking whether a thread is idle: a
    /// thread idle now may be about to take an earlier job, and this one would then wait
    /// behind a handler that may block for seconds.
    pub(crate) fn submit(&self, job: Job) -> Result<(), Job> {
        let pending = self.counts.pending.fetch_add(1, SeqCst) + 1;
        if pending > self.counts.started.load(SeqCst) {
            self.grow();
        }
        self.tx.try_send(job).map_err(|e| {
            self.counts.pending.fetch_sub(1, SeqCst);
            match e {
                TrySendError::Full(job) | TrySendError::Disconnected(job) => job,
            }
        })
    }

    fn grow(&self) {
        let (size, started) = (self.size, &self.counts.started);
        let reserved = started.fetch_update(SeqCst, SeqCst, |n| (n < size).then_some(n + 1));
        if reserved.is_err() {
            return; // at the pool's size
        }
        let (rx, counts, idle_exit) = (self.rx.clone(), Arc::clone(&self.counts), self.idle_exit);
        let spawned = thread::Builder::new()
            .name("nethttp-blocking".into())
            .spawn(move || counts.work(&rx, idle_exit));
        if let Err(e) = spawned {
            self.counts.started.fetch_sub(1, SeqCst);
            log::error!("starting a blocking-handler thread failed: {e}");
        }
    }

    /// Threads running now.
    #[cfg(test)]
    fn threads(&self) -> usize {
        self.counts.started.load(SeqCst)
    }
}

impl Counts {
    /// A pool thread's life: run jobs until the server is gone or none comes for a while.
    fn work(&self, rx: &Receiver<Job>, idle_exit: Duration) {
        loop {
            match rx.recv_timeout(idle_exit) {
                Ok(job) => {
                    job();
                    self.pending.fetch_sub(1, SeqCst);
                }
                Err(RecvTimeoutError::Timeout) if self.retire(rx) => return,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return, // the server is gone
            }
        }
    }

    /// Takes an idle thread off the count, unless a job may be counting on it.
    ///
    /// A `submit` that read the count before the decrement saw this thread and started
    /// none; its job is then already in `pending` (or the queue), because `submit` raises
    /// `pending` before reading `started`. So after the decrement, a queued job or more
    /// jobs than the threads left means this thread must stay. Otherwise a later `submit`
    /// reads the lowered count and starts a thread itself.
    fn retire(&self, rx: &Receiver<Job>) -> bool {
        let left = self.started.fetch_sub(1, SeqCst) - 1;
        if !rx.is_empty() || self.pending.load(SeqCst) > left {
            self.started.fetch_add(1, SeqCst);
            return false;
        }
        true
    }
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers")
            .field("size", &self.size)
            .field("started", &self.counts.started.load(SeqCst))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn idle_threads_exit_and_the_pool_grows_again() {
        let workers = Workers::with_idle_exit(4, Duration::from_millis(50));
        let (done_tx, done_rx) = crossbeam_channel::unbounded();
        for _ in 0..4 {
            let done = done_tx.clone();
            let job: Job = Box::new(move || {
                thread::sleep(Duration::from_millis(20));
                done.send(()).unwrap();
            });
            assert!(workers.submit(job).is_ok());
        }
        for _ in 0..4 {
            done_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        }
        assert_eq!(workers.threads(), 4, "one thread per concurrent job");
        wait_for("idle threads to exit", || workers.threads() == 0);
        let done = done_tx.clone();
        assert!(workers
            .submit(Box::new(move || done.send(()).unwrap()))
            .is_ok());
        done_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(workers.threads(), 1);
    }

    #[test]
    fn no_job_is_stranded_while_threads_retire() {
        // Threads retire after 200 µs idle, and each job is submitted after a pause around
        // that long, so submits keep meeting a thread on its way out. A job counted on a
        // thread that then leaves would wait forever.
        let workers = Workers::with_idle_exit(4, Duration::from_micros(200));
        let (done_tx, done_rx) = crossbeam_channel::unbounded();
        for i in 0..3000u64 {
            let done = done_tx.clone();
            assert!(workers
                .submit(Box::new(move || done.send(i).unwrap()))
                .is_ok());
            let ran = done_rx.recv_timeout(Duration::from_secs(2));
            assert_eq!(ran, Ok(i), "job {i} ran");
            thread::sleep(Duration::from_micros(150 + i % 100));
        }
    }
}
