//! HTTPS (cargo feature `tls`): certificates from PEM files, replaceable while the server
//! runs, and the rustls configuration [`Server::tls`](crate::Server::tls) serves with.
//!
//! TLS runs on the connection's own loop, with no thread of its own: rustls is sans-I/O,
//! so a TLS session is one more layer between the socket and the connection's buffers
//! (`tls/session.rs`). The crypto provider is *ring*, chosen explicitly: it builds with
//! a C compiler alone (no CMake or Go, which aws-lc-rs needs) and is what rustls tests
//! on every platform.
//!
//! ```no_run
//! use std::io::Write;
//! use nethttp::{Request, ResponseWriter};
//!
//! fn hello(w: &mut ResponseWriter, _r: &mut Request) {
//!     let _ = w.write_all(b"Hello over TLS!");
//! }
//!
//! nethttp::listen_and_serve_tls(":8443", "cert.pem", "key.pem", hello)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::path::Path;
use std::sync::{Arc, RwLock};

pub use rustls;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

pub(crate) mod session;

/// The crypto provider nethttp's own configurations use: *ring*, with its default
/// cipher suites and key exchange groups (X25519, P-256, P-384).
///
/// *ring* has no post-quantum key exchange (X25519MLKEM768, which Go 1.24 offers by
/// default), and rustls marks its *ring* provider deprecated for that reason. A service
/// that wants it builds its own `ServerConfig` with the aws-lc-rs provider (which needs
/// CMake to build) and passes it to [`Server::tls`](crate::Server::tls).
#[allow(deprecated)] // the reason is above: ring, for a build that needs only a C compiler
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The server's certificate, which can be replaced while the server runs: connections
/// that begin after [`reload`](Certificates::reload) get the new one, those already open
/// keep theirs. Go's `tls.Config.GetCertificate` serves the same need.
///
/// ```no_run
/// use nethttp::tls::Certificates;
///
/// let certs = Certificates::from_pem_files("cert.pem", "key.pem")?;
/// let config = nethttp::tls::server_config(certs.clone());
/// // ... start a Server with `.tls(config)`; later, when the files are renewed:
/// certs.reload("cert.pem", "key.pem")?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Certificates {
    current: RwLock<Arc<CertifiedKey>>,
}

impl Certificates {
    /// The certificate chain in `cert` (PEM, leaf first) with the private key in `key`
    /// (PEM: PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem_files(
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> io::Result<Arc<Certificates>> {
        let key = load_pem(cert.as_ref(), key.as_ref())?;
        Ok(Arc::new(Certificates {
            current: RwLock::new(Arc::new(key)),
        }))
    }

    /// Reads `cert` and `key` again and serves them to new connections. On an error the
    /// old certificate stays.
    pub fn reload(&self, cert: impl AsRef<Path>, key: impl AsRef<Path>) -> io::Result<()> {
        let key = load_pem(cert.as_ref(), key.as_ref())?;
        self.replace(Arc::new(key));
        Ok(())
    }

    /// Serves `key` to new connections.
    pub fn replace(&self, key: Arc<CertifiedKey>) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = key;
    }

    /// The certificate new connections get.
    pub fn current(&self) -> Arc<CertifiedKey> {
        Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()))
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// A certificate chain and its private key from PEM files, checked to belong together.
fn load_pem(cert: &Path, key: &Path) -> io::Result<CertifiedKey> {
    let invalid = |what: &Path, e: &dyn std::fmt::Display| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", what.display()),
        )
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| invalid(cert, &e))?;
    if chain.is_empty() {
        return Err(invalid(cert, &"no certificate in the file"));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| invalid(key, &e))?;
    CertifiedKey::from_der(chain, private, &provider()).map_err(|e| invalid(key, &e))
}

/// The configuration [`listen_and_serve_tls`](crate::listen_and_serve_tls) uses: TLS 1.3
/// and 1.2 with *ring*'s cipher suites, no client certificates, ALPN `http/1.1`, and
/// `certs` as the certificate.
pub fn server_config(certs: Arc<Certificates>) -> Arc<ServerConfig> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports TLS 1.2 and 1.3")
        .with_no_client_auth()
        .with_cert_resolver(certs);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}
