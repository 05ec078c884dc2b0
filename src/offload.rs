//! The blocking path: a request served by a [blocking](crate::blocking) handler on a
//! thread of the pool while the loop goes on serving everyone else.
//!
//! # Life of a blocking request
//!
//! 1. `conn.rs` reads the head, and the handler says the request blocks (a
//!    [`ServeMux`](crate::ServeMux) keeps the route it found for `serve_http`).
//! 2. `offload/stream.rs` (`Stream::submit`): the loop packs the request into an
//!    `Exchange` (`offload/exchange.rs`), opens the two bounded channels
//!    (`offload/channel.rs`) and submits the job to the pool (`offload/workers.rs`); a full
//!    pool means `503`.
//! 3. A pool thread runs the exchange: it makes the response writer, whose bytes go to the
//!    channel (`response/sink.rs`), and calls the handler. The handler reads the body
//!    through `Request::body` (`request.rs`), piece by piece as the loop feeds it.
//! 4. Each side pokes the other's loop (`offload/poke.rs`) when it moves a piece, and the
//!    loop wakes a handler waiting for its next body piece (`offload/wait.rs`);
//!    `Stream::pump` moves body bytes from the socket to the handler and response bytes from
//!    the channel to the socket, or a file body straight from the file. Once the head is
//!    out and nothing waits on the loop's side, the loop lends a plain TCP socket to the
//!    handler's thread, which writes to it itself until it is full (`offload/turn.rs`).
//! 5. The handler returns: what it left unread of the body is judged (`Body::judge_unread`), the
//!    response is completed, and the end mark carries the exchange back to the loop, which
//!    frees it there.
//! 6. `Stream::pump` reports the end (`StreamEnd`), and `conn.rs` moves on: the next
//!    request, or closing.
//!
//! # Whether the connection closes
//!
//! The response head says it, so it is decided on the handler's thread before the head is
//! written: by the request's and the handler's `Connection` fields, and by the
//! [`CloseAfter`](channel::CloseAfter) signal, which whatever learns that the connection
//! cannot carry another request sets (see there). The end mark repeats the writer's
//! decision to the loop, and `Stream::pump` only adds what the loop alone can know: a body
//! that turned out malformed or too long to drain after the handler returned.

pub(crate) mod channel;
pub(crate) mod exchange;
pub(crate) mod feed;
pub(crate) mod file;
pub(crate) mod poke;
pub(crate) mod stream;
pub(crate) mod turn;
pub(crate) mod wait;
pub(crate) mod workers;
