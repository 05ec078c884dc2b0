//! [`Poke`]: how a blocking handler's thread wakes its connection on the loop.
//!
//! Which machines a loop runs is `accept.rs`'s business (its `Slot`). The request's body
//! reader and the response writer only need to tell one connection "your channels changed,
//! look again", so a `Poke` holds its loop as a [`Wake`] trait object, which `accept.rs`
//! implements for its loops' `Remote`.

use std::fmt;
use std::sync::Arc;

use poller::Token;

/// A loop, as another thread sees it: it can be asked to look at one of its connections.
pub(crate) trait Wake: Send + Sync {
    /// Asks the loop to look at the connection at `token` again.
    fn wake(&self, token: Token);
}

/// Wakes one connection's loop from a pool thread: "your channels changed, look again".
#[derive(Clone)]
pub(crate) struct Poke {
    waker: Arc<dyn Wake>,
    token: Token,
}

impl Poke {
    pub(crate) fn new(waker: Arc<dyn Wake>, token: Token) -> Poke {
        Poke { waker, token }
    }

    pub(crate) fn poke(&self) {
        self.waker.wake(self.token);
    }
}

impl fmt::Debug for Poke {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poke").field("token", &self.token).finish()
    }
}
