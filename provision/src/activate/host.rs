//! Host settings outside Quadlet — accounts, networkd, nftables, dnsmasq, chrony — each
//! applied only when its rendered input changed (the plan says which). Behind a trait so
//! dev mode and tests never touch the host. Commands run with argv, never a shell.
//! Accounts are `users/`: the device applies them to the root file system's account database.

use std::fmt;
use std::path::{Path, PathBuf};

use super::BoxFuture;
use super::command::run;
use crate::plan::HostSetting;

/// Applies one host setting from a generation's rendered tree.
pub trait HostSettings: Send + Sync + fmt::Debug {
    fn apply<'a>(&'a self, setting: HostSetting, rendered: &'a Path) -> BoxFuture<'a, Result<String, String>>;
}

/// The device: files are exposed under /run (the root file system is read-only) and the
/// owning daemon is told to reload. The image must point dnsmasq at
/// `/run/cairn/dnsmasq.conf` and chronyd at `/run/cairn/chrony.conf`.
#[derive(Debug, Default)]
pub struct DeviceHost;

/// Where networkd reads runtime `.network` files.
const NETWORKD_RUNTIME: &str = "/run/systemd/network";
const CAIRN_RUNTIME: &str = "/run/cairn";

impl HostSettings for DeviceHost {
    fn apply<'a>(&'a self, setting: HostSetting, rendered: &'a Path) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            match setting {
                HostSetting::Users => super::users::apply(Path::new("/"), &rendered.join("users.json")).await,
                HostSetting::Network => {
                    let n = link_dir(&rendered.join("network/networkd"), Path::new(NETWORKD_RUNTIME))?;
                    run(&["networkctl", "reload"]).await?;
                    Ok(format!("networkd reloaded ({n} files)"))
                }
                HostSetting::Firewall => {
                    let file = rendered.join("firewall/nftables.conf");
                    run(&["nft", "-c", "-f", &file.display().to_string()]).await?;
                    run(&["nft", "-f", &file.display().to_string()]).await?;
                    Ok("nftables ruleset loaded".into())
                }
                HostSetting::Dnsmasq => {
                    let file = link_file(&rendered.join("network/dnsmasq.conf"), "dnsmasq.conf")?;
                    run(&["dnsmasq", "--test", "-C", &file.display().to_string()]).await?;
                    run(&["systemctl", "restart", "dnsmasq.service"]).await?;
                    Ok("dnsmasq restarted".into())
                }
                HostSetting::Chrony => {
                    let file = link_file(&rendered.join("network/chrony.conf"), "chrony.conf")?;
                    run(&["chronyd", "-p", "-f", &file.display().to_string()]).await?;
                    run(&["systemctl", "restart", "chrony.service"]).await?;
                    Ok("chrony restarted".into())
                }
                // cairn-kiosk.service is a unit in the plan; its inputs only need it restarted.
                HostSetting::Kiosk => Ok("kiosk inputs changed; cairn-kiosk.service follows the unit plan".into()),
            }
        })
    }
}

fn link_file(source: &Path, name: &str) -> Result<PathBuf, String> {
    let dir = Path::new(CAIRN_RUNTIME);
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let link = dir.join(name);
    replace_link(source, &link)?;
    Ok(link)
}

/// Links every file of `source` into `target`, removing links of ours that are gone.
fn link_dir(source: &Path, target: &Path) -> Result<usize, String> {
    std::fs::create_dir_all(target).map_err(|e| format!("creating {}: {e}", target.display()))?;
    let wanted: Vec<_> = std::fs::read_dir(source).into_iter().flatten().flatten().map(|e| e.file_name()).collect();
    for entry in std::fs::read_dir(target).into_iter().flatten().flatten() {
        let ours = std::fs::read_link(entry.path()).is_ok_and(|t| t.parent() == Some(source));
        if ours && !wanted.contains(&entry.file_name()) {
            std::fs::remove_file(entry.path()).map_err(|e| format!("removing {}: {e}", entry.path().display()))?;
        }
    }
    for name in &wanted {
        replace_link(&source.join(name), &target.join(name))?;
    }
    Ok(wanted.len())
}

fn replace_link(source: &Path, link: &Path) -> Result<(), String> {
    let tmp = link.with_extension("cairn-tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(source, &tmp).map_err(|e| format!("linking {}: {e}", link.display()))?;
    std::fs::rename(&tmp, link).map_err(|e| format!("linking {}: {e}", link.display()))
}
