//! `kiosk`: shows the layouts of a kiosk bundle full-screen (with the `display` feature),
//! or checks a bundle and prints what each layout would run (`--check`, always available).

use std::path::PathBuf;

use anyhow::Context;
use cairn_kiosk::bundle::KioskBundle;
use cairn_kiosk::pool::layout_tiles;
use clap::Parser;

#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The kiosk bundle (`kiosk/bundle.json` of the current generation).
    #[arg(long, default_value = cairn_kiosk::DEFAULT_BUNDLE)]
    bundle: PathBuf,
    /// Where the local API key lives (created 0600 on first start).
    #[arg(long, default_value = cairn_kiosk::DEFAULT_STATE_DIR)]
    state_dir: PathBuf,
    /// Check the bundle, print every layout's tiles for a 1920x1080 screen, and exit.
    #[arg(long)]
    check: bool,
    /// Start on this layout instead of the bundle's default.
    #[arg(long)]
    layout: Option<String>,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    let bundle =
        cairn_kiosk::bundle::load(&args.bundle).with_context(|| format!("loading {}", args.bundle.display()))?;
    if args.check {
        for id in bundle.layouts.keys() {
            println!("layout {id}:");
            for t in layout_tiles(&bundle, id, 1920, 1080) {
                let r = t.rect;
                println!("  {}x{}+{}+{} {}", r.width, r.height, r.x, r.y, t.key.label());
            }
        }
        return Ok(());
    }
    run(bundle, args)
}

#[cfg(feature = "display")]
fn run(bundle: KioskBundle, args: Args) -> anyhow::Result<()> {
    cairn_kiosk::display::run(cairn_kiosk::display::Options {
        bundle_path: args.bundle,
        bundle,
        state_dir: args.state_dir,
        initial_layout: args.layout,
    })
}

#[cfg(not(feature = "display"))]
fn run(_: KioskBundle, _: Args) -> anyhow::Result<()> {
    anyhow::bail!("this kiosk was built without the `display` feature; only --check is available")
}
