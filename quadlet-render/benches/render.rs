//! Rendering a config with 1,000 containers (half rootful, half rootless, each with
//! a published port and a shared volume), to keep `render` cheap enough to run on
//! every validate/plan of a small device.

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

fn config_with(containers: usize) -> cairn_config::Config {
    let mut s = String::from(
        "version = 1\n[users.admin]\nisAdmin = true\nssh_key = \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINMeyLr+EOiFUGkNDE86YOpdLvmMSDdge2ci2auycMLj bench\"\n[activation]\nrequired = [\"c0\"]\n[containers.volume.shared.Volume]\nLabel = \"app=bench\"\n",
    );
    for i in 0..containers {
        let privileged = i % 2 == 0;
        let _ = write!(
            s,
            "[containers.container.c{i}]\nprivileged = {privileged}\n[containers.container.c{i}.Container]\nImage = \"registry.example.com/app:{i}\"\nVolume = [\"shared:/shared\", \"${{FILES_DIR}}/c{i}:/etc/app:ro\"]\nEnvironment = [\"INDEX={i}\", \"CONFIG=${{CONFIG_DIR}}/c{i}.json\"]\n"
        );
        if !privileged {
            let _ = writeln!(s, "PublishPort = \"{}:80\"", 10_000 + i);
        }
        let _ = write!(s, "[containers.container.c{i}.Service]\nRestart = \"always\"\n");
    }
    let validated = cairn_config::validate(s.as_bytes());
    validated.config.unwrap_or_else(|| panic!("bench config is invalid: {:?}", validated.diagnostics))
}

fn bench(c: &mut Criterion) {
    let config = config_with(1000);
    let ctx = quadlet_render::RenderContext::device();
    let rendered = quadlet_render::render(&config, &ctx).expect("renders");
    assert!(rendered.manifest.units.len() > 1000);
    c.bench_function("render 1000 containers", |b| {
        b.iter(|| quadlet_render::render(black_box(&config), black_box(&ctx)).expect("renders"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
