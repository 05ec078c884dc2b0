//! Collecting a body for an inline handler, within the memory budget.
//!
//! A body that fits a read buffer is read at once. A larger one needs room in the budget
//! first (`budget.rs`), reserved before more of it is read, so that an admitted body can
//! always complete: all of a `Content-Length` body; for a chunked body, whose length nobody
//! knows, room up to the body limit. (Room reserved piece by piece could deadlock: bodies
//! each holding part of the budget, each waiting for more.) Without room the connection
//! stops reading and waits for its ticket, and the loop's `Msg::Poke` wakes it.

use poller::Cx;

use super::{Conn, Phase};
use crate::budget::{Reservation, Ticket};
use crate::buf::READ_BUF;
use crate::local::Loop;
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

impl Conn {
    /// Moves body bytes from the input into the request, once the budget has room for
    /// them; answers the request when its body is complete.
    pub(super) fn read_body(&mut self, cx: &mut Cx<'_, impl Loop>) -> bool {
        if self.input.is_empty() || !self.make_room(cx) {
            return false;
        }
        let Phase::Body(collecting) = &mut self.phase else {
            return false;
        };
        let body = &mut collecting.head.request.body.bytes;
        let trailers = match collecting.body.read(self.input.data(), body) {
            BodyStep::Refused(reject) => return self.reject(cx, reject),
            BodyStep::More { consumed } => {
                self.input.consume(consumed);
                return false;
            }
            BodyStep::Done { consumed, trailers } => {
                self.input.consume(consumed);
                trailers
            }
        };
        let Phase::Body(collecting) = std::mem::replace(&mut self.phase, Phase::Head) else {
            unreachable!("matched above");
        };
        let mut head = collecting.head;
        if !trailers.is_empty() {
            head.request.trailers = Some(Box::new(trailers));
        }
        self.respond(cx, &mut head.request, head.facts)
    }

    /// Makes sure the body has room for what the input holds: true if it has (taking a
    /// granted ticket's room), false if it waits for the budget.
    fn make_room(&mut self, cx: &mut Cx<'_, impl Loop>) -> bool {
        let Phase::Body(collecting) = &mut self.phase else {
            return false;
        };
        let max_body = cx.local.config.max_body_bytes;
        let wanted = collecting.wanted(self.input.data().len(), max_body);
        let room = std::mem::replace(&mut collecting.room, Room::Reserved(0));
        let (reserved, granted) = match room {
            Room::Reserved(reserved) if wanted <= reserved.max(SMALL_BODY) => {
                collecting.room = Room::Reserved(reserved);
                return true;
            }
            Room::Reserved(reserved) => (reserved, None),
            Room::Waiting { reserved, ticket } if ticket.is_granted() => (reserved, Some(ticket)),
            waiting @ Room::Waiting { .. } => {
                collecting.room = waiting;
                return false;
            }
        };
        if let Some(ticket) = granted {
            let total = reserved + ticket.need();
            cx.local.meter.adopt(ticket);
            collecting.room = Room::Reserved(total);
            collecting.grow_body(total);
            self.account(cx.local);
            return true;
        }
        let target = match collecting.body.left() {
            Some(_) => wanted,
            None => max_body.max(wanted),
        };
        let waker = cx.local.waker.clone();
        let token = cx.token();
        let wake = move || {
            if let Some(waker) = waker {
                waker.wake(token);
            }
        };
        match cx.local.meter.reserve(target - reserved, wake) {
            Reservation::Granted => {
                collecting.room = Room::Reserved(target);
                collecting.grow_body(target);
                self.account(cx.local);
                true
            }
            Reservation::Waiting(ticket) => {
                log::debug!("{}: body of {target} bytes waits for memory", self.peer);
                collecting.room = Room::Waiting { reserved, ticket };
                false
            }
        }
    }
}

impl Collecting {
    /// Gives the body's buffer the room just reserved, so it is allocated once (mapped, if
    /// large) rather than grown by copying.
    fn grow_body(&mut self, room: usize) {
        let bytes = &mut self.head.request.body.bytes;
        bytes.reserve(room.saturating_sub(bytes.len()));
    }
}
