//! A file body on its way out, sent by the loop as the client takes it
//! (`offload/stream.rs` decides when): on a plain connection straight from the page cache
//! to the socket with `sendfile(2)`, no byte passing through the process; over TLS a piece
//! at a time through the loop's scratch buffer, since the session must encrypt it.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::FileExt;

use super::channel::FileBody;
use crate::error::{interrupted, would_block};
use crate::transport::Transport;

/// Bytes of a file body moved per read: the loop's scratch buffer.
const FILE_PIECE: usize = 64 * 1024;

/// Sends a file body's next bytes: each piece is read into the loop's `scratch` buffer and
/// written at once, and what the socket does not take is read again next time, so a
/// download holds no buffer of its own between writable edges (a slow reader costs its
/// socket and its open file). Returns whether any byte went out; stops when the socket is
/// full. An error ends the response.
pub(crate) fn send(
    socket: &mut Transport,
    body: &mut FileBody,
    scratch: &mut Vec<u8>,
) -> io::Result<bool> {
    if let Some(fd) = socket.plain_fd() {
        return send_directly(fd, body);
    }
    if scratch.len() < FILE_PIECE {
        scratch.resize(FILE_PIECE, 0);
    }
    let mut moved = false;
    while body.left > 0 {
        let want = usize::try_from(body.left).map_or(FILE_PIECE, |left| left.min(FILE_PIECE));
        let got = match body.file.read_at(&mut scratch[..want], body.offset) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file shrank",
                ))
            }
            Ok(got) => got,
            Err(e) if interrupted(&e) => continue,
            Err(e) => return Err(e),
        };
        match socket.write(&scratch[..got]) {
            Ok(n) => {
                body.offset += n as u64;
                body.left -= n as u64;
                moved |= n > 0;
                if n < got {
                    break; // the socket is full: the next writable edge resumes
                }
            }
            Err(e) if would_block(&e) => break,
            Err(e) if interrupted(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(moved)
}

/// The most bytes one `sendfile` call is asked for: the kernel takes what the socket's
/// buffer has room for, and a smaller ask keeps each call short on a fast socket.
const SENDFILE_PIECE: usize = 1 << 20;

/// [`send`] on a plain connection: `sendfile(2)` from the file to the socket until the
/// body is sent or the socket is full. A file that has shrunk below what the head promised
/// cuts the response off, as on the copying path.
fn send_directly(socket: RawFd, body: &mut FileBody) -> io::Result<bool> {
    let mut moved = false;
    while body.left > 0 {
        let want =
            usize::try_from(body.left).map_or(SENDFILE_PIECE, |left| left.min(SENDFILE_PIECE));
        match sendfile(socket, &body.file, body.offset, want) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file shrank",
                ))
            }
            Ok(n) => {
                body.offset += n as u64;
                body.left -= n as u64;
                moved = true;
                if n < want {
                    break; // the socket is full: the next writable edge resumes
                }
            }
            Err(e) if would_block(&e) => break,
            Err(e) if interrupted(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(moved)
}

/// One `sendfile(2)`: up to `count` bytes of `file` from `offset` to `socket`. Returns how
/// many went (0: `offset` is at or past the file's end).
fn sendfile(socket: RawFd, file: &File, offset: u64, count: usize) -> io::Result<usize> {
    let mut offset = libc::off_t::try_from(offset)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "offset past off_t"))?;
    // SAFETY: `socket` is the connection's open descriptor and `file`'s is open for the
    // whole call (both borrowed by the caller); `offset` is a live `off_t` the kernel
    // reads and advances; the call reads and writes no other memory of this process.
    let sent = unsafe { libc::sendfile(socket, file.as_raw_fd(), &mut offset, count) };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(sent as usize)
}
