//! `[kiosk]`, `[cameras]`, `[layouts]` → `kiosk/bundle.json`, password files and
//! `cairn-kiosk.service`.
//!
//! The service runs the `cage` compositor with the kiosk program as its only client,
//! as the dedicated user [`KIOSK_USER`] on tty1. The kiosk program (a child of
//! cage) sends `READY=1` and watchdog pings, hence `Type=notify`, `NotifyAccess=all`
//! and `WatchdogSec=`.
//!
//! The seat (DRM and input devices) comes from seatd, through its socket in the
//! `video` group, not from a logind session: a PAM session (`PAMName=`) would move
//! cage and the kiosk into a logind session scope (seen on the appliance), outside
//! the service's cgroup, where systemd does not take their notifications for the
//! service (`NotifyAccess=all` means the service's cgroup). Without a session there
//! is no `/run/user/<uid>` either, which `ProtectHome=` makes read-only anyway (cage
//! failed to create its Wayland socket there): the socket lives in the unit's own
//! `RuntimeDirectory=`.
//!
//! WebKit sandboxes its web processes with bubblewrap, which two usual protections
//! break (both seen on the appliance, each taking the whole kiosk down with its first
//! web tile): `RestrictSUIDSGID=` (its seccomp filter answers `openat2` with ENOSYS:
//! "Can't open source /etc: Function not implemented") and `ProtectKernelTunables=`
//! (its read-only overmounts under `/proc` make the kernel refuse a new proc mount in
//! the sandbox's namespaces: "Can't mount proc on /proc: Operation not permitted").
//! Neither is set; `NoNewPrivileges=` already keeps set-id programs from gaining
//! anything.
//!
//! Environment:
//! - `WLR_LIBINPUT_NO_DEVICES=1`: a display without keyboard or mouse still starts;
//! - `WLR_NO_HARDWARE_CURSORS=1`: works on GPUs (and virtio) without cursor planes;
//! - `XCURSOR_THEME=cairn-hidden`, `XCURSOR_SIZE=1`: no visible pointer (a blank
//!   cursor theme of that name is shipped by the image; without it the cursor is 1px).

use cairn_config::kiosk_bundle::{
    BundleCamera, BundleCell, BundleContent, BundleLayout, KIOSK_BUNDLE_VERSION, KioskBundle,
};
use cairn_config::{CellContent, Config, KIOSK_UNIT, KIOSK_USER, Mode, Password};

use crate::unit_file::UnitFile;
use crate::{FileKind, RenderContext, RenderError, RenderedFile, SYSTEMD_DIR};

/// Relative path of the bundle in the rendered tree.
pub const BUNDLE_PATH: &str = "kiosk/bundle.json";
/// The kiosk's service name.
pub const SERVICE: &str = "cairn-kiosk.service";
/// Seconds between watchdog pings before systemd restarts the display.
pub const WATCHDOG_SECONDS: u32 = 30;

pub(crate) fn render(config: &Config, ctx: &RenderContext) -> Result<Vec<RenderedFile>, RenderError> {
    let Some(kiosk) = config.kiosk.as_ref().filter(|k| k.enable) else { return Ok(Vec::new()) };
    let Some(default_layout) = &kiosk.default_layout else {
        return Err(RenderError::Kiosk("an enabled kiosk needs a default_layout".into()));
    };
    if !config.layouts.contains_key(&default_layout.value) {
        return Err(RenderError::Kiosk(format!("default_layout {:?} is not declared", default_layout.value)));
    }
    let mut files = Vec::new();
    let mut cameras = std::collections::BTreeMap::new();
    for (id, camera) in &config.cameras {
        let password_file = match &camera.password {
            None => None,
            Some(Password::File(path)) => Some(ctx.expand(path)),
            Some(Password::Inline(secret)) => {
                let relative = format!("kiosk/secrets/{id}.pass");
                files.push(RenderedFile {
                    path: relative.clone(),
                    kind: FileKind::Secret,
                    mode: None,
                    name: None,
                    service: None,
                    permissions: 0o600,
                    owner: Some(KIOSK_USER.to_owned()),
                    contents: secret.clone(),
                });
                Some(ctx.rendered_path(&relative))
            }
        };
        cameras.insert(
            id.clone(),
            BundleCamera {
                name: camera.name.clone(),
                main: camera.main.clone(),
                sub: camera.sub.clone(),
                username: camera.username.clone(),
                password_file,
                transport: camera.transport,
                latency_ms: camera.latency_ms,
            },
        );
    }
    let mut layouts = std::collections::BTreeMap::new();
    for (id, layout) in &config.layouts {
        let mut cells = Vec::with_capacity(layout.cells.len());
        for cell in &layout.cells {
            let content = match &cell.content {
                CellContent::Camera { camera, stream } => {
                    if !config.cameras.contains_key(&camera.value) {
                        return Err(RenderError::Kiosk(format!(
                            "layout {id:?} shows camera {:?}, which is not declared",
                            camera.value
                        )));
                    }
                    BundleContent::Camera { camera: camera.value.clone(), stream: *stream }
                }
                CellContent::Url(url) => BundleContent::Url { url: url.clone() },
                CellContent::Html(html) => BundleContent::Html { html: html.clone() },
                CellContent::HtmlFile(path) => BundleContent::HtmlFile { path: ctx.expand(path) },
            };
            cells.push(BundleCell {
                col: cell.col,
                row: cell.row,
                col_span: cell.col_span,
                row_span: cell.row_span,
                fit: cell.fit,
                content,
            });
        }
        layouts.insert(
            id.clone(),
            BundleLayout {
                name: layout.name.clone(),
                columns: layout.columns,
                rows: layout.rows,
                priority: layout.priority,
                cells,
            },
        );
    }
    let bundle = KioskBundle {
        version: KIOSK_BUNDLE_VERSION,
        default_layout: default_layout.value.clone(),
        idle_revert_seconds: kiosk.idle_revert_seconds,
        cooling_seconds: kiosk.cooling_seconds,
        local_api: kiosk.local_api.map(|a| a.to_string()),
        cameras,
        layouts,
    };
    files.push(RenderedFile::data(BUNDLE_PATH, bundle.to_json()));
    files.push(service(ctx));
    Ok(files)
}

fn service(ctx: &RenderContext) -> RenderedFile {
    let bundle = ctx.rendered_path(BUNDLE_PATH);
    let mut u = UnitFile::new("[kiosk]");
    u.section("Unit")
        .line("Description", "Cairn kiosk display (cage + cairn-kiosk)")
        .line("After", "systemd-user-sessions.service seatd.service dbus.socket getty@tty1.service")
        .line("Wants", "seatd.service dbus.socket")
        .line("Conflicts", "getty@tty1.service")
        .line("ConditionPathExists", "/dev/tty1");
    u.section("Service")
        .line("Type", "notify")
        .line("NotifyAccess", "all")
        .line("ExecStart", &format!("{} -d -s -- {} --bundle {bundle}", ctx.cage_program, ctx.kiosk_program))
        .line("Restart", "always")
        .line("RestartSec", "2")
        .line("TimeoutStartSec", "60")
        .line("WatchdogSec", &WATCHDOG_SECONDS.to_string())
        .line("User", KIOSK_USER)
        .line("SupplementaryGroups", "video render input")
        .line("RuntimeDirectory", KIOSK_USER)
        .line("RuntimeDirectoryMode", "0700")
        .line("TTYPath", "/dev/tty1")
        .line("TTYReset", "yes")
        .line("TTYVHangup", "yes")
        .line("TTYVTDisallocate", "yes")
        .line("StandardInput", "tty-fail")
        .line("StandardOutput", "journal")
        .line("StandardError", "journal")
        .line("UtmpIdentifier", "tty1")
        .line("UtmpMode", "user")
        .line("Environment", &format!("XDG_RUNTIME_DIR=/run/{KIOSK_USER}"))
        .line("Environment", "XDG_SESSION_TYPE=wayland")
        .line("Environment", "WLR_LIBINPUT_NO_DEVICES=1")
        .line("Environment", "WLR_NO_HARDWARE_CURSORS=1")
        .line("Environment", "XCURSOR_THEME=cairn-hidden")
        .line("Environment", "XCURSOR_SIZE=1")
        .line("NoNewPrivileges", "yes")
        .line("ProtectSystem", "full")
        .line("ProtectHome", "read-only")
        .line("PrivateTmp", "yes")
        .line("ProtectKernelModules", "yes")
        .line("ProtectControlGroups", "yes")
        .line("LockPersonality", "yes");
    u.section("Install").line("WantedBy", "graphical.target");
    RenderedFile {
        path: format!("{SYSTEMD_DIR}/{SERVICE}"),
        kind: FileKind::Service,
        mode: Some(Mode::Rootful),
        name: Some(KIOSK_UNIT.to_owned()),
        service: Some(SERVICE.to_owned()),
        permissions: 0o644,
        owner: None,
        contents: u.finish(),
    }
}
