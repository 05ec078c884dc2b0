//! A TLS client for the behaviour tests: rustls over a blocking `TcpStream`, trusting the
//! test CA in `tests/tls/`, and the server configuration for the test certificate.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use nethttp::tls::rustls::pki_types::pem::PemObject;
use nethttp::tls::rustls::pki_types::{CertificateDer, ServerName};
use nethttp::tls::rustls::{self, ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use nethttp::tls::{server_config, Certificates};

/// A file in `tests/tls/`.
pub fn file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/tls")
        .join(name)
}

/// The test certificate (localhost, 127.0.0.1, ::1), reloadable.
pub fn certificates() -> Arc<Certificates> {
    Certificates::from_pem_files(file("cert.pem"), file("key.pem")).expect("test certificate")
}

/// The server configuration for the test certificate.
pub fn config() -> Arc<rustls::ServerConfig> {
    server_config(certificates())
}

/// A client configuration trusting the test CA, offering ALPN `http/1.1` and the given
/// protocol versions.
pub fn client_config(versions: &[&'static rustls::SupportedProtocolVersion]) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(file("ca.pem")).expect("ca.pem"))
        .expect("CA");
    let mut config = ClientConfig::builder_with_provider(nethttp::tls::provider())
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// A TLS client connection.
pub type Client = StreamOwned<ClientConnection, TcpStream>;

/// Connects to `addr` with TLS 1.3 or 1.2 and finishes the handshake (5 s read timeout).
pub fn connect(addr: SocketAddr) -> Client {
    connect_with(addr, client_config(rustls::ALL_VERSIONS))
}

/// Connects with `config` and finishes the handshake.
pub fn connect_with(addr: SocketAddr, config: Arc<ClientConfig>) -> Client {
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let session = ClientConnection::new(config, name).expect("client session");
    let mut client = StreamOwned::new(session, tcp);
    while client.conn.is_handshaking() {
        client
            .conn
            .complete_io(&mut client.sock)
            .expect("TLS handshake");
    }
    client
}

/// Reads until the server's `close_notify` (`Ok(bytes)`) or another end (`Err`).
pub fn read_to_close_notify(client: &mut Client) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    client.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Sends `raw` over a fresh TLS connection and reads until the server closes.
pub fn exchange(addr: SocketAddr, raw: &[u8]) -> Vec<u8> {
    let mut client = connect(addr);
    client.write_all(raw).expect("write");
    let mut answer = Vec::new();
    let _ = client.read_to_end(&mut answer);
    answer
}
