//! `provision render <config.toml | bundle> --out DIR`: write the rendered tree.
//!
//! Invalid configs print their diagnostics and exit 1 without writing anything. The
//! output directory must be empty (or absent) unless `--force` is given, so an
//! earlier render is never silently mixed with a new one.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use quadlet_render::{RenderContext, RenderedFile};

use super::exit;
use crate::input;
use crate::report;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A config.toml, or a .tar.gz / .tar.zst bundle holding one.
    path: PathBuf,
    /// Directory to write the rendered tree into (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Write into a non-empty directory, replacing files of the same name.
    #[arg(long)]
    force: bool,
}

pub(super) fn run(args: &Args) -> u8 {
    let input = match input::read(&args.path) {
        Ok(input) => input,
        Err(e) => {
            eprintln!("error: {e:#}");
            return exit::UNREADABLE;
        }
    };
    let validated = cairn_config::validate(&input.config_toml);
    let Some(config) = &validated.config else {
        report::human(&mut anstream::stderr(), &input.origin, &input.config_toml, &validated);
        return exit::INVALID;
    };
    if validated.warnings().next().is_some() {
        report::human(&mut anstream::stderr(), &input.origin, &input.config_toml, &validated);
    }
    let rendered = match quadlet_render::render(config, &RenderContext::device()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: rendering {}: {e}", input.origin);
            return exit::INVALID;
        }
    };
    match write_tree(&args.out, &rendered.all_files(), args.force) {
        Ok(()) => {
            eprintln!("{}: rendered {} files into {}", input.origin, rendered.files.len() + 1, args.out.display());
            exit::VALID
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            exit::UNREADABLE
        }
    }
}

fn write_tree(out: &Path, files: &[RenderedFile], force: bool) -> Result<()> {
    match fs::read_dir(out) {
        Ok(mut entries) => {
            if entries.next().is_some() && !force {
                bail!("{} is not empty (use --force to write into it)", out.display());
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", out.display())),
    }
    for file in files {
        let path = out.join(&file.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        write_file(&path, file.contents.as_bytes(), file.permissions)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Writes through a temporary file in the same directory, created with the final
/// permissions (a secret is never readable by others, even briefly), then renamed.
fn write_file(path: &Path, contents: &[u8], permissions: u32) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let tmp = path.with_extension("cairn-tmp");
    let _ = fs::remove_file(&tmp);
    let mut f = fs::OpenOptions::new().write(true).create_new(true).mode(permissions).open(&tmp)?;
    f.write_all(contents)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)
}
