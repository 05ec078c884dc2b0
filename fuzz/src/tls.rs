//! TLS for the fuzz targets: the server configuration with the test certificate
//! (`tests/tls/`), and a client that speaks plain or TLS over a Unix-domain socket.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;

use nethttp::tls::rustls::pki_types::pem::PemObject;
use nethttp::tls::rustls::pki_types::{CertificateDer, ServerName};
use nethttp::tls::rustls::{self, ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use nethttp::tls::{server_config as config_for, Certificates};

fn file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/tls")
        .join(name)
}

/// The server configuration for the test certificate.
pub fn server_config() -> Arc<rustls::ServerConfig> {
    let certs = Certificates::from_pem_files(file("cert.pem"), file("key.pem")).expect("cert");
    config_for(certs)
}

/// A client configuration trusting the test CA, offering ALPN `http/1.1`.
pub fn client_config() -> Arc<ClientConfig> {
    static CONFIG: std::sync::OnceLock<Arc<ClientConfig>> = std::sync::OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_file(file("ca.pem")).expect("ca.pem"))
            .expect("CA");
        let mut config = ClientConfig::builder_with_provider(nethttp::tls::provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    });
    Arc::clone(config)
}

/// A fuzz client's connection: the socket, or a TLS session over it.
pub enum Client {
    Plain(UnixStream),
    Tls(Box<StreamOwned<ClientConnection, UnixStream>>),
}

impl Client {
    /// A connection over `socket`; with `tls`, after a finished handshake.
    pub fn new(socket: UnixStream, tls: bool) -> Client {
        if !tls {
            return Client::Plain(socket);
        }
        let name = ServerName::try_from("localhost").unwrap();
        let session = ClientConnection::new(client_config(), name).expect("client session");
        let mut stream = StreamOwned::new(session, socket);
        while stream.conn.is_handshaking() {
            stream
                .conn
                .complete_io(&mut stream.sock)
                .expect("TLS handshake with the fuzz server");
        }
        Client::Tls(Box::new(stream))
    }

    /// The client's end of file: `close_notify` over TLS, then a half-close.
    pub fn end(&mut self) {
        if let Client::Tls(stream) = self {
            stream.conn.send_close_notify();
            let _ = stream.conn.complete_io(&mut stream.sock);
        }
        let _ = self.socket().shutdown(Shutdown::Write);
    }

    fn socket(&self) -> &UnixStream {
        match self {
            Client::Plain(socket) => socket,
            Client::Tls(stream) => &stream.sock,
        }
    }
}

impl Read for Client {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Client::Plain(socket) => socket.read(buf),
            Client::Tls(stream) => read_plaintext(stream, buf),
        }
    }
}

/// Reads decrypted bytes only: unlike `StreamOwned::read`, it writes nothing first (after
/// the client's `close_notify` the server may have closed, and a write would fail).
fn read_plaintext(
    stream: &mut StreamOwned<ClientConnection, UnixStream>,
    buf: &mut [u8],
) -> io::Result<usize> {
    loop {
        match stream.conn.reader().read(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            other => return other,
        }
        stream.conn.read_tls(&mut stream.sock)?;
        stream
            .conn
            .process_new_packets()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    }
}

impl Write for Client {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Client::Plain(socket) => socket.write(buf),
            Client::Tls(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Client::Plain(socket) => socket.flush(),
            Client::Tls(stream) => stream.flush(),
        }
    }
}
