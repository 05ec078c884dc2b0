//! Collecting a body for an inline handler, within the memory budget.
//!
//! A body that fits a read buffer is read at once. A larger one needs room in the budget
//! first (`budget.rs`), reserved before more of it is read, so that an admitted body can
//! always complete: all of a `Content-Length` body; for a chunked body, whose length nobody
//! knows, room up to the body limit. (Room reserved piece by piece could deadlock: bodies
//! each holding part of the budget, each waiting for more.) Without room the connection
//! stops reading and waits for its ticket, and the loop's `Msg::Poke` wakes it.

use poller::Token;

use crate::budget::{Reservation, Ticket};
use crate::buf::{InBuf, READ_BUF};
use crate::error::Reject;
use crate::local::Local;
use crate::parse::Head;
use crate::reader::{BodyReader, BodyStep};

/// A body this small is read without asking the budget: with its head it fits the read
/// buffer a request needs to be seen at all, so small requests always go ahead.
const SMALL_BODY: usize = READ_BUF;

/// A request whose body is on its way.
#[derive(Debug)]
pub(super) struct Collecting {
    pub(super) head: Head,
    body: BodyReader,
    room: Room,
}

/// The body's room in the memory budget.
#[derive(Debug)]
enum Room {
    /// This many bytes are reserved (0 while the body is small).
    Reserved(usize),
    /// `reserved` bytes are the body's, and it waits for `ticket` to grant more.
    Waiting { reserved: usize, ticket: Ticket },
}

impl Collecting {
    pub(super) fn new(head: Head, body: BodyReader) -> Collecting {
        Collecting {
            head,
            body,
            room: Room::Reserved(0),
        }
    }

    /// Bytes held for the body: the room reserved, or what it has grown to.
    pub(super) fn footprint(&self) -> usize {
        let reserved = match &self.room {
            Room::Reserved(n) | Room::Waiting { reserved: n, .. } => *n,
        };
        reserved.max(self.head.request.body.bytes.capacity())
    }

    /// Waiting for room that has not been granted yet: the socket is not read.
    pub(super) fn waits_for_memory(&self) -> bool {
        matches!(&self.room, Room::Waiting { ticket, .. } if !ticket.is_granted())
    }

    /// The room the body needs before `arrived` more bytes are decoded into it: all of a
    /// `Content-Length` body; for a chunked one, what it holds plus `arrived`, up to the
    /// body limit (past it, the request gets 413).
    fn wanted(&self, arrived: usize, max_body: usize) -> usize {
        let held = self.head.request.body.bytes.len();
        match self.body.left() {
            Some(left) => held + usize::try_from(left).unwrap_or(usize::MAX),
            None => (held + arrived).min(max_body),
        }
    }
}

/// What [`Collecting::make_room`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RoomMade {
    /// The body had room enough already.
    Enough,
    /// Room was just reserved and the body grown: the connection's footprint changed.
    Grown,
    /// No room yet: the body waits for its ticket, and the socket is not read.
    Waiting,
}

/// What [`Collecting::read`] did.
#[derive(Debug)]
pub(super) enum Collected {
    /// Bytes were taken (or none were there); the body is not complete.
    More,
    /// The body is complete: the request is ready for its handler.
    Done,
    /// The body is malformed or over the limit.
    Refused(Reject),
}

impl Collecting {
    /// Moves the body bytes at the front of `input` into the request (its room made
    /// first, see [`make_room`](Collecting::make_room)); a chunked body's trailer fields
    /// go to the request when it ends.
    pub(super) fn read(&mut self, input: &mut InBuf) -> Collected {
        let body = &mut self.head.request.body.bytes;
        match self.body.read(input.data(), body) {
            BodyStep::Refused(reject) => Collected::Refused(reject),
            BodyStep::More { consumed } => {
                input.consume(consumed);
                Collected::More
            }
            BodyStep::Done { consumed, trailers } => {
                input.consume(consumed);
                if !trailers.is_empty() {
                    self.head.request.trailers = Some(Box::new(trailers));
                }
                Collected::Done
            }
        }
    }

    /// Makes sure the body has room for `arrived` more bytes, taking a granted ticket's
    /// room or asking the budget; `token` is the connection to wake when room is granted.
    pub(super) fn make_room(
        &mut self,
        arrived: usize,
        local: &mut Local,
        token: Token,
    ) -> RoomMade {
        let max_body = local.config.max_body_bytes;
        let wanted = self.wanted(arrived, max_body);
        let room = std::mem::replace(&mut self.room, Room::Reserved(0));
        let (reserved, granted) = match room {
            Room::Reserved(reserved) if wanted <= reserved.max(SMALL_BODY) => {
                self.room = Room::Reserved(reserved);
                return RoomMade::Enough;
            }
            Room::Reserved(reserved) => (reserved, None),
            Room::Waiting { reserved, ticket } if ticket.is_granted() => (reserved, Some(ticket)),
            waiting @ Room::Waiting { .. } => {
                self.room = waiting;
                return RoomMade::Waiting;
            }
        };
        if let Some(ticket) = granted {
            let total = reserved + ticket.need();
            local.meter.adopt(ticket);
            self.room = Room::Reserved(total);
            self.grow_body(total);
            return RoomMade::Grown;
        }
        let target = match self.body.left() {
            Some(_) => wanted,
            None => max_body.max(wanted),
        };
        let waker = local.waker.clone();
        let wake = move || {
            if let Some(waker) = waker {
                waker.wake(token);
            }
        };
        match local.meter.reserve(target - reserved, wake) {
            Reservation::Granted => {
                self.room = Room::Reserved(target);
                self.grow_body(target);
                RoomMade::Grown
            }
            Reservation::Waiting(ticket) => {
                let peer = self.head.request.remote_addr();
                log::debug!("{peer}: body of {target} bytes waits for memory");
                self.room = Room::Waiting { reserved, ticket };
                RoomMade::Waiting
            }
        }
    }

    /// Gives the body's buffer the room just reserved, so it is allocated once (mapped, if
    /// large) rather than grown by copying.
    fn grow_body(&mut self, room: usize) {
        let bytes = &mut self.head.request.body.bytes;
        bytes.reserve(room.saturating_sub(bytes.len()));
    }
}
