//! A raw WebSocket client for the tests: the handshake by hand, then masked frames written
//! byte by byte, so tests can send what a well-behaved client library never would.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};

/// A client connection after a successful handshake.
pub struct Raw {
    pub stream: TcpStream,
    /// Bytes read past the last frame returned.
    pending: Vec<u8>,
}

/// A frame the server sent.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    pub opcode: u8,
    pub payload: Vec<u8>,
}

impl Frame {
    /// A close frame's code.
    pub fn close_code(&self) -> Option<u16> {
        (self.opcode == 8 && self.payload.len() >= 2)
            .then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
}

/// The handshake request for `path`, with `extra` header lines.
pub fn handshake_request(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

impl Raw {
    /// Connects and completes the handshake (the server must answer 101).
    pub fn connect(addr: SocketAddr, path: &str) -> Raw {
        let mut stream = super::connect(addr);
        stream
            .write_all(handshake_request(path, "").as_bytes())
            .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).expect("handshake answer");
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
        assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
        Raw {
            stream,
            pending: Vec::new(),
        }
    }

    /// Sends one frame: `first` is the first byte (FIN, RSV, opcode), masked unless
    /// `masked` is false.
    pub fn send(&mut self, first: u8, payload: &[u8], masked: bool) -> io::Result<()> {
        let mut out = vec![first];
        let mask_bit = if masked { 0x80 } else { 0 };
        match payload.len() {
            n @ 0..=125 => out.push(mask_bit | n as u8),
            n @ 126..=65535 => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        if masked {
            out.extend_from_slice(&mask);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        } else {
            out.extend_from_slice(payload);
        }
        self.stream.write_all(&out)
    }

    /// A whole text message in one frame.
    pub fn text(&mut self, text: &str) {
        self.send(0x81, text.as_bytes(), true).unwrap();
    }

    /// Reads the next frame.
    pub fn frame(&mut self) -> io::Result<Frame> {
        let mut header = self.take(2)?;
        let len = match header[1] & 0x7f {
            126 => {
                let b = self.take(2)?;
                u64::from(u16::from_be_bytes([b[0], b[1]]))
            }
            127 => u64::from_be_bytes(self.take(8)?.try_into().unwrap()),
            n => u64::from(n),
        };
        assert_eq!(header[1] & 0x80, 0, "a server frame is never masked");
        let payload = self.take(len as usize)?;
        let first = header.remove(0);
        Ok(Frame {
            fin: first & 0x80 != 0,
            opcode: first & 0x0f,
            payload,
        })
    }

    fn take(&mut self, n: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; 64 * 1024];
        while self.pending.len() < n {
            let got = self.stream.read(&mut buf)?;
            if got == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.pending.extend_from_slice(&buf[..got]);
        }
        Ok(self.pending.drain(..n).collect())
    }

    /// Reads until the server closes the connection; true if it did (not a timeout).
    pub fn closed_by_server(&mut self) -> bool {
        let mut buf = [0u8; 1024];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    }
}
