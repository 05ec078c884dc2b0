//! Read and write buffers, and the per-loop pool they come from.
//!
//! A connection holds a buffer only while it has bytes in it. When it goes idle between
//! requests both buffers go back to its loop's [`BufferPool`], so ten thousand idle keep-alive
//! connections hold ten thousand sockets, not twenty thousand buffers.

use memmap2::MmapMut;

use crate::mem::{self, Buffer};

/// Size of a read buffer from the pool. A request head larger than this grows its buffer,
/// up to the header limit; the grown buffer is freed rather than pooled.
pub(crate) const READ_BUF: usize = 8 * 1024;

/// Encoded response bytes allowed to wait for the socket before a connection stops
/// reading and handling pipelined requests (or taking a blocking handler's response): a
/// client that does not read its responses is slowed down by TCP, not buffered for.
pub(crate) const OUT_HIGH_WATER: usize = 64 * 1024;

/// Starting capacity of a write buffer. Write buffers that grew into a mapping of their own
/// (past `mem::MAP_THRESHOLD`) are freed rather than pooled, so one large response does not
/// pin memory: their mappings go back through `mem`'s reuse, which keeps freed mappings
/// only while others are in use.
const WRITE_BUF: usize = 8 * 1024;

/// Most free buffers of each kind a loop keeps for reuse: enough for a burst of busy
/// connections, few enough that a loop's pool holds at most a few MiB.
const MAX_POOLED: usize = 32;

/// Free buffers of one loop.
///
/// A connection holds at most one buffer of each kind, so the pool never keeps more free
/// buffers than the loop has open connections: when connections go, their buffers go with
/// them, and a loop with none holds no buffers at all.
#[derive(Debug, Default)]
pub(crate) struct BufferPool {
    /// Read buffers, each `READ_BUF` bytes long: mappings of their own (see `mem`), whose
    /// fresh pages read as zeros, so reads need no `unsafe`.
    reads: Vec<MmapMut>,
    /// Empty write buffers with at least `WRITE_BUF` capacity.
    writes: Vec<Buffer>,
    /// Open connections on this loop.
    conns: usize,
}

impl BufferPool {
    /// Counts a connection in.
    pub(crate) fn conn_opened(&mut self) {
        self.conns += 1;
    }

    /// Counts a connection out, freeing buffers the remaining connections cannot use.
    /// Returns true if it was the loop's last.
    pub(crate) fn conn_closed(&mut self) -> bool {
        self.conns = self.conns.saturating_sub(1);
        let keep = self.keep();
        self.reads.truncate(keep);
        self.writes.truncate(keep);
        if keep == 0 {
            self.reads.shrink_to_fit();
            self.writes.shrink_to_fit();
        }
        self.conns == 0
    }

    /// How many free buffers of each kind are worth keeping.
    fn keep(&self) -> usize {
        self.conns.min(MAX_POOLED)
    }

    fn take_read(&mut self) -> MmapMut {
        self.reads.pop().unwrap_or_else(|| mem::map(READ_BUF))
    }

    fn give_read(&mut self, buf: MmapMut) {
        if buf.len() == READ_BUF && self.reads.len() < self.keep() {
            self.reads.push(buf);
        }
    }

    fn take_write(&mut self) -> Buffer {
        self.writes
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(WRITE_BUF).into())
    }

    fn give_write(&mut self, mut buf: Buffer) {
        if !buf.is_mapped() && self.writes.len() < self.keep() {
            buf.clear();
            self.writes.push(buf);
        }
    }
}

/// Bytes read from a socket and not yet consumed: `bytes[start..end]`.
#[derive(Debug, Default)]
pub(crate) struct InBuf {
    /// `None` while the connection holds no unread bytes.
    bytes: Option<MmapMut>,
    start: usize,
    end: usize,
}

impl InBuf {
    /// The unconsumed bytes.
    pub(crate) fn data(&self) -> &[u8] {
        &self.bytes()[self.start..self.end]
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Bytes the buffer holds allocated (0 while it is back in the pool).
    pub(crate) fn capacity(&self) -> usize {
        self.bytes().len()
    }

    fn bytes(&self) -> &[u8] {
        self.bytes.as_deref().unwrap_or_default()
    }

    /// Marks `n` bytes at the front as used.
    pub(crate) fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Drops every unconsumed byte.
    pub(crate) fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    /// Consumes blank lines ahead of a request line (RFC 9112 §2.2 lets a server ignore
    /// them; some clients send a CRLF after a POST body).
    /// Room to read into: taken from the pool if the buffer is unallocated, made by moving
    /// the unconsumed bytes to the front, or by growing up to `limit` bytes. Empty when the
    /// buffer is full at the limit.
    pub(crate) fn spare(&mut self, pool: &mut BufferPool, limit: usize) -> &mut [u8] {
        let bytes = self.bytes.get_or_insert_with(|| pool.take_read());
        if self.end == bytes.len() {
            if self.start > 0 {
                bytes.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else if bytes.len() < limit {
                let mut grown = mem::map((bytes.len() * 2).min(limit.max(READ_BUF)));
                grown[..self.end].copy_from_slice(&bytes[..self.end]);
                *bytes = grown;
            }
        }
        &mut bytes[self.end..]
    }

    /// Records that a read put `n` bytes into the spare room.
    pub(crate) fn filled(&mut self, n: usize) {
        self.end += n;
    }

    /// Gives the buffer back to the pool if it holds nothing.
    // Small and run for every request: inlined (docs/performance.md, "Where the time goes").
    #[inline]
    pub(crate) fn release_if_empty(&mut self, pool: &mut BufferPool) {
        if self.is_empty() {
            if let Some(bytes) = self.bytes.take() {
                pool.give_read(bytes);
            }
        }
    }
}

/// Encoded responses waiting for the socket: `bytes[pos..]`.
#[derive(Debug, Default)]
pub(crate) struct OutBuf {
    /// Empty (no allocation) while nothing waits to be written.
    pub(crate) bytes: Buffer,
    /// How much of `bytes` the socket has taken.
    pub(crate) pos: usize,
}

impl OutBuf {
    /// Bytes not yet written.
    pub(crate) fn pending(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// Takes the buffer to append responses to (from the pool if unallocated).
    pub(crate) fn take(&mut self, pool: &mut BufferPool) -> Buffer {
        if self.bytes.capacity() == 0 {
            return pool.take_write();
        }
        std::mem::take(&mut self.bytes)
    }

    /// Puts back a buffer taken with [`take`](OutBuf::take).
    pub(crate) fn put(&mut self, bytes: Buffer) {
        self.bytes = bytes;
    }

    /// Queues `bytes` (an interim response such as `100 Continue`).
    pub(crate) fn append(&mut self, pool: &mut BufferPool, bytes: &[u8]) {
        let mut out = self.take(pool);
        out.extend_from_slice(bytes);
        self.put(out);
    }

    /// Records that the socket took `n` more bytes; resets when all are written.
    pub(crate) fn advance(&mut self, n: usize) {
        self.pos += n;
        if self.pos == self.bytes.len() {
            self.bytes.clear();
            self.pos = 0;
        }
    }

    /// Gives the buffer back to the pool if nothing waits in it.
    // Small and run for every request: inlined (docs/performance.md, "Where the time goes").
    #[inline]
    pub(crate) fn release_if_empty(&mut self, pool: &mut BufferPool) {
        if self.pending() == 0 && self.bytes.capacity() > 0 {
            pool.give_write(std::mem::take(&mut self.bytes));
            self.pos = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_compacts_then_grows_to_the_limit() {
        let mut pool = BufferPool::default();
        let mut input = InBuf::default();
        let room = input.spare(&mut pool, 20_000).len();
        assert_eq!(room, READ_BUF);
        input.filled(room);
        input.consume(10);
        assert_eq!(input.spare(&mut pool, 20_000).len(), 10, "compacted");
        input.filled(10);
        assert_eq!(input.spare(&mut pool, 20_000).len(), READ_BUF, "doubled");
        input.filled(READ_BUF);
        assert_eq!(input.spare(&mut pool, 20_000).len(), 20_000 - 2 * READ_BUF);
        input.filled(20_000 - 2 * READ_BUF);
        assert!(
            input.spare(&mut pool, 20_000).is_empty(),
            "full at the limit"
        );
    }

    #[test]
    fn idle_buffers_return_to_the_pool() {
        let mut pool = BufferPool::default();
        pool.conn_opened();
        let mut input = InBuf::default();
        input.spare(&mut pool, READ_BUF);
        input.filled(3);
        input.release_if_empty(&mut pool);
        assert!(pool.reads.is_empty(), "bytes still unread");
        input.consume(3);
        input.release_if_empty(&mut pool);
        assert_eq!(pool.reads.len(), 1);
        let mut output = OutBuf::default();
        let mut bytes = output.take(&mut pool);
        bytes.extend_from_slice(b"abc");
        output.put(bytes);
        output.advance(3);
        output.release_if_empty(&mut pool);
        assert_eq!(pool.writes.len(), 1);
        assert_eq!(output.bytes.capacity(), 0);
    }

    #[test]
    fn the_pool_keeps_no_more_buffers_than_open_connections() {
        let mut pool = BufferPool::default();
        for _ in 0..3 {
            pool.conn_opened();
        }
        for _ in 0..5 {
            pool.give_read(mem::map(READ_BUF));
            pool.give_write(Buffer::with_capacity(WRITE_BUF));
        }
        assert_eq!((pool.reads.len(), pool.writes.len()), (3, 3));
        pool.conn_closed();
        assert_eq!((pool.reads.len(), pool.writes.len()), (2, 2));
        pool.conn_closed();
        pool.conn_closed();
        assert_eq!((pool.reads.capacity(), pool.writes.capacity()), (0, 0));
    }
}
