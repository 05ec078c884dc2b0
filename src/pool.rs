//! The blocking-handler pool: worker threads fed through a bounded crossbeam channel.
//!
//! A [blocking](crate::blocking) handler's request is packaged as a job and sent here by
//! the event loop, which goes straight back to serving other connections. Threads are started
//! on demand, up to the pool's size, and then stay, sleeping on the channel. When every thread
//! is busy, jobs wait in the channel, which holds as many jobs as there are threads; when it
//! is full too, `submit` gives the job back and the loop answers 503.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use crossbeam_channel::{Receiver, Sender, TrySendError};

/// Work for a pool thread.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// A pool of threads for blocking handlers.
pub(crate) struct Workers {
    tx: Sender<Job>,
    rx: Receiver<Job>,
    /// Most threads to start.
    size: usize,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    /// Threads started.
    started: AtomicUsize,
    /// Jobs submitted and not yet finished: queued or running.
    pending: AtomicUsize,
}

impl Workers {
    pub(crate) fn new(size: usize) -> Workers {
        let (tx, rx) = crossbeam_channel::bounded(size);
        Workers {
            tx,
            rx,
            size,
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
        let pending = self.counts.pending.fetch_add(1, Ordering::AcqRel) + 1;
        if pending > self.counts.started.load(Ordering::Acquire) {
            self.grow();
        }
        self.tx.try_send(job).map_err(|e| {
            self.counts.pending.fetch_sub(1, Ordering::AcqRel);
            match e {
                TrySendError::Full(job) | TrySendError::Disconnected(job) => job,
            }
        })
    }

    fn grow(&self) {
        let (size, started) = (self.size, &self.counts.started);
        let reserved = started.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < size).then_some(n + 1)
        });
        let Ok(started) = reserved else {
            return; // at the pool's size
        };
        let rx = self.rx.clone();
        let counts = Arc::clone(&self.counts);
        let spawned = thread::Builder::new()
            .name(format!("nethttp-blocking-{started}"))
            .spawn(move || {
                loop {
                    match rx.recv() {
                        Ok(job) => {
                            job();
                            counts.pending.fetch_sub(1, Ordering::AcqRel);
                        }
                        Err(_) => return, // the server is gone
                    }
                }
            });
        if let Err(e) = spawned {
            self.counts.started.fetch_sub(1, Ordering::AcqRel);
            log::error!("starting a blocking-handler thread failed: {e}");
        }
    }
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers")
            .field("size", &self.size)
            .field("started", &self.counts.started.load(Ordering::Relaxed))
            .finish()
    }
}
