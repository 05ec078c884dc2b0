//! hyper's peer for benches/bigfile.sh: one tokio `current_thread` runtime (a single OS
//! thread runs the accept loop and every connection task), HTTP/1.1, keep-alive on.
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /{name}` | the file DIR/name, read in 512 KiB pieces by std reads on tokio's blocking pool (hyper has no sendfile: every byte is copied through the process) |
//! | `GET /bytes/{n}` | n bytes `a..z` repeated, each 64 KiB frame copied into a buffer of its own from one run of `a..z` (hyper takes owned frames) |
//! | `POST /upload` | reads the body frame by frame and drops it: `received <n> bytes` |
//!
//! Usage: bigfile-hyper ADDR DIR
use std::convert::Infallible;
use std::fs::File;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{ready, Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

type Reply = Response<UnsyncBoxBody<Bytes, io::Error>>;

/// Bytes of a file read per blocking-pool job.
const FILE_PIECE: usize = 512 * 1024;
/// Bytes of `/bytes/{n}` generated per frame (what nethttp's echo and the Go peer use).
const GENERATED_PIECE: usize = 64 * 1024;

/// A file's bytes from `offset` on, one blocking read at a time.
struct FileBody {
    file: Arc<File>,
    offset: u64,
    left: u64,
    reading: Option<JoinHandle<io::Result<Bytes>>>,
}

impl Body for FileBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        if self.reading.is_none() {
            let (file, offset) = (self.file.clone(), self.offset);
            let want = self.left.min(FILE_PIECE as u64) as usize;
            self.reading = Some(tokio::task::spawn_blocking(move || {
                let mut piece = BytesMut::zeroed(want);
                let got = file.read_at(&mut piece, offset)?;
                if got == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the file shrank",
                    ));
                }
                piece.truncate(got);
                Ok(piece.freeze())
            }));
        }
        let joined = ready!(Pin::new(self.reading.as_mut().unwrap()).poll(cx));
        self.reading = None;
        let piece = joined.map_err(io::Error::other).and_then(|read| read)?;
        self.offset += piece.len() as u64;
        self.left -= piece.len() as u64;
        Poll::Ready(Some(Ok(Frame::data(piece))))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}

/// `left` more bytes of `a..z`, byte i of the body being `b'a' + i % 26`.
struct Generated {
    sent: u64,
    left: u64,
}

/// `a..z` repeated for 64 KiB + 26 bytes: the frame that starts at byte `sent` is the
/// part of it from `sent % 26` on (what nethttp's echo example and the Go peer write from).
fn run() -> &'static [u8] {
    static RUN: OnceLock<Vec<u8>> = OnceLock::new();
    RUN.get_or_init(|| {
        (0..GENERATED_PIECE + 26)
            .map(|i| b'a' + (i % 26) as u8)
            .collect()
    })
}

impl Body for Generated {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let len = self.left.min(GENERATED_PIECE as u64) as usize;
        let start = (self.sent % 26) as usize;
        let piece = Bytes::copy_from_slice(&run()[start..start + len]);
        self.sent += len as u64;
        self.left -= len as u64;
        Poll::Ready(Some(Ok(Frame::data(piece))))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}

fn text(status: StatusCode, body: String) -> Reply {
    let body = Full::new(Bytes::from(body)).map_err(|never: Infallible| match never {});
    let mut res = Response::new(body.boxed_unsync());
    *res.status_mut() = status;
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

fn sized(body: impl Body<Data = Bytes, Error = io::Error> + Send + 'static, len: u64) -> Reply {
    let mut res = Response::new(body.boxed_unsync());
    let headers = res.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
    res
}

async fn route(req: Request<Incoming>, dir: Arc<PathBuf>) -> Result<Reply, Infallible> {
    let path = req.uri().path().to_string();
    if req.method() == Method::POST && path == "/upload" {
        let mut body = req.into_body();
        let mut n = 0u64;
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(frame) => n += frame.data_ref().map_or(0, |data| data.len() as u64),
                Err(e) => {
                    return Ok(text(
                        StatusCode::BAD_REQUEST,
                        format!("reading the body: {e}"),
                    ))
                }
            }
        }
        return Ok(text(StatusCode::OK, format!("received {n} bytes")));
    }
    if req.method() != Method::GET {
        return Ok(text(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed\n".into(),
        ));
    }
    if let Some(n) = path.strip_prefix("/bytes/") {
        return Ok(match n.parse::<u64>() {
            Ok(n) => sized(Generated { sent: 0, left: n }, n),
            Err(_) => text(StatusCode::BAD_REQUEST, "n must be a number\n".into()),
        });
    }
    let name = &path[1..];
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return Ok(text(StatusCode::NOT_FOUND, "404 page not found\n".into()));
    }
    Ok(match open(&dir.join(name)) {
        Ok((file, len)) => sized(
            FileBody {
                file: Arc::new(file),
                offset: 0,
                left: len,
                reading: None,
            },
            len,
        ),
        Err(_) => text(StatusCode::NOT_FOUND, "404 page not found\n".into()),
    })
}

fn open(path: &Path) -> io::Result<(File, u64)> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    Ok((file, len))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(dir)) = (args.next(), args.next()) else {
        eprintln!("usage: bigfile-hyper ADDR DIR");
        std::process::exit(2);
    };
    let addr: SocketAddr = addr.parse().expect("ADDR: host:port");
    let dir = Arc::new(PathBuf::from(dir));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let listener = TcpListener::bind(addr).await.expect("bind");
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(s) => s,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    eprintln!("accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let dir = dir.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| route(req, dir.clone()));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}
