//! A PROXY protocol header (HAProxy's `send-proxy`, nginx's `proxy_protocol`) before a
//! connection's first request, when the server asked for one
//! ([`Server::proxy_protocol`](crate::Server::proxy_protocol)): the balancer's report of
//! the client's address, which becomes the requests' `remote_addr`. The parser is
//! `proxy_protocol.rs`.
//!
//! A listener that expects the header never guesses (the protocol's rule): a connection
//! whose first bytes are not a valid header is closed without an answer.

use std::net::SocketAddr;

use crate::buf::InBuf;
use crate::error::log_io;
use crate::proxy_protocol::{self, Proxied};
use crate::transport::Transport;

/// What the input held.
pub(super) enum ProxyStep {
    /// Not the whole header yet.
    Incomplete,
    /// The header was read (and consumed); requests follow.
    Read,
    /// Not a valid header (or, over TLS, not a handshake after it): the connection closes.
    Refused,
}

/// Reads the header from the start of `input`; a proxied TCP source becomes `peer`. Over
/// TLS, what follows the header begins the handshake: it goes to `stream`'s session.
pub(super) fn read(input: &mut InBuf, peer: &mut SocketAddr, stream: &mut Transport) -> ProxyStep {
    match proxy_protocol::parse(input.data()) {
        Ok(None) => ProxyStep::Incomplete,
        Ok(Some((proxied, len))) => {
            input.consume(len);
            if let Proxied::Tcp { source, .. } = proxied {
                *peer = source;
            }
            match stream.end_proxy_header(input.data()) {
                Ok(true) => input.clear(),
                Ok(false) => {}
                Err(e) => {
                    log_io(&e, *peer, "handshake");
                    return ProxyStep::Refused;
                }
            }
            ProxyStep::Read
        }
        Err(e) => {
            log::debug!("{peer}: PROXY header refused: {e}");
            ProxyStep::Refused
        }
    }
}
