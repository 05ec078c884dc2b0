//! A file body on its way out: the loop reads it a piece at a time into its scratch buffer
//! and writes it to the socket as the client takes it (`offload/stream.rs` decides when).

use std::io::{self, Write};
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
