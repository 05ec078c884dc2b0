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
    /// Threads waiting for a job.
    idle: AtomicUsize,
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

    /// Queues `job`, starting a thread if none is idle and the pool is not at its size.
    /// Gives the job back if the queue is full.
    pub(crate) fn submit(&self, job: Job) -> Result<(), Job> {
        if self.counts.idle.load(Ordering::Acquire) == 0 {
            self.grow();
        }
        self.tx.try_send(job).map_err(|e| match e {
            TrySendError::Full(job) | TrySendError::Disconnected(job) => job,
        })
    }

    fn grow(&self) {
        let started = self.counts.started.load(Ordering::Acquire);
        if started >= self.size {
            return;
        }
        self.counts.started.fetch_add(1, Ordering::AcqRel);
        let rx = self.rx.clone();
        let counts = Arc::clone(&self.counts);
        let spawned = thread::Builder::new()
            .name(format!("nethttp-blocking-{started}"))
            .spawn(move || {
                loop {
                    counts.idle.fetch_add(1, Ordering::AcqRel);
                    let job = rx.recv();
                    counts.idle.fetch_sub(1, Ordering::AcqRel);
                    match job {
                        Ok(job) => job(),
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
