//! [`Buffer`]: a growable byte buffer whose large allocations bypass `malloc`.
//!
//! Request bodies, staged response bodies and output buffers may grow to megabytes. Taken
//! from `malloc`, such buffers do not go back to the system when freed: glibc raises its
//! mmap threshold after the first large free, later large buffers then come from the
//! threads' arenas, and freed arena memory stays in the process (a flood of 8 MB uploads
//! left hundreds of MiB resident after the clients had gone). Even below that threshold,
//! glibc gives back an arena's free memory only from its top: a loop thread's arena that
//! once held a few MiB of buffers keeps those pages resident for as long as one small live
//! object sits above them. So a buffer that grows past [`MAP_THRESHOLD`] moves into an
//! anonymous mapping of its own (`memmap2`), which is unmapped when the buffer is dropped,
//! and every connection's read buffer is a mapping from the start ([`map`]). The loops' arenas then hold only small
//! objects, resident memory follows the load back down with the system allocator as it is,
//! and `malloc` never sees an allocation large enough to move its threshold. Small buffers,
//! a response of a few KiB being staged, stay ordinary `Vec`s.
//!
//! A `Buffer` dereferences to the bytes it holds, like a `Vec<u8>`.

use std::fmt;
use std::ops::{Deref, DerefMut};

use memmap2::MmapMut;

/// Capacity from which a buffer lives in a mapping of its own: two read buffers, past
/// which a buffer holds a body or a large response, whose `mmap`/`munmap` pair costs
/// little next to filling it. (Measured with the ten-minute soak: from 128 KiB down to this
/// threshold, with mapped pool buffers, the settled RSS fell by 2 MiB; at 4 KiB it fell no
/// further.)
pub(crate) const MAP_THRESHOLD: usize = 16 * 1024;

/// A new anonymous mapping of `len` bytes, all zero, unmapped when dropped.
pub(crate) fn map(len: usize) -> MmapMut {
    match MmapMut::map_anon(len) {
        Ok(map) => map,
        // As a failed `malloc` does for a `Vec`: the process is out of memory.
        Err(e) => panic!("cannot map {len} bytes for a buffer: {e}"),
    }
}

/// A byte buffer: a `Vec<u8>` while small, an anonymous mapping once large.
#[derive(Default)]
pub(crate) struct Buffer(Store);

enum Store {
    /// Also the empty buffer (an empty `Vec` allocates nothing).
    Heap(Vec<u8>),
    /// `map[..len]` holds the bytes; the mapping's length is the capacity.
    Mapped { map: MmapMut, len: usize },
}

impl Default for Store {
    fn default() -> Store {
        Store::Heap(Vec::new())
    }
}

impl Buffer {
    /// An empty buffer with room for at least `n` bytes (mapped if `n` is large).
    pub(crate) fn with_capacity(n: usize) -> Buffer {
        let mut buffer = Buffer::default();
        buffer.reserve(n);
        buffer
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        match &self.0 {
            Store::Heap(v) => v.len(),
            Store::Mapped { len, .. } => *len,
        }
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the buffer can hold without growing.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        match &self.0 {
            Store::Heap(v) => v.capacity(),
            Store::Mapped { map, .. } => map.len(),
        }
    }

    /// Makes room for `additional` more bytes; a buffer growing past [`MAP_THRESHOLD`]
    /// moves to a mapping (at least doubling, so appends stay amortised O(1)).
    pub(crate) fn reserve(&mut self, additional: usize) {
        let needed = self.len().saturating_add(additional);
        if needed <= self.capacity() {
            return;
        }
        match &mut self.0 {
            Store::Heap(v) if needed <= MAP_THRESHOLD => {
                // Doubling as a `Vec` does, but never past the threshold on the heap.
                let capacity = needed.max((v.capacity() * 2).min(MAP_THRESHOLD));
                v.reserve_exact(capacity - v.len());
            }
            _ => self.remap(needed.max(self.capacity() * 2)),
        }
    }

    /// Moves the bytes into a new mapping of `capacity` bytes.
    fn remap(&mut self, capacity: usize) {
        let mut map = reuse::take(capacity);
        let len = self.len();
        map[..len].copy_from_slice(self);
        if let Store::Mapped { map: old, .. } =
            std::mem::replace(&mut self.0, Store::Mapped { map, len })
        {
            reuse::give(old);
        }
    }

    /// Appends `bytes`.
    #[inline]
    pub(crate) fn extend_from_slice(&mut self, bytes: &[u8]) {
        // The common case, every piece of every small response: a heap buffer with room.
        if let Store::Heap(v) = &mut self.0 {
            if v.capacity() - v.len() >= bytes.len() {
                v.extend_from_slice(bytes);
                return;
            }
        }
        self.extend_growing(bytes);
    }

    /// Appends `bytes` to a buffer that may have to grow first. Kept out of line: the
    /// hello path inlines `extend_from_slice` everywhere, and inlining this as well made it
    /// run 67 more instructions per request (callgrind, pipelined).
    #[inline(never)]
    fn extend_growing(&mut self, bytes: &[u8]) {
        self.reserve(bytes.len());
        match &mut self.0 {
            Store::Heap(v) => v.extend_from_slice(bytes),
            Store::Mapped { map, len } => {
                copy(&mut map[*len..*len + bytes.len()], bytes);
                *len += bytes.len();
            }
        }
    }

    /// Appends one byte.
    #[inline]
    pub(crate) fn push(&mut self, byte: u8) {
        self.extend_from_slice(&[byte]);
    }

    /// Up to `most` bytes of room past the buffer's bytes, for a read to fill in place
    /// (then [`filled`](Self::filled)). A mapped buffer's room is its mapping's pages; a
    /// heap buffer offers none (its spare capacity is not initialised memory).
    pub(crate) fn room(&mut self, most: usize) -> &mut [u8] {
        match &mut self.0 {
            Store::Mapped { map, len } => {
                let end = len.saturating_add(most).min(map.len());
                &mut map[*len..end]
            }
            Store::Heap(_) => &mut [],
        }
    }

    /// Counts `n` bytes a read put into [`room`](Self::room) as the buffer's own.
    pub(crate) fn filled(&mut self, n: usize) {
        if let Store::Mapped { map, len } = &mut self.0 {
            *len = len.saturating_add(n).min(map.len());
        }
    }

    /// Drops the first `n` bytes (all of them, if there are fewer), moving the rest to
    /// the front.
    pub(crate) fn discard_front(&mut self, n: usize) {
        match &mut self.0 {
            Store::Heap(v) => drop(v.drain(..n.min(v.len()))),
            Store::Mapped { map, len } => {
                let n = n.min(*len);
                map.copy_within(n..*len, 0);
                *len -= n;
            }
        }
    }

    /// Empties the buffer, keeping its capacity.
    pub(crate) fn clear(&mut self) {
        match &mut self.0 {
            Store::Heap(v) => v.clear(),
            Store::Mapped { len, .. } => *len = 0,
        }
    }

    /// True if the buffer lives in a mapping of its own.
    #[inline]
    pub(crate) fn is_mapped(&self) -> bool {
        matches!(self.0, Store::Mapped { .. })
    }
}

/// Copies `from` into `to` (of the same length). A large copy whose destination lies a few
/// bytes past its source, counting within a 4 KiB page, goes in slices of [`SLICE`]: the
/// usual case for a chunk's data copied from one page-aligned mapping into another after
/// its size line, and one for which glibc's `memcpy` (`rep movsb`, used for copies over a
/// few KiB) runs ten to twenty times slower on this machine's CPU (AMD EPYC: a 64 KiB copy
/// takes 20-35 µs at a destination 1 to 15 bytes ahead, 1.2-2.9 µs otherwise; in slices of
/// 2 KiB, 2.5 µs at any distance). Slicing up to a cache line ahead leaves a margin.
#[inline]
fn copy(to: &mut [u8], from: &[u8]) {
    if from.len() > SLICE {
        let ahead = (to.as_ptr() as usize).wrapping_sub(from.as_ptr() as usize) % 4096;
        if (1..64).contains(&ahead) {
            return copy_in_slices(to, from);
        }
    }
    to.copy_from_slice(from);
}

/// Slices of a [`copy`] made where `memcpy` is slow.
const SLICE: usize = 2048;

#[cold]
fn copy_in_slices(to: &mut [u8], from: &[u8]) {
    for (to, from) in to.chunks_mut(SLICE).zip(from.chunks(SLICE)) {
        to.copy_from_slice(from);
    }
}

/// A large buffer's mapping goes back through [`reuse`].
impl Drop for Buffer {
    fn drop(&mut self) {
        // Looked at before anything is moved: most buffers dropped are small, many empty.
        if !self.is_mapped() {
            return;
        }
        if let Store::Mapped { map, .. } = std::mem::take(&mut self.0) {
            reuse::give(map);
        }
    }
}

/// Mappings, reused while mapped buffers are busy.
///
/// A fresh mapping costs the kernel a page fault and a zeroed page per 4 KiB as it is
/// first written: under a flood of 8 MB uploads to an inline echo, that was some 40% of
/// the server's CPU (`perf`), more than copying the bytes; streaming a blocking handler's
/// response in 32 KiB pieces, where each piece was a mapping made, filled once and
/// unmapped, a fault every 12 KiB sent, and about an eighth of the CPU. So a freed mapping is
/// kept for the next buffer that grows into one, up to [`MAX`](reuse::MAX) bytes of large
/// mappings and [`MAX_SMALL`](reuse::MAX_SMALL) of those under [`LARGE`](reuse::LARGE),
/// but only while another mapped buffer is live: when the last one goes, so does every
/// kept mapping, and the memory is back with the system (the budget's promise). One lock
/// guards the count and the list, so the last drop cannot miss a mapping kept at the same
/// moment; it is taken once per mapping made or freed, which costs nothing next to filling
/// one.
mod reuse {
    use std::sync::{Mutex, PoisonError};

    use memmap2::MmapMut;

    /// Mappings under this size (a streamed response's pieces, a growing output) are
    /// small: they have their own, smaller share of what is kept.
    pub(super) const LARGE: usize = 1 << 20;
    /// Most bytes of large mappings kept at once.
    pub(super) const MAX: usize = 32 << 20;
    /// Most bytes of small mappings kept at once: some sixty response pieces, what a
    /// dozen streams free and take back between their requests.
    pub(super) const MAX_SMALL: usize = 4 << 20;

    /// The mappings kept, and how many are in use.
    #[derive(Default)]
    pub(super) struct Kept {
        /// Mappings handed out and not yet given back.
        live: usize,
        maps: Vec<MmapMut>,
    }

    static KEPT: Mutex<Kept> = Mutex::new(Kept {
        live: 0,
        maps: Vec::new(),
    });

    /// A mapping of at least `len` bytes (at most twice that, if a kept one fits).
    pub(super) fn take(len: usize) -> MmapMut {
        let kept = KEPT
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take(len);
        kept.unwrap_or_else(|| super::map(len)) // mapped outside the lock
    }

    /// Gives back a mapping from [`take`]: kept if others are live and there is room,
    /// else unmapped (and with the last live one, every kept mapping too).
    pub(super) fn give(map: MmapMut) {
        let unmapped = KEPT
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .give(map);
        drop(unmapped); // outside the lock
    }

    impl Kept {
        /// Counts a mapping of at least `len` bytes out: a kept one that fits, if any (the
        /// caller maps a new one if not).
        pub(super) fn take(&mut self, len: usize) -> Option<MmapMut> {
            self.live += 1;
            let fits = self
                .maps
                .iter()
                .position(|map| map.len() >= len && map.len() <= len.saturating_mul(2));
            fits.map(|i| self.maps.swap_remove(i))
        }

        /// Counts `map` back in, keeping it if others are live and there is room. Returns
        /// the mappings to unmap.
        pub(super) fn give(&mut self, map: MmapMut) -> Vec<MmapMut> {
            self.live = self.live.saturating_sub(1);
            if self.live == 0 {
                let mut all = std::mem::take(&mut self.maps);
                all.push(map);
                return all;
            }
            // Each class has its own share: small mappings, and large ones.
            let small = map.len() < LARGE;
            let share = if small { MAX_SMALL } else { MAX };
            let lengths = self.maps.iter().map(|kept| kept.len());
            let held: usize = lengths.filter(|&n| (n < LARGE) == small).sum();
            if held + map.len() <= share {
                self.maps.push(map);
                return Vec::new();
            }
            vec![map]
        }

        /// Bytes of mappings kept.
        #[cfg(test)]
        pub(super) fn held(&self) -> usize {
            self.maps.iter().map(|map| map.len()).sum()
        }
    }
}

impl From<Vec<u8>> for Buffer {
    fn from(v: Vec<u8>) -> Buffer {
        Buffer(Store::Heap(v))
    }
}

impl Deref for Buffer {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        match &self.0 {
            Store::Heap(v) => v,
            Store::Mapped { map, len } => &map[..*len],
        }
    }
}

impl DerefMut for Buffer {
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        match &mut self.0 {
            Store::Heap(v) => v,
            Store::Mapped { map, len } => &mut map[..*len],
        }
    }
}

impl fmt::Debug for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Buffer")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("mapped", &self.is_mapped())
            .finish()
    }
}

/// Something body bytes can be appended to: a [`Buffer`] (a collected body) or a `Vec`
/// (one streamed piece).
pub(crate) trait Append {
    fn append(&mut self, bytes: &[u8]);
    /// Bytes held.
    fn len(&self) -> usize;
}

impl Append for Buffer {
    fn append(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }

    fn len(&self) -> usize {
        Buffer::len(self)
    }
}

impl Append for Vec<u8> {
    fn append(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }

    fn len(&self) -> usize {
        Vec::len(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_after_its_size_line_is_copied_whole_at_every_short_distance() {
        // A page-aligned source into a page-aligned mapping, a few bytes in: sliced copies.
        let mut source = Buffer::with_capacity(70_000);
        let data: Vec<u8> = (0..65_536u32).map(|i| (i * 7 + i / 4096) as u8).collect();
        source.extend_from_slice(&data);
        assert!(source.is_mapped());
        for line in [0usize, 1, 5, 7, 15, 63, 64, 100] {
            let mut out = Buffer::with_capacity(70_000);
            out.extend_from_slice(&vec![b'-'; line]);
            out.extend_from_slice(&source);
            out.extend_from_slice(b"\r\n");
            assert_eq!(out.len(), line + data.len() + 2);
            assert!(out[line..line + data.len()] == data[..], "{line} bytes in");
            assert_eq!(&out[line + data.len()..], b"\r\n");
        }
    }

    #[test]
    fn a_read_fills_a_mapped_buffer_in_place() {
        let mut b = Buffer::with_capacity(20_000);
        assert!(b.is_mapped());
        b.extend_from_slice(b"head ");
        let room = b.room(100);
        assert_eq!(room.len(), 100);
        room[..4].copy_from_slice(b"read");
        b.filled(4);
        assert_eq!(&b[..], b"head read");
        assert_eq!(b.room(usize::MAX).len(), 20_000 - 9, "at most the capacity");
        let mut small = Buffer::with_capacity(100);
        assert!(small.room(10).is_empty(), "a heap buffer offers no room");
    }

    #[test]
    fn freed_mappings_are_kept_only_while_another_is_in_use() {
        const PIECE: usize = 32 * 1024;
        let mut kept = reuse::Kept::default();
        let take = |kept: &mut reuse::Kept, len| kept.take(len).ok_or_else(|| map(len));
        let first = take(&mut kept, PIECE).unwrap_err();
        let second = take(&mut kept, PIECE).unwrap_err();
        let address = first.as_ptr();
        assert!(
            kept.give(first).is_empty(),
            "kept while the second is in use"
        );
        assert_eq!(kept.held(), PIECE);
        let fresh = take(&mut kept, PIECE / 2 - 1).expect_err("more than twice as large");
        let small = take(&mut kept, PIECE + 1).expect_err("too small");
        let again = take(&mut kept, PIECE / 2 + 1).expect("at most twice as large: kept");
        assert_eq!(again.as_ptr(), address, "the same mapping, not a new one");
        for map in [again, fresh, second] {
            assert!(kept.give(map).is_empty());
        }
        assert_eq!(kept.held(), 2 * PIECE + PIECE / 2 - 1);
        // The last mapping in use goes, and every kept one with it.
        let unmapped = kept.give(small);
        assert_eq!(unmapped.len(), 4, "{} unmapped", unmapped.len());
        assert_eq!(kept.held(), 0);
    }

    #[test]
    fn small_mappings_have_their_own_share() {
        const PIECE: usize = 32 * 1024;
        let mut kept = reuse::Kept::default();
        let _in_use = kept.take(PIECE);
        let count = 2 * reuse::MAX_SMALL / PIECE;
        for _ in 0..count {
            kept.take(PIECE);
        }
        let refused: usize = (0..count).map(|_| kept.give(map(PIECE)).len()).sum();
        assert_eq!(kept.held(), reuse::MAX_SMALL);
        assert_eq!(refused, count / 2);
        // A large mapping still has room beside them.
        kept.take(reuse::LARGE);
        assert!(kept.give(map(reuse::LARGE)).is_empty());
    }

    #[test]
    fn small_buffers_stay_on_the_heap_and_large_ones_are_mapped() {
        let mut b = Buffer::default();
        assert_eq!((b.len(), b.capacity()), (0, 0));
        b.extend_from_slice(b"hello");
        assert!(!b.is_mapped());
        let piece = vec![7u8; 1000];
        for _ in 0..200 {
            b.extend_from_slice(&piece);
        }
        assert!(b.is_mapped(), "{b:?}");
        assert_eq!(b.len(), 5 + 200_000);
        assert_eq!(&b[..5], b"hello");
        assert!(b[5..].iter().all(|&x| x == 7));
        b.clear();
        assert!(b.is_empty() && b.capacity() >= 200_005);
    }

    #[test]
    fn an_exact_reservation_is_kept() {
        let b = Buffer::with_capacity(8_000_000);
        assert!(b.is_mapped());
        assert_eq!(b.capacity(), 8_000_000);
        assert!(Buffer::with_capacity(100).capacity() >= 100);
    }

    #[test]
    fn a_mapped_buffer_grows_by_doubling() {
        let mut b = Buffer::with_capacity(MAP_THRESHOLD + 1);
        let cap = b.capacity();
        b.extend_from_slice(&vec![1; cap]);
        b.push(2);
        assert_eq!(b.capacity(), cap * 2);
        assert_eq!(b.len(), cap + 1);
        assert_eq!(b[cap], 2);
    }
}
