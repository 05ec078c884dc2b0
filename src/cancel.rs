//! A handler's two signals (Go's `r.Context().Done()` and what `RegisterOnShutdown` is
//! used for): [`Request::done`], which fires when the request is cancelled, and
//! [`Request::shutdown_notice`], which fires when a graceful shutdown begins.
//!
//! Each is a `crossbeam_channel::Receiver<()>` that never receives a message and is
//! disconnected when its event happens, so a handler can check it (`try_recv`), wait on it
//! with a timeout (`recv_timeout`), or `select!` on it beside its own channels. A request
//! that never asks costs nothing: the cancellation's channel is made on the first ask, and
//! the shutdown notice is one per server, known to each of its threads from their start.

use std::cell::RefCell;
use std::sync::Mutex;

use crossbeam_channel::{never, Receiver, Sender, TryRecvError};

use crate::request::Request;

thread_local! {
    /// The shutdown notice of the server this thread works for (a loop or pool thread).
    static NOTICE: RefCell<Option<Receiver<()>>> = const { RefCell::new(None) };
}

/// A server's shutdown notice: disconnected when a graceful shutdown begins.
#[derive(Debug)]
pub(crate) struct ShutdownNotice {
    sender: Mutex<Option<Sender<()>>>,
    receiver: Receiver<()>,
}

impl ShutdownNotice {
    pub(crate) fn new() -> ShutdownNotice {
        let (sender, receiver) = crossbeam_channel::bounded(0);
        ShutdownNotice {
            sender: Mutex::new(Some(sender)),
            receiver,
        }
    }

    /// A graceful shutdown begins: every receiver is disconnected.
    pub(crate) fn fire(&self) {
        let mut sender = self.sender.lock().unwrap_or_else(|e| e.into_inner());
        sender.take();
    }

    /// Makes this the notice `Request::shutdown_notice` gives on the calling thread, once
    /// per thread (a loop thread as it starts, a pool thread at its first request).
    pub(crate) fn serve_on_this_thread(&self) {
        NOTICE.with(|notice| {
            let mut notice = notice.borrow_mut();
            if notice.is_none() {
                *notice = Some(self.receiver.clone());
            }
        });
    }
}

/// A graceful shutdown of the server this thread works for has begun.
pub(crate) fn shutdown_begun() -> bool {
    NOTICE.with(|notice| {
        let notice = notice.borrow();
        let fired = |rx: &Receiver<()>| matches!(rx.try_recv(), Err(TryRecvError::Disconnected));
        notice.as_ref().is_some_and(fired)
    })
}

impl Request {
    /// Disconnected when the request is cancelled (Go's `r.Context().Done()`): its client
    /// went away (a reset, or an end of file after it sent the whole request), or its
    /// connection closed for a deadline. Only a [blocking](crate::blocking) request can be
    /// cancelled while its handler runs; for an inline one this never fires.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use nethttp::{Request, ResponseWriter};
    ///
    /// fn long_poll(w: &mut ResponseWriter, r: &mut Request) {
    ///     let (done, shutdown) = (r.done(), r.shutdown_notice());
    ///     crossbeam_channel::select! {
    ///         recv(done) -> _ => return,     // the client left: nobody to answer
    ///         recv(shutdown) -> _ => return, // the server is going away
    ///         default(Duration::from_secs(30)) => {}
    ///     }
    ///     let _ = std::io::Write::write_all(w, b"nothing new");
    /// }
    /// ```
    pub fn done(&self) -> Receiver<()> {
        match &self.gone {
            Some(gone) => gone.receiver(),
            None => never(), // the signal of what cannot happen
        }
    }

    /// True once a graceful shutdown of the server has begun (its
    /// [`shutdown_notice`](Request::shutdown_notice) has fired): the server is draining.
    pub fn is_draining(&self) -> bool {
        let notice = self.shutdown_notice();
        matches!(
            notice.try_recv(),
            Err(crossbeam_channel::TryRecvError::Disconnected)
        )
    }

    /// True once the request is cancelled (see [`done`](Request::done)).
    pub fn is_cancelled(&self) -> bool {
        self.gone.as_ref().is_some_and(|gone| gone.is_set())
    }

    /// Disconnected when a graceful shutdown of the server begins, so that long polls,
    /// event streams and the like can end at once (what Go's `RegisterOnShutdown` is used
    /// for); ordinary requests are not cancelled and finish. Never fires outside a server
    /// (in [`httptest`](crate::httptest)).
    pub fn shutdown_notice(&self) -> Receiver<()> {
        NOTICE
            .with(|notice| notice.borrow().clone())
            .unwrap_or_else(never)
    }
}
