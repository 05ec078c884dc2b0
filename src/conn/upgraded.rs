//! An upgraded connection's turn on the loop: the protocol that took the connection over
//! (`upgrade.rs`) reads what came, or hears of a shutdown or a broadcast, and writes its
//! answer into the connection's output.

use std::any::Any;

use super::phase::{Close, Phase};
use crate::buf::{BufferPool, InBuf, OutBuf};
use crate::mem::Buffer;
use crate::offload::poke::Poke;
use crate::upgrade::{Io, Protocol};

/// What the protocol is told.
pub(super) enum Call<'a> {
    /// The connection has just been upgraded.
    Start,
    /// Bytes wait in the input.
    Read,
    /// Another thread woke the connection (`Waker::wake`).
    Wake,
    /// A graceful shutdown began.
    Shutdown,
    /// A broadcast value (`Handle::notify_upgraded`).
    Notify(&'a (dyn Any + Send + Sync)),
}

/// Tells an upgraded connection's protocol what happened. Returns whether anything moved;
/// a protocol that closes leaves its connection closing.
pub(super) fn turn(
    phase: &mut Phase,
    call: Call<'_>,
    input: &mut InBuf,
    output: &mut OutBuf,
    buffers: &mut BufferPool,
) -> bool {
    let Phase::Upgraded(takeover) = phase else {
        return false;
    };
    if matches!(call, Call::Read) && input.is_empty() {
        return false;
    }
    let mut out = output.take(buffers);
    let written = output.pos;
    let waker = takeover.1.as_ref();
    let called = self::call(&mut *takeover.0, waker, call, input, &mut out, written);
    output.put(out);
    if called.closing {
        takeover.0.closed();
        *phase = Phase::Closing(Close::Clean);
    }
    called.progress
}

/// What one call did.
struct Called {
    /// Input was consumed or output written.
    progress: bool,
    /// The protocol ends the connection once its output is written.
    closing: bool,
}

/// Makes one call of `protocol` over the connection's input and output (`written`: bytes
/// at the start of `out` the socket has taken already).
fn call(
    protocol: &mut dyn Protocol,
    waker: Option<&Poke>,
    call: Call<'_>,
    input: &mut InBuf,
    out: &mut Buffer,
    written: usize,
) -> Called {
    let before = out.len();
    let mut io = Io::new(input.data(), out, written).with_waker(waker);
    match call {
        Call::Start => protocol.start(&mut io),
        Call::Read => protocol.read(&mut io),
        Call::Wake => protocol.wake(&mut io),
        Call::Shutdown => protocol.shutdown(&mut io),
        Call::Notify(value) => protocol.notify(&mut io, value),
    }
    let (consumed, closing) = io.outcome();
    input.consume(consumed);
    Called {
        progress: consumed > 0 || out.len() > before || closing,
        closing,
    }
}
