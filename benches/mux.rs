//! Criterion bench of `ServeMux` routing: one lookup among 10, 100 and 1,000 registered
//! routes. The routing tree keys each level by literal segment, so the cost should stay
//! flat as routes are added. Run with `cargo bench --bench mux`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use nethttp::{bench, Request, ResponseWriter, ServeMux};

fn noop(_: &mut ResponseWriter, _: &mut Request) {}

/// A mux with `n` routes shaped like a REST API's: per resource a collection, an item
/// with a wildcard, and a method-specific write; plus a catch-all.
fn api(n: usize) -> ServeMux {
    let mut mux = ServeMux::new();
    mux.handle("/", noop);
    for i in 0..(n - 1) / 3 {
        mux.handle(&format!("GET /api/v1/resource{i}"), noop);
        mux.handle(&format!("GET /api/v1/resource{i}/{{id}}"), noop);
        mux.handle(&format!("PUT /api/v1/resource{i}/{{id}}"), noop);
    }
    mux
}

fn route(c: &mut Criterion) {
    let mut group = c.benchmark_group("mux_route");
    for n in [10, 100, 1000] {
        let mux = api(n);
        // A resource in the middle of those registered, with a wildcard value.
        let target = format!("/api/v1/resource{}/42", (n - 1) / 6);
        let item = bench::request("GET", &target, "example.com");
        assert!(bench::route(&mux, &item), "{target} must match");
        group.bench_with_input(BenchmarkId::new("item", n), &item, |b, r| {
            b.iter(|| bench::route(black_box(&mux), black_box(r)))
        });
        let fallback = bench::request("GET", "/about/team", "example.com");
        group.bench_with_input(BenchmarkId::new("catch_all", n), &fallback, |b, r| {
            b.iter(|| bench::route(black_box(&mux), black_box(r)))
        });
    }
    group.finish();
}

criterion_group!(benches, route);
criterion_main!(benches);
