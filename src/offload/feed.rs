//! The loop's end of a blocking handler's request body (`offload/stream.rs` drives it):
//! body bytes leave the connection's input as pieces through a bounded channel to the
//! handler's reader (`Incoming`), pieces the channel has no room for wait in order (and
//! the socket is not read meanwhile), and a body the handler stopped reading is drained
//! and counted instead. Where no framing comes next, the connection reads the socket
//! straight into the piece being gathered ([`BodyFeed::room`]) instead of its input.

use std::collections::VecDeque;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crossbeam_channel::{Sender, TrySendError};
use http::HeaderMap;

use super::channel::{CloseAfter, Feed, Incoming, MAX_DRAIN};
use super::poke::Poke;
use super::wait::Waiter;
use crate::buf::{InBuf, READ_BUF};
use crate::error::Reject;
use crate::mem::Buffer;
use crate::reader::{BodyReader, BodyStep};
use crate::request::Request;

/// The most body bytes one piece to a blocking handler gathers (eight read buffers): reads
/// that follow each other while the socket has more go into one piece, so a fast upload
/// wakes its handler once per 64 KiB, not per 8 KiB read. Each wake-up is two context
/// switches where the loop and the handler share a core; perf put them at half the
/// server's CPU on a 1 GiB upload with 8 KiB pieces, and a third with 32 KiB ones (1,310,
/// about 650 and about 480 ms per GiB with 8, 32 and 64 KiB pieces, `perf stat`).
const BODY_PIECE: usize = 8 * READ_BUF;

/// Body pieces in flight to the handler. Two of `BODY_PIECE` hold what four pieces of half
/// the size did: the handler reads one while the loop gathers the next, and the wake-ups
/// halve, not the memory. The channel has one slot more, which data never takes: the
/// body's last word (its end, or why it is malformed) always fits.
const BODY_CHANNEL_PIECES: usize = 2;

/// The loop's end of a streamed request body.
#[derive(Debug)]
pub(super) struct BodyFeed {
    pub(super) body: BodyReader,
    pub(super) tx: Sender<Feed>,
    /// Pieces the channel had no room for, in order; the socket is not read while any wait.
    pub(super) pending: VecDeque<Feed>,
    /// The handler has read (so `100 Continue` may go out, and the body may be read).
    pub(super) asked: Arc<AtomicBool>,
    /// The client waits for `100 Continue` before sending the body.
    pub(super) continue_due: bool,
    /// The handler dropped its reader: the rest is drained and counted here.
    pub(super) discarded: Option<u64>,
    /// Body bytes read but not sent yet: reads are gathered into one piece while the
    /// socket has more (see `BODY_PIECE`).
    gathering: Buffer,
    /// Bytes a read put straight into `gathering` (see `room`) that the body's reader has
    /// not counted yet.
    fresh: usize,
    /// Where the handler waits for the next piece: woken after each one sent.
    pub(super) arrivals: Arc<Waiter>,
}

impl BodyFeed {
    /// What the body holds for its handler: the pieces in its channel, each counted at
    /// the most it can be, the pieces the channel had no room for, and the piece being
    /// gathered.
    pub(super) fn footprint(&self) -> usize {
        let waiting: usize = self.pending.iter().map(Feed::len).sum();
        self.tx.len() * BODY_PIECE + waiting + self.gathering.capacity()
    }

    /// The loop's end of `body`, streaming to `request`'s reader, which pokes the
    /// connection through `poke`. `continue_due`: the client waits for `100 Continue`,
    /// which goes out at the handler's first read; until then the connection is to close
    /// after the response.
    pub(super) fn new(
        body: BodyReader,
        request: &mut Request,
        poke: &Poke,
        close_after: &CloseAfter,
        continue_due: bool,
    ) -> BodyFeed {
        let (tx, rx) = crossbeam_channel::bounded(BODY_CHANNEL_PIECES + 1);
        let asked = Arc::new(AtomicBool::new(false));
        let arrivals = Arc::new(Waiter::default());
        request.body.stream = Some(Box::new(Incoming {
            rx,
            poke: poke.clone(),
            asked: Arc::clone(&asked),
            close_after: close_after.clone(),
            left: body.left(),
            arrivals: Arc::clone(&arrivals),
        }));
        if continue_due {
            close_after.set(); // until the handler asks for the body
        }
        BodyFeed {
            body,
            tx,
            pending: VecDeque::new(),
            asked,
            continue_due,
            discarded: None,
            gathering: Buffer::default(),
            fresh: 0,
            arrivals,
        }
    }

    /// Sends what the input holds (or drains it, if the handler stopped reading). While
    /// `more_coming` (the socket may hold more of the body), reads gather into one piece
    /// of up to `BODY_PIECE` bytes; it goes once it is full, the body is done, or the
    /// socket is drained, so gathering never waits on the client. Returns whether anything
    /// moved; an error means the body is malformed or too long to drain, and the
    /// connection must close.
    pub(super) fn feed(&mut self, input: &mut InBuf, more_coming: bool) -> Result<bool, Reject> {
        let mut moved = self.retry_pending();
        if self.fresh > 0 {
            // Read straight into the piece (see `room`): counted as the reader would have.
            let fresh = std::mem::take(&mut self.fresh);
            let end = match self.body.took(fresh) {
                BodyStep::Refused(reject) => return Err(reject),
                BodyStep::More { .. } => None,
                BodyStep::Done { trailers, .. } => Some(trailers),
            };
            moved = true;
            self.settle(end, more_coming)?;
        }
        while self.pending.is_empty() && !self.body.is_done() && !input.is_empty() {
            self.make_piece();
            let (consumed, end) = match self.body.read(input.data(), &mut self.gathering) {
                BodyStep::Refused(reject) => return Err(reject),
                BodyStep::More { consumed } => (consumed, None),
                BodyStep::Done { consumed, trailers } => (consumed, Some(trailers)),
            };
            input.consume(consumed);
            moved = true;
            self.settle(end, more_coming)?;
        }
        if !more_coming && self.pending.is_empty() {
            moved |= !self.gathering.is_empty();
            self.send_gathered()?;
        }
        Ok(moved)
    }

    /// Room for body bytes read straight from the socket into the piece being gathered,
    /// saving a copy and most reads (a read buffer's 8 KiB at a time, else): where the body
    /// takes bytes as they come (no framing before the next ones, see
    /// `BodyReader::raw_left`), nothing waits for the channel, and the piece is a mapping
    /// (`Buffer::room`). At most what comes before the next framing, so the socket's bytes
    /// past the body stay unread. The connection asks only when it may read at all (see
    /// `Stream::wants_input`); [`arrived`](Self::arrived) reports what a read put there.
    pub(super) fn room(&mut self) -> Option<&mut [u8]> {
        let raw = self.body.raw_left();
        let blocked = !self.pending.is_empty() || self.discarded.is_some();
        if raw == 0 || blocked || self.fresh > 0 {
            return None;
        }
        self.make_piece();
        let room = self
            .gathering
            .room(usize::try_from(raw).unwrap_or(usize::MAX));
        (!room.is_empty()).then_some(room)
    }

    /// A read put `n` bytes into [`room`](Self::room); `feed` counts and sends them.
    pub(super) fn arrived(&mut self, n: usize) {
        self.gathering.filled(n);
        self.fresh += n;
    }

    /// Gives the piece being gathered room for a whole piece, as the budget counts it (see
    /// `footprint`), or for the rest of a shorter body. A piece this large is a mapping of
    /// its own (`mem.rs`), freed on the handler's thread into mappings kept for reuse; a
    /// small one, for a short body, stays on the loop's heap.
    fn make_piece(&mut self) {
        if self.gathering.capacity() == 0 {
            let left = self.body.left().unwrap_or(u64::MAX);
            let size = BODY_PIECE.min(usize::try_from(left).unwrap_or(BODY_PIECE));
            self.gathering = Buffer::with_capacity(size);
        }
    }

    /// After body bytes joined the piece: sends it once full, at the body's `end` (with
    /// the end mark), or when no more is coming for now.
    fn settle(&mut self, end: Option<HeaderMap>, more_coming: bool) -> Result<(), Reject> {
        let full = self.gathering.len() + READ_BUF > BODY_PIECE;
        if full || end.is_some() || !more_coming {
            self.send_gathered()?;
        }
        if let Some(trailers) = end {
            self.send(Feed::End(
                (!trailers.is_empty()).then(|| Box::new(trailers)),
            ));
        }
        Ok(())
    }

    /// Sends the gathered piece, if any (or counts it as drained, if the handler stopped
    /// reading).
    fn send_gathered(&mut self) -> Result<(), Reject> {
        if self.gathering.is_empty() {
            return Ok(());
        }
        let piece = std::mem::take(&mut self.gathering);
        if let Some(drained) = &mut self.discarded {
            *drained += piece.len() as u64;
            if *drained > MAX_DRAIN {
                return Err(Reject::BodyTooLarge);
            }
        } else {
            self.send(Feed::Data(piece));
        }
        Ok(())
    }

    /// The body is malformed: the handler's next read fails, in place of the pieces it has
    /// not been sent yet (the slot data leaves free takes the news).
    pub(super) fn fail(&mut self, reject: Reject) {
        self.pending.clear();
        let _ = self.tx.try_send(Feed::Malformed(reject));
        self.arrivals.wake();
    }

    /// The handler has returned with the body unread, which its thread has judged small
    /// enough to drain (see `Body::judge_unread`), or its reader went elsewhere: drain the rest
    /// if it is small (Go's rule), else give up on the connection. Returns false to close.
    pub(super) fn abandon(&mut self) -> bool {
        self.pending.clear();
        self.discarded.get_or_insert(0);
        let too_long = self.body.left().is_some_and(|n| n > MAX_DRAIN);
        !self.continue_due && !too_long
    }

    /// Retries the pieces the channel had no room for, in order.
    fn retry_pending(&mut self) -> bool {
        let mut moved = false;
        while let Some(feed) = self.pending.pop_front() {
            if matches!(feed, Feed::Data(_)) && self.tx.len() >= BODY_CHANNEL_PIECES {
                self.pending.push_front(feed); // the last slot is for the body's end
                break;
            }
            match self.tx.try_send(feed) {
                Ok(()) => {
                    moved = true;
                    self.arrivals.wake();
                }
                Err(TrySendError::Full(feed)) => {
                    self.pending.push_front(feed);
                    break;
                }
                Err(TrySendError::Disconnected(_)) => {
                    self.discarded = Some(0);
                    self.pending.clear();
                }
            }
        }
        moved
    }

    /// Sends one piece, queueing it behind earlier ones if the channel is full. A gone
    /// reader means the handler returned: from then on the body is drained.
    fn send(&mut self, feed: Feed) {
        if self.discarded.is_none() {
            self.pending.push_back(feed);
            self.retry_pending();
        }
    }

    /// Drops the loop's end of the body, then wakes the handler if it waits for a piece:
    /// it finds the channel closed (woken before, it would find it open and sleep again).
    pub(super) fn close(self) {
        let arrivals = Arc::clone(&self.arrivals);
        drop(self);
        arrivals.wake();
    }

    /// The body has fully arrived and been handed over (or drained).
    pub(super) fn finished(&self) -> bool {
        self.pending.is_empty() && self.body.is_done()
    }
}
