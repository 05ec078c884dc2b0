//! Criterion benches of the pure code on the hot path: parsing a request head and encoding
//! a response. Run with `cargo bench --bench codec`.

use std::hint::black_box;
use std::io::Write;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nethttp::bench;

/// The head wrk sends in the shared benchmark (TechEmpower's plaintext headers).
const WRK_HEAD: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\
Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n\
Connection: keep-alive\r\n\r\n";

/// A browser-like head with cookies.
const BROWSER_HEAD: &[u8] = b"GET /static/app.js?v=3 HTTP/1.1\r\nHost: example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36\r\n\
Accept: */*\r\nAccept-Language: en-US,en;q=0.9\r\nAccept-Encoding: gzip, deflate, br\r\n\
Referer: https://example.com/\r\nCookie: session=0123456789abcdef0123456789abcdef; theme=dark\r\n\
Sec-Fetch-Dest: script\r\nSec-Fetch-Mode: no-cors\r\n\r\n";

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_head");
    for (name, head) in [("wrk", WRK_HEAD), ("browser", BROWSER_HEAD)] {
        group.throughput(Throughput::Bytes(head.len() as u64));
        group.bench_function(name, |b| b.iter(|| bench::parse_head(black_box(head))));
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode_response");
    group.bench_function("hello", |b| {
        let mut out = Vec::with_capacity(4096);
        let mut responder = bench::Responder::default();
        b.iter(|| {
            out.clear();
            responder.respond(&mut out, |w| {
                let _ = w.write_all(black_box(b"Hello, World!"));
            });
            black_box(out.len())
        })
    });
    group.bench_function("chunked_4x1k", |b| {
        let mut out = Vec::with_capacity(8192);
        let mut responder = bench::Responder::default();
        b.iter(|| {
            out.clear();
            responder.respond(&mut out, |w| {
                for _ in 0..4 {
                    let _ = w.write_all(&[b'x'; 1024]);
                    let _ = w.flush();
                }
            });
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group!(benches, parse, encode);
criterion_main!(benches);
