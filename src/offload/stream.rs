//! The loop's side of a blocking handler: feeding its body, forwarding its response.
//!
//! [`Stream::submit`] hands the request to the pool with two bounded channels: body pieces
//! go to the handler through one, encoded response bytes come back through the other. The
//! handler pokes the connection (a `Msg::Poke` through the loop's inbox) whenever it takes a
//! piece or sends one, and [`Stream::pump`] moves what it can:
//!
//! * **Body.** While the handler has not taken the last piece, the connection does not read
//!   the socket: TCP's window closes and the client waits. `100 Continue` goes out at the
//!   handler's first read. The body's end carries a chunked body's trailers. A body the
//!   handler leaves unread is drained if it ends within `MAX_DRAIN` bytes (the connection
//!   stays open), else the connection closes (Go's rule; the request side decides, see
//!   [`Body::judge_unread`](crate::request::Body::judge_unread), so the response can say so).
//! * **Malformed body.** The handler's next read fails; the client gets the `400` an inline
//!   handler's client would, unless the handler's response has begun, which can then only
//!   be cut off.
//! * **Response.** Bytes move from the channel to the output buffer while it is below its
//!   high-water mark, so a slow client fills the channel and blocks the handler's writes.
//!   Whenever nothing of the answer waits here, a plain TCP socket is lent to the handler's
//!   thread, which writes to it itself until it is full (`offload/turn.rs`).
//!   A handler may hand over the rest of its body as a file (the file server does): the
//!   loop then sends it from the file as the client takes it, and the handler's thread is
//!   free at once.
//! * **Client gone.** A reset, or an end of file well after the request was handed over,
//!   closes the connection at once: the handler's next write fails, and a request still in
//!   the pool's queue is dropped unrun (see [`Stream::client_left`]).
//!
//! Whether the connection outlives the response is the request side's call, made through
//! the [`CloseAfter`] signal the body, the writer and this side share: the loop sets it
//! when a shutdown begins, and withdraws the close an unsent `100 Continue` calls for once
//! it sends one.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use poller::{Readiness, Token};

use super::channel::{
    ClientGone, CloseAfter, Deadline, Deadlines, FileBody, Out, Outgoing, CHANNEL_PIECES,
    STREAM_PIECE,
};
use super::exchange::Exchange;
use super::feed::BodyFeed;
use super::file;
use super::turn::Turn;
use crate::buf::{InBuf, OUT_HIGH_WATER};
use crate::error::Reject;
use crate::local::Local;
use crate::mem::Buffer;
use crate::offload::poke::Poke;
use crate::parse::Head;
use crate::reader::{self, Begin};
use crate::transport::Transport;
use crate::upgrade::Takeover;

/// An end of file this soon after a blocking request was handed over came with it: a
/// client that half-closes after its last request (the end of a pipeline, `nc -N`) and
/// waits for the answers. One that comes later, while the client waits, is the client
/// giving up (a timeout, a closed tab): nothing can tell the two apart but the time.
const HALF_CLOSE_GRACE: Duration = Duration::from_millis(100);

/// What one response piece in a blocking handler's channel is counted for: at most
/// `STREAM_PIECE` bytes of body, and a head.
const RESPONSE_PIECE_ROOM: usize = STREAM_PIECE + 1024;

/// Emptied response pieces the connection keeps for its handler's next ones: a piece the
/// size of `STREAM_PIECE` is a mapping of its own (`mem.rs`), and one made, faulted in and
/// unmapped per piece was a third of the server's CPU time (perf) on `GET /bytes/1048576`.
/// As many as the channel holds, since the loop empties a channel's worth at once (with
/// half as many, that run cost 1,120 ms per GiB, against 800).
const SPARE_PIECES: usize = CHANNEL_PIECES;

/// A request being served by a blocking handler.
#[derive(Debug)]
pub(crate) struct Stream {
    /// The body still on its way to the handler; `None` once it is complete.
    body: Option<BodyFeed>,
    /// Encoded response bytes from the handler.
    rx: Receiver<Out>,
    /// Response pieces written or copied out, back to the handler's writer to be filled
    /// again.
    spare: Sender<Buffer>,
    /// Whether the handler's answer is complete.
    answer: Answer,
    /// Response bytes have been taken from `rx`: the head is on its way, and a malformed
    /// body can no longer be answered with a `400`.
    responded: bool,
    /// Shared with the body and the response writer.
    close_after: CloseAfter,
    /// Shared with the pool thread and the response writer; set when this `Stream` goes
    /// (see its `Drop`) or the client is found gone.
    gone: ClientGone,
    /// When the request was handed over: an end of file within [`HALF_CLOSE_GRACE`] of
    /// it came with the request.
    dispatched: Instant,
    /// The rest of the body, which the loop sends from a file once the bytes before it
    /// are written; the handler may be long gone.
    file: Option<FileBody>,
    /// The request is `HEAD`: its answer is whole once the head is out.
    head_only: bool,
    /// The request's own deadlines, as its handler set them.
    deadlines: Arc<Deadlines>,
    /// The protocol the handler handed the connection to (`Out::Upgrade`), once the
    /// bytes before it are in the output.
    upgrade: Option<Box<Takeover>>,
    /// Whether the writer may write to the socket itself (see `offload/turn.rs`).
    turn: Arc<Turn>,
    /// Messages taken from `rx`.
    taken: u64,
}

/// Where the handler's answer stands, as the loop has taken it from the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// More of it is to come (its end mark has not arrived).
    Coming,
    /// It is complete, or was cut off: whether the connection closes after it.
    Complete { close: bool },
}

impl Answer {
    /// The connection closes after this answer, whatever it said.
    fn close(&mut self) {
        *self = Answer::Complete { close: true };
    }
}

/// However the request ends (answered, or its connection closed for any reason), its
/// handler has no one left to answer: a handler still running, or still queued, hears it
/// at its next write, or is dropped before it starts.
impl Drop for Stream {
    fn drop(&mut self) {
        self.gone.set();
        self.turn.revoke();
        if let Some(feed) = self.body.take() {
            feed.close(); // a handler waiting for its body hears that none is coming
        }
    }
}

impl Stream {
    /// Every byte of the request body has arrived (some may still wait for the handler).
    pub(crate) fn body_received(&self) -> bool {
        self.body.as_ref().map_or(true, |feed| feed.body.is_done())
    }

    /// Whether an event says the client has gone while its handler is at work: the
    /// connection was reset, or the client closed its sending side well after handing over
    /// the whole request (as Go cancels a request's context, and nginx ends a request
    /// whose client closed the connection). The connection then closes at once; the
    /// handler learns at its next write, or is dropped unrun.
    pub(crate) fn client_left(&self, readiness: Readiness, now: Instant) -> bool {
        let waiting = self.answer == Answer::Coming && self.body_received();
        let gave_up = now.duration_since(self.dispatched) >= HALF_CLOSE_GRACE;
        readiness.hangup || (readiness.read_closed && waiting && gave_up)
    }

    /// The request's own read and write deadlines (see `ResponseWriter::set_read_deadline`).
    pub(crate) fn deadlines(&self) -> (Deadline, Deadline) {
        (self.deadlines.read(), self.deadlines.write())
    }

    /// A file body waits to be sent: the client is taking the response.
    pub(crate) fn sends_file(&self) -> bool {
        self.file.is_some()
    }

    /// What the request holds for its handler, besides the connection's buffers: the
    /// pieces waiting in its channels, each counted at the most it can be (a response
    /// piece and its head; a whole body piece), and the body pieces the
    /// channel had no room for, and the piece being gathered. A handler that sleeps, or
    /// waits on a slow query, holds nothing; one that streams to a slow client, its full
    /// channel (two pieces of about 65 KiB) and the emptied pieces kept for it
    /// (`SPARE_PIECES`). A file body is read a piece at a time into the loop's scratch
    /// buffer: nothing either.
    pub(crate) fn footprint(&self) -> usize {
        let response = (self.rx.len() + self.spare.len()) * RESPONSE_PIECE_ROOM;
        let body = self.body.as_ref().map_or(0, |feed| feed.footprint());
        response + body
    }

    /// Nothing of the handler's answer has reached the connection yet.
    pub(crate) fn unanswered(&self) -> bool {
        !self.responded && self.rx.is_empty()
    }

    /// Room for body bytes read straight from the socket, where the body takes them as
    /// they come (see `BodyFeed::room`); [`body_arrived`](Self::body_arrived) reports a read.
    pub(crate) fn body_room(&mut self) -> Option<&mut [u8]> {
        self.body.as_mut()?.room()
    }

    /// A read put `n` bytes into [`body_room`](Self::body_room).
    pub(crate) fn body_arrived(&mut self, n: usize) {
        if let Some(feed) = &mut self.body {
            feed.arrived(n);
        }
    }

    /// The connection may read the socket: body bytes are wanted and there is room for them.
    pub(crate) fn wants_input(&self) -> bool {
        match &self.body {
            Some(feed) => {
                let waiting_for_continue = feed.continue_due && !feed.asked.load(Ordering::Acquire);
                feed.pending.is_empty() && !waiting_for_continue
            }
            None => false,
        }
    }
}

/// What a connection lends [`Stream::pump`] for one round.
pub(crate) struct Pump<'a> {
    /// The connection's read buffer, where body bytes wait.
    pub(crate) input: &'a mut InBuf,
    /// The connection's output, taken for the round; its first `written` bytes are
    /// already on the socket.
    pub(crate) out: &'a mut Buffer,
    pub(crate) written: usize,
    pub(crate) socket: &'a mut Transport,
    /// The loop's buffer for file bodies.
    pub(crate) scratch: &'a mut Vec<u8>,
    /// A graceful shutdown has begun, or keep-alives are off: the response closes the
    /// connection.
    pub(crate) close_all: bool,
    /// The client has closed its sending side.
    pub(crate) client_done: bool,
    /// The socket may hold more of the body: the next read follows at once.
    pub(crate) more_coming: bool,
}

/// What one round of [`Stream::pump`] did.
#[derive(Debug)]
pub(crate) struct Pumped {
    /// Anything moved.
    pub(crate) progress: bool,
    /// Bytes of a file body went to the socket (the stall deadline moves on).
    pub(crate) sent_file: bool,
    /// How the request ended, if it has.
    pub(crate) end: Option<StreamEnd>,
}

/// How a blocking request ends.
#[derive(Debug)]
pub(crate) enum StreamEnd {
    /// Its body was malformed before any of the answer went out: the server answers.
    Refused(Reject),
    /// The answer is complete: whether the connection closes, and whether body bytes the
    /// client sent may be left unread.
    Answered { close: bool, body_unread: bool },
    /// The handler handed the connection to another protocol (`ResponseWriter::upgrade`
    /// or `hijack`), its whole request body read.
    Upgraded(Box<Takeover>),
}

impl Stream {
    /// Hands the request of `head` to the blocking pool, its connection's loop reached
    /// through `local`'s waker with `token`. `input_empty`: nothing after the head has
    /// arrived (a `100 Continue` is then due if asked for). Refused with 503 if the pool is
    /// full.
    pub(crate) fn submit(
        head: Head,
        input_empty: bool,
        lendable: bool,
        local: &mut Local,
        token: Token,
        now: Instant,
    ) -> Result<Stream, Reject> {
        let Head {
            mut request,
            framing,
            expect_continue,
            facts,
        } = head;
        let waker = local.waker.clone().ok_or(Reject::Overloaded)?;
        let poke = Poke::new(waker, token);
        let close_after = CloseAfter::default();
        let continue_due = expect_continue && input_empty;
        let body = match reader::begin(framing, None) {
            Begin::Body(body) => Some(BodyFeed::new(
                body,
                &mut request,
                &poke,
                &close_after,
                continue_due,
            )),
            Begin::Complete | Begin::Refused(_) => None,
        };
        let gone = ClientGone::default();
        request.gone = Some(gone.clone());
        let (sink, out_rx, spare_tx) = response_channel(poke, &gone, now, lendable);
        let (deadlines, turn) = (Arc::clone(&sink.deadlines), Arc::clone(&sink.turn));
        let exchange = Exchange::new(request, facts, local, close_after.clone());
        let peer = exchange.peer;
        let job = Box::new(move || exchange.run(sink));
        if local.config.workers.submit(job).is_err() {
            log::warn!("{peer}: every blocking-handler thread is busy; 503");
            return Err(Reject::Overloaded);
        }
        Ok(Stream {
            body,
            rx: out_rx,
            spare: spare_tx,
            answer: Answer::Coming,
            responded: false,
            close_after,
            gone,
            dispatched: now,
            file: None,
            head_only: facts.head,
            deadlines,
            upgrade: None,
            turn,
            taken: 0,
        })
    }

    /// Moves body bytes to the handler and response bytes to the output; says when the
    /// request has ended (the handler is done and the body settled).
    pub(crate) fn pump(&mut self, p: Pump<'_>) -> Pumped {
        let (mut progress, malformed) = self.give_body(p.input, p.more_coming, p.out);
        if p.close_all {
            self.close_after.set();
        }
        if let Some((reject, quiet)) = malformed {
            if quiet {
                let end = Some(StreamEnd::Refused(reject)); // the handler's writes now fail
                return Pumped {
                    progress,
                    sent_file: false,
                    end,
                };
            }
            self.cut_off(); // the response has begun: it can only be cut off
        }
        progress |= self.take_answer(p.out, p.written);
        if self.head_only && self.responded && p.client_done {
            // A `HEAD` answer is whole once its head is out, and this client has stopped
            // sending: it has all it will get, even if it half-closed with the request.
            // The handler's next write fails (it may be streaming a body into nothing).
            self.gone.set();
        }
        let mut sent_file = false;
        if p.out.len() == p.written {
            // Everything before a file body's bytes is written: they go next.
            sent_file = self.send_file(p.socket, p.scratch);
            progress |= sent_file;
        }
        if p.out.len() == p.written {
            self.settle_turn(p.socket);
        }
        if let Some(takeover) = self.upgrade.take() {
            return Pumped {
                progress: true,
                sent_file,
                end: Some(self.switch(takeover)),
            };
        }
        let close = match (self.answer, &self.body) {
            _ if self.file.is_some() => None, // the response's last bytes are to come
            (Answer::Complete { close }, None) => Some(close),
            // No point draining a connection that closes.
            (Answer::Complete { close: true }, Some(_)) => Some(true),
            _ => None,
        };
        let end = close.map(|close| StreamEnd::Answered {
            close,
            body_unread: self.body.is_some(),
        });
        Pumped {
            progress: progress || end.is_some(),
            sent_file,
            end,
        }
    }

    /// The handler switched protocols: the connection goes over, unless the request's body
    /// is still coming (its bytes would reach the new protocol): then it closes.
    fn switch(&mut self, takeover: Box<Takeover>) -> StreamEnd {
        if self.body.is_none() {
            return StreamEnd::Upgraded(takeover);
        }
        log::error!("a handler switched protocols before its request body was read; closing");
        StreamEnd::Answered {
            close: true,
            body_unread: true,
        }
    }

    /// Moves body bytes from `input` to the handler (and a `100 Continue` it asked for
    /// into `out`). Returns whether anything moved, and a malformed body's refusal with
    /// whether the answer was still unbegun when it was found.
    fn give_body(
        &mut self,
        input: &mut InBuf,
        more_coming: bool,
        out: &mut Buffer,
    ) -> (bool, Option<(Reject, bool)>) {
        let mut progress = false;
        let mut malformed = None;
        let Some(feed) = &mut self.body else {
            return (false, None);
        };
        if feed.continue_due && feed.asked.load(Ordering::Acquire) {
            feed.continue_due = false;
            // Once the answer has begun, a `100 Continue` would land inside it: none
            // goes out (as in Go), and the connection closes after the answer.
            if !self.responded {
                out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                self.close_after.clear(); // the client sends the body: it may be kept
            }
            progress = true;
        }
        match feed.feed(input, more_coming) {
            Ok(moved) => progress |= moved,
            Err(reject) if feed.discarded.is_none() => {
                // Whether the answer has begun is read before the handler hears of the
                // failure: its own reaction must not count as an answer begun.
                let quiet = !self.responded && self.rx.is_empty();
                if !quiet {
                    // Cut off before the handler hears of it: it writes nothing more itself.
                    self.turn.revoke();
                }
                feed.fail(reject);
                malformed = Some((reject, quiet));
            }
            Err(_) => self.answer.close(), // drained for no one: just close
        }
        if feed.finished() {
            self.body = None;
        }
        (progress, malformed)
    }

    /// Moves what the handler has sent into `out` while less than the high-water mark of
    /// it is unwritten (`written` bytes are): response bytes, a file body to send after
    /// them, the end mark. Returns whether anything moved.
    fn take_answer(&mut self, out: &mut Buffer, written: usize) -> bool {
        let mut progress = false;
        while self.answer == Answer::Coming && has_room(out, written) {
            let next = self.rx.try_recv();
            if next.is_ok() {
                self.taken += 1;
            }
            match next {
                Ok(Out::Bytes(bytes)) if self.file.is_none() => {
                    if out.is_empty() {
                        // Nothing waits to be written: the piece becomes the output as it
                        // is, and what was the output (an earlier piece, written) goes
                        // back to the writer.
                        let emptied = std::mem::replace(out, bytes);
                        self.recycle(emptied);
                    } else {
                        out.extend_from_slice(&bytes);
                        self.recycle(bytes);
                    }
                    self.responded = true;
                    progress = true;
                }
                Ok(Out::Bytes(_)) => {
                    log::error!("response bytes after a file body: the response is cut off");
                    self.cut_off();
                }
                Ok(Out::File(file)) => {
                    self.file = Some(file);
                    self.responded = true;
                    progress = true;
                }
                Ok(Out::Upgrade(takeover)) => {
                    self.upgrade = Some(takeover);
                    self.answer = Answer::Complete { close: false };
                    progress = true;
                }
                Ok(Out::End { close, spent }) => {
                    drop(spent); // here, on the loop that allocated it (see `exchange.rs`)
                    let keep = self.body.as_mut().map_or(true, BodyFeed::abandon);
                    self.answer = Answer::Complete {
                        close: close || !keep,
                    };
                    progress = true;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => self.cut_off(),
            }
        }
        progress
    }

    /// Tells the writer (see `offload/turn.rs`) that the loop has caught up with it, once
    /// everything taken so far is written (the caller checks) and nothing more is in the
    /// channel; and lends it the socket if, besides, no file body, upgrade or `100
    /// Continue` is pending and the head has gone out through the channel (until then the
    /// loop may still answer for the request itself: a `408`, a `400`).
    fn settle_turn(&self, socket: &Transport) {
        if self.answer != Answer::Coming || !self.rx.is_empty() {
            return;
        }
        let pending_continue = self.body.as_ref().is_some_and(|feed| feed.continue_due);
        let quiet = self.responded
            && !self.head_only
            && self.file.is_none()
            && self.upgrade.is_none()
            && !pending_continue;
        self.turn
            .settle(self.taken, socket.plain_tcp().filter(|_| quiet));
    }

    /// Bytes the handler's thread wrote to the socket itself since the last call.
    pub(crate) fn take_direct_written(&self) -> u64 {
        self.turn.take_written()
    }

    /// Hands a written or copied-out response piece back to the writer, emptied, if it is
    /// a mapping of about a piece's size and the writer has fewer than `SPARE_PIECES`
    /// waiting (else it is dropped here, and its mapping kept for reuse, see `mem.rs`).
    fn recycle(&self, mut piece: Buffer) {
        if piece.is_mapped() && piece.capacity() <= RESPONSE_PIECE_ROOM {
            piece.clear();
            let _ = self.spare.try_send(piece);
        }
    }

    /// Sends the next bytes of a file body, if one waits, once everything before it is
    /// written. Returns whether any byte went out; a file that cannot be read or a socket
    /// in error cuts the response off.
    fn send_file(&mut self, socket: &mut Transport, scratch: &mut Vec<u8>) -> bool {
        let Some(file) = &mut self.file else {
            return false;
        };
        match file::send(socket, file, scratch) {
            Ok(moved) => {
                if file.left == 0 {
                    self.file = None;
                }
                moved
            }
            Err(e) => {
                log::debug!("file response ended early: {e}");
                self.cut_off();
                false
            }
        }
    }

    /// Ends the response where it stands (a malformed body after it began, a handler gone
    /// without its end mark, a file that cannot be read): the connection closes.
    fn cut_off(&mut self) {
        self.turn.revoke();
        self.answer.close();
        self.file = None;
    }
}

/// The response's way back: the writer's end (with the request's deadlines and its turn
/// at the socket), and the loop's ends of the piece channel and of the spare pieces'.
fn response_channel(
    poke: Poke,
    gone: &ClientGone,
    now: Instant,
    lendable: bool,
) -> (Outgoing, Receiver<Out>, Sender<Buffer>) {
    let (tx, rx) = crossbeam_channel::bounded(CHANNEL_PIECES);
    let (spare_tx, spare) = crossbeam_channel::bounded(SPARE_PIECES);
    let sink = Outgoing {
        tx,
        spare,
        poke,
        gone: gone.clone(),
        deadlines: Arc::new(Deadlines::new(now)),
        turn: Arc::new(Turn::new(lendable)),
    };
    (sink, rx, spare_tx)
}

/// Whether the output takes another of the handler's pieces: it is below its high-water
/// mark and holds no piece still being written. A piece taken into an empty output is the
/// output (see `take_answer`); more bytes after it would have to grow it, copying it into
/// a larger mapping, where waiting for the socket to take it costs nothing.
fn has_room(out: &Buffer, written: usize) -> bool {
    out.is_empty() || (out.len() - written < OUT_HIGH_WATER && !out.is_mapped())
}
