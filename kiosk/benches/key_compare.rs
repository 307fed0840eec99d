//! Evidence that the local API key check is constant-time: a guess wrong in its first
//! byte and one wrong only in its last byte take the same time to reject. Compare the
//! two reported times (the ratio should be ~1.0; an early-exit compare would make the
//! first much faster).

use std::hint::black_box;

use cairn_kiosk::local_api::LocalKey;
use criterion::{Criterion, criterion_group, criterion_main};

const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn compare(c: &mut Criterion) {
    let key = LocalKey::from_hex(KEY).unwrap();
    let wrong_first = format!("f{}", &KEY[1..]);
    let wrong_last = format!("{}0", &KEY[..63]);
    let mut g = c.benchmark_group("local key compare");
    g.bench_function("wrong first byte", |b| b.iter(|| key.matches(black_box(&wrong_first))));
    g.bench_function("wrong last byte", |b| b.iter(|| key.matches(black_box(&wrong_last))));
    g.bench_function("right key", |b| b.iter(|| key.matches(black_box(KEY))));
    g.finish();
}

criterion_group!(benches, compare);
criterion_main!(benches);
