//! Validating a large device config: 1,000 containers, 200 cameras, 50 layouts.

use std::fmt::Write;

use criterion::{Criterion, criterion_group, criterion_main};

const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINMeyLr+EOiFUGkNDE86YOpdLvmMSDdge2ci2auycMLj bench@cairn";

/// A config the size of a large site: every container with several directives, every
/// layout a full 4×4 grid of camera and web cells.
pub fn large_config() -> String {
    let mut s = String::new();
    writeln!(s, "version = 1\n\n[users.admin]\nisAdmin = true\nssh_key = \"{ED25519}\"\n").unwrap();
    writeln!(s, "[activation]\nrequired = [\"c0\", \"c1\", \"kiosk\"]\n").unwrap();
    for i in 0..1000 {
        let privileged = i % 4 == 0;
        writeln!(s, "[containers.container.c{i}]\nprivileged = {privileged}").unwrap();
        writeln!(s, "[containers.container.c{i}.Container]\nImage = \"registry.example.com/app{i}:1.{i}\"").unwrap();
        writeln!(s, "Environment = [\"INDEX={i}\", \"DATA=${{FILES_DIR}}/c{i}\", \"HOME=%h\"]").unwrap();
        writeln!(s, "Volume = \"v{}.volume:/data:Z\"", i % 100).unwrap();
        if !privileged {
            writeln!(s, "PublishPort = \"{}:80\"", 10000 + i).unwrap();
        }
        writeln!(s, "[containers.container.c{i}.Service]\nRestart = \"always\"\n").unwrap();
    }
    for v in 0..100 {
        writeln!(s, "[containers.volume.v{v}.Volume]\nLabel = \"set={v}\"\n").unwrap();
    }
    writeln!(s, "[kiosk]\nenable = true\ndefault_layout = \"l0\"\n").unwrap();
    for c in 0..200 {
        writeln!(s, "[cameras.cam{c}]\nmain = \"rtsp://10.0.{}.{}:554/main\"\nsub = \"rtsp://10.0.{}.{}:554/sub\"\nusername = \"viewer\"\npassword_file = \"${{FILES_DIR}}/cam{c}.pass\"\n", c / 200, c % 200 + 1, c / 200, c % 200 + 1).unwrap();
    }
    for l in 0..50 {
        writeln!(s, "[layouts.l{l}]\ncolumns = 4\nrows = 4").unwrap();
        for cell in 0..16 {
            let (col, row) = (cell % 4, cell / 4);
            if cell % 5 == 4 {
                writeln!(
                    s,
                    "[[layouts.l{l}.cells]]\nurl = \"https://status.example.com/{l}/{cell}\"\ncol = {col}\nrow = {row}"
                )
                .unwrap();
            } else {
                writeln!(
                    s,
                    "[[layouts.l{l}.cells]]\ncamera = \"cam{}\"\ncol = {col}\nrow = {row}",
                    (l * 16 + cell) % 200
                )
                .unwrap();
            }
        }
        writeln!(s).unwrap();
    }
    s
}

fn bench(c: &mut Criterion) {
    let config = large_config();
    let validated = cairn_config::validate(config.as_bytes());
    assert!(validated.is_valid(), "the benchmark config must be valid: {:?}", validated.diagnostics.first());
    let mut group = c.benchmark_group("validate");
    group.throughput(criterion::Throughput::Bytes(config.len() as u64));
    group.bench_function("1000 containers, 200 cameras, 50 layouts", |b| {
        b.iter(|| cairn_config::validate(std::hint::black_box(config.as_bytes())))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
