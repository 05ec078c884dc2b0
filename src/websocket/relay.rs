//! A WebSocket for blocking code: the session stays on the loop (frames, limits, pings,
//! the closing handshake), and whole messages cross to the handler's thread through
//! channels. [`Relay`] is the loop's side, a [`MessageHandler`]; [`WebSocket`] the
//! handler's.

use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender as Tx};

use super::message::{Message, MessageHandler, Sender};
use crate::upgrade::Handoff;

/// What the handler's thread asks of the loop.
enum Order {
    Send(Message),
    Close(u16, String),
}

/// A WebSocket used from a [blocking](crate::blocking) handler: [`recv`](WebSocket::recv)
/// waits for the client's next message, [`send`](WebSocket::send) queues one. Made by
/// [`upgrade_blocking`](super::upgrade_blocking). Dropping it closes the connection
/// (code 1000) once the messages sent have gone out.
///
/// ```no_run
/// use nethttp::websocket::{self, Message};
/// use nethttp::{blocking, Request, ResponseWriter};
///
/// let handler = blocking(|w: &mut ResponseWriter, r: &mut Request| {
///     let Ok(ws) = websocket::upgrade_blocking(w, r) else { return };
///     while let Some(message) = ws.recv() {
///         // A query, a file, another service: this thread may wait.
///         if ws.send(&message).is_err() {
///             break;
///         }
///     }
/// });
/// ```
pub struct WebSocket {
    incoming: Receiver<Message>,
    outgoing: Tx<Order>,
    shared: Arc<Handoff>,
}

impl std::fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket").finish_non_exhaustive()
    }
}

impl WebSocket {
    /// The client's next message; `None` once the connection has closed.
    pub fn recv(&self) -> Option<Message> {
        let message = self.incoming.recv().ok()?;
        self.shared
            .queued
            .fetch_sub(size(&message), Ordering::Relaxed);
        Some(message)
    }

    /// The client's next message within `timeout`: `Ok(None)` once the connection has
    /// closed, a `TimedOut` error if none came in time.
    pub fn recv_timeout(&self, timeout: Duration) -> io::Result<Option<Message>> {
        match self.incoming.recv_timeout(timeout) {
            Ok(message) => {
                self.shared
                    .queued
                    .fetch_sub(size(&message), Ordering::Relaxed);
                Ok(Some(message))
            }
            Err(RecvTimeoutError::Timeout) => Err(io::ErrorKind::TimedOut.into()),
            Err(RecvTimeoutError::Disconnected) => Ok(None),
        }
    }

    /// Queues a message for the client. Fails once the connection has closed.
    pub fn send(&self, message: &Message) -> io::Result<()> {
        self.order(Order::Send(message.clone()), size(message))
    }

    /// Starts the closing handshake with `code` and `reason`; [`recv`](WebSocket::recv)
    /// returns `None` once the client has answered.
    pub fn close(&self, code: u16, reason: &str) -> io::Result<()> {
        self.order(Order::Close(code, reason.to_string()), 0)
    }

    fn order(&self, order: Order, bytes: usize) -> io::Result<()> {
        self.shared.queued.fetch_add(bytes, Ordering::Relaxed);
        if self.outgoing.send(order).is_err() {
            self.shared.queued.fetch_sub(bytes, Ordering::Relaxed);
            let closed = "the WebSocket is closed";
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, closed));
        }
        self.shared.wake();
        Ok(())
    }
}

impl Drop for WebSocket {
    fn drop(&mut self) {
        let _ = self.close(1000, "");
    }
}

/// The loop's side: messages to the handler's thread, its orders to the client.
pub(crate) struct Relay {
    incoming: Option<Tx<Message>>,
    outgoing: Receiver<Order>,
    shared: Arc<Handoff>,
}

/// A connected pair: the relay for the session, the WebSocket for the handler.
pub(crate) fn pair() -> (Relay, WebSocket) {
    let (in_tx, in_rx) = crossbeam_channel::unbounded();
    let (out_tx, out_rx) = crossbeam_channel::unbounded();
    let shared = Arc::new(Handoff::default());
    let relay = Relay {
        incoming: Some(in_tx),
        outgoing: out_rx,
        shared: Arc::clone(&shared),
    };
    let ws = WebSocket {
        incoming: in_rx,
        outgoing: out_tx,
        shared,
    };
    (relay, ws)
}

/// The bytes a message holds.
fn size(message: &Message) -> usize {
    match message {
        Message::Text(text) => text.len(),
        Message::Binary(bytes) => bytes.len(),
    }
}

impl Relay {
    /// Carries out what the handler's thread has asked.
    fn carry_out(&mut self, ws: &mut Sender<'_, '_>) {
        while let Ok(order) = self.outgoing.try_recv() {
            match order {
                Order::Send(message) => {
                    self.shared
                        .queued
                        .fetch_sub(size(&message), Ordering::Relaxed);
                    ws.send(&message);
                }
                Order::Close(code, reason) => ws.close(code, &reason),
            }
        }
    }
}

impl MessageHandler for Relay {
    fn open(&mut self, ws: &mut Sender<'_, '_>) {
        if let Some(waker) = ws.waker() {
            self.shared.set_waker(waker);
        }
        self.carry_out(ws);
    }

    fn message(&mut self, _ws: &mut Sender<'_, '_>, message: Message) {
        if let Some(incoming) = &self.incoming {
            let bytes = size(&message);
            self.shared.queued.fetch_add(bytes, Ordering::Relaxed);
            if incoming.send(message).is_err() {
                self.shared.queued.fetch_sub(bytes, Ordering::Relaxed);
            }
        }
    }

    fn close(&mut self, _code: Option<u16>, _reason: &str) {
        self.incoming = None; // the handler's recv returns None
    }

    fn wake(&mut self, ws: &mut Sender<'_, '_>) {
        self.carry_out(ws);
    }

    fn footprint(&self) -> usize {
        self.shared.queued.load(Ordering::Relaxed)
    }
}
