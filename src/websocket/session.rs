//! One WebSocket connection on the loop: the [`Protocol`] that reads client frames,
//! assembles messages, answers control frames, and calls the application's
//! [`MessageHandler`]. See "Life of a WebSocket" in `websocket.rs`.

use std::any::Any;

use super::frame::{self, Header, Opcode};
use super::message::{
    send, send_close, Broadcast, Closing, Limits, Message, MessageHandler, Sender,
};
use crate::upgrade::{Io, Protocol};

/// Close codes this side sends (§7.4.1).
pub(crate) mod code {
    pub(crate) const NORMAL: u16 = 1000;
    pub(crate) const GOING_AWAY: u16 = 1001;
    pub(crate) const PROTOCOL_ERROR: u16 = 1002;
    pub(crate) const INVALID_DATA: u16 = 1007;
    pub(crate) const TOO_BIG: u16 = 1009;
}

/// Where the reader is in the client's frames.
#[derive(Debug)]
enum Reading {
    /// Waiting for a frame's header.
    Header,
    /// In a frame's payload: `left` bytes to come, `offset` bytes already read.
    Payload {
        header: Header,
        left: u64,
        offset: u64,
    },
}

/// A WebSocket connection's state.
pub(crate) struct Session<H> {
    handler: H,
    limits: Limits,
    reading: Reading,
    /// The data message being assembled (its first frame said text or binary).
    message: Option<(Opcode, Vec<u8>)>,
    /// A control frame's payload being read (at most 125 bytes).
    control: Vec<u8>,
    closing: Closing,
}

impl<H: MessageHandler> Session<H> {
    pub(crate) fn new(handler: H, limits: Limits) -> Session<H> {
        Session {
            handler,
            limits,
            reading: Reading::Header,
            message: None,
            control: Vec::new(),
            closing: Closing::Open,
        }
    }

    /// Reads one step: a header, or a piece of payload. Returns false when it needs more
    /// bytes (or the connection failed).
    fn step(&mut self, io: &mut Io<'_>) -> bool {
        match self.reading {
            Reading::Header => match frame::parse_header(io.input()) {
                Ok(None) => false,
                Ok(Some((header, len))) => {
                    io.consume(len);
                    self.begin(io, header)
                }
                Err(violation) => {
                    log::debug!("websocket: {violation:?}");
                    self.fail(io, code::PROTOCOL_ERROR, "protocol error");
                    false
                }
            },
            Reading::Payload {
                header,
                left,
                offset,
            } => self.payload(io, header, left, offset),
        }
    }

    /// A frame's header is read: checks it against the message in progress and the limits.
    fn begin(&mut self, io: &mut Io<'_>, header: Header) -> bool {
        let data = !header.opcode.is_control();
        let in_message = self.message.is_some();
        if data && (header.opcode == Opcode::Continuation) != in_message {
            // A continuation with no message begun, or a new message inside one.
            self.fail(io, code::PROTOCOL_ERROR, "unexpected frame");
            return false;
        }
        if data {
            let held = self.message.as_ref().map_or(0, |(_, bytes)| bytes.len());
            let total = held as u64 + header.len;
            if header.len > self.limits.max_frame as u64 || total > self.limits.max_message as u64 {
                self.fail(io, code::TOO_BIG, "message too big");
                return false;
            }
            if header.opcode != Opcode::Continuation {
                self.message = Some((header.opcode, Vec::new()));
            }
        }
        self.reading = Reading::Payload {
            header,
            left: header.len,
            offset: 0,
        };
        true
    }

    /// Moves payload bytes from the input into the message (or control payload).
    fn payload(&mut self, io: &mut Io<'_>, header: Header, left: u64, offset: u64) -> bool {
        let take = io
            .input()
            .len()
            .min(usize::try_from(left).unwrap_or(usize::MAX));
        if take == 0 && left > 0 {
            return false;
        }
        let target = match (&mut self.message, header.opcode.is_control()) {
            (Some((_, bytes)), false) => bytes,
            _ => &mut self.control,
        };
        let start = target.len();
        target.extend_from_slice(&io.input()[..take]);
        frame::unmask(&mut target[start..], header.mask, offset);
        io.consume(take);
        let left = left - take as u64;
        if left > 0 {
            self.reading = Reading::Payload {
                header,
                left,
                offset: offset + take as u64,
            };
            return true;
        }
        self.reading = Reading::Header;
        self.end_frame(io, header);
        self.closing != Closing::Done
    }

    /// A whole frame has arrived.
    fn end_frame(&mut self, io: &mut Io<'_>, header: Header) {
        match header.opcode {
            Opcode::Ping => {
                let payload = std::mem::take(&mut self.control);
                if self.closing == Closing::Open {
                    send(io, Opcode::Pong, &payload);
                }
            }
            Opcode::Pong => self.control.clear(),
            Opcode::Close => self.closed_by_client(io),
            _ if header.fin => self.deliver(io),
            _ => {}
        }
    }

    /// A data message is complete: text is checked for UTF-8, then the handler has it.
    fn deliver(&mut self, io: &mut Io<'_>) {
        let Some((opcode, bytes)) = self.message.take() else {
            return;
        };
        let message = if opcode == Opcode::Text {
            match String::from_utf8(bytes) {
                Ok(text) => Message::Text(text),
                Err(_) => return self.fail(io, code::INVALID_DATA, "invalid UTF-8"),
            }
        } else {
            Message::Binary(bytes)
        };
        if self.closing == Closing::Open {
            let mut ws = Sender::new(io, &mut self.closing);
            self.handler.message(&mut ws, message);
        }
    }

    /// The client's close frame: checked, answered with the same code (unless this side
    /// closed first), then the connection ends.
    fn closed_by_client(&mut self, io: &mut Io<'_>) {
        let payload = std::mem::take(&mut self.control);
        let (code, reason) = match payload.as_slice() {
            [] => (None, ""),
            [_] => return self.fail(io, code::PROTOCOL_ERROR, "bad close frame"),
            [hi, lo, reason @ ..] => {
                let code = u16::from_be_bytes([*hi, *lo]);
                if !frame::valid_close_code(code) {
                    return self.fail(io, code::PROTOCOL_ERROR, "bad close code");
                }
                match std::str::from_utf8(reason) {
                    Ok(reason) => (Some(code), reason),
                    Err(_) => return self.fail(io, code::INVALID_DATA, "invalid UTF-8"),
                }
            }
        };
        if self.closing == Closing::Open {
            let mut answer = code.unwrap_or(code::NORMAL).to_be_bytes().to_vec();
            if code.is_none() {
                answer.clear();
            }
            send(io, Opcode::Close, &answer);
        }
        self.closing = Closing::Done;
        self.handler.close(code, reason);
        io.close();
    }

    /// Fails the connection (§7.1.7): a close frame with `code`, then the end.
    fn fail(&mut self, io: &mut Io<'_>, code: u16, reason: &str) {
        if self.closing == Closing::Open {
            send_close(io, code, reason);
        }
        self.closing = Closing::Done;
        self.message = None;
        self.handler.close(Some(code), reason);
        io.close();
    }
}

impl<H: MessageHandler> Protocol for Session<H> {
    fn start(&mut self, io: &mut Io<'_>) {
        let mut ws = Sender::new(io, &mut self.closing);
        self.handler.open(&mut ws);
    }

    fn read(&mut self, io: &mut Io<'_>) {
        if self.closing == Closing::Done {
            let all = io.input().len();
            io.consume(all);
            return;
        }
        while self.step(io) {}
    }

    fn shutdown(&mut self, io: &mut Io<'_>) {
        if self.closing == Closing::Open {
            send_close(io, code::GOING_AWAY, "server shutting down");
            self.closing = Closing::Sent;
        }
    }

    fn notify(&mut self, io: &mut Io<'_>, value: &(dyn Any + Send + Sync)) {
        if self.closing != Closing::Open {
            return;
        }
        if let Some(broadcast) = value.downcast_ref::<Broadcast>() {
            io.write(&broadcast.frame);
        } else {
            let mut ws = Sender::new(io, &mut self.closing);
            self.handler.notify(&mut ws, value);
        }
    }

    fn wake(&mut self, io: &mut Io<'_>) {
        let mut ws = Sender::new(io, &mut self.closing);
        self.handler.wake(&mut ws);
    }

    fn footprint(&self) -> usize {
        let message = self
            .message
            .as_ref()
            .map_or(0, |(_, bytes)| bytes.capacity());
        message + self.control.capacity() + std::mem::size_of::<Self>() + self.handler.footprint()
    }

    fn closed(&mut self) {
        if self.closing != Closing::Done {
            self.closing = Closing::Done;
            self.handler.close(None, "");
        }
    }
}
