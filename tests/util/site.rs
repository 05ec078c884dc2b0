//! A site to serve files from: a directory tree with a secret just outside its root, a
//! `file_server` over it, and requests with extra header lines against it.

use std::fs;
use std::io::{BufReader, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use nethttp::{file_server, Running};

use super::{connect, read_response, serve, Response, TempDir};

pub const HELLO: &str = "Hello, files!\n";
pub const SECRET: &str = "TOP SECRET: outside the root";

/// A parent directory holding `secret.txt` and the served `root/`:
///
/// ```text
/// secret.txt              outside the root
/// root/hello.txt          root/page.html     root/style.css    root/digits.txt
/// root/notes              (text, no extension)
/// root/blob.unknownext    (binary)
/// root/sub/index.html     root/empty/
/// root/list/…             names that need escaping, and a directory
/// root/inside -> hello.txt          a link within the root
/// root/escape -> ../secret.txt      a link out of it
/// root/escape-dir -> ..             a link to the parent directory
/// ```
pub struct Site {
    pub dir: TempDir,
    pub root: PathBuf,
}

/// Builds the tree pictured at [`Site`] in a fresh temporary directory.
pub fn site(name: &str) -> Site {
    let dir = TempDir::new(name);
    let root = dir.0.join("root");
    let write = |rel: &str, bytes: &[u8]| {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    };
    fs::write(dir.0.join("secret.txt"), SECRET).unwrap();
    write("hello.txt", HELLO.as_bytes());
    write("page.html", b"<!doctype html><title>t</title><p>page");
    write("style.css", b"body { color: red }");
    write("digits.txt", b"0123456789");
    write("notes", b"plain words, no extension");
    write("blob.unknownext", &[0, 1, 2, 3, 0xff, 0xfe]);
    write("sub/index.html", b"<h1>sub index</h1>");
    fs::create_dir_all(root.join("empty")).unwrap();
    for name in [
        "b.txt",
        "a.txt",
        "<x>&'\".txt",
        "q?#%.txt",
        "sp ace.txt",
        "é.txt",
    ] {
        write(&format!("list/{name}"), b"x");
    }
    fs::create_dir_all(root.join("list/zdir")).unwrap();
    fs::create_dir_all(root.join("list/Adir")).unwrap();
    std::os::unix::fs::symlink("hello.txt", root.join("inside")).unwrap();
    std::os::unix::fs::symlink("../secret.txt", root.join("escape")).unwrap();
    std::os::unix::fs::symlink("..", root.join("escape-dir")).unwrap();
    Site { dir, root }
}

/// Builds a site and serves its root with `file_server`.
pub fn start_site(name: &str) -> (Site, Running) {
    let site = site(name);
    let server = serve(file_server(&site.root));
    (site, server)
}

/// Sends `method target` with extra header lines and reads the one response.
pub fn request(addr: SocketAddr, method: &str, target: &str, headers: &[(&str, &str)]) -> Response {
    let mut raw = format!("{method} {target} HTTP/1.1\r\nHost: x\r\n");
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str("Connection: close\r\n\r\n");
    let mut stream = connect(addr);
    stream.write_all(raw.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    read_response(&mut reader, method == "HEAD").expect("a response")
}

/// A GET for `target`.
pub fn get(addr: SocketAddr, target: &str) -> Response {
    request(addr, "GET", target, &[])
}

/// A GET for `target` with extra header lines.
pub fn get_with(addr: SocketAddr, target: &str, headers: &[(&str, &str)]) -> Response {
    request(addr, "GET", target, headers)
}
