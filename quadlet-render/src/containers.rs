//! `[containers.*]` → Quadlet files, one per resource and manager.
//!
//! - Containers run rootful on the host network when `privileged`, else rootless on
//!   pasta with published ports bound to 127.0.0.1.
//! - Networks are rootful; volumes, builds and pods are rendered for each manager
//!   whose containers use them ([`cairn_config::Containers::modes`]).
//! - A bare `Volume=name:/dst` naming a declared volume is rewritten to
//!   `name.volume:/dst`, so both spellings use the same Quadlet volume unit.
//! - Containers without an `[Install]` section are wanted by the manager's default
//!   target, so they start at boot.

use std::collections::BTreeMap;

use cairn_config::{
    Config, Containers, Mode, QuadletUnit, Section, SectionKind, UnitKind, UnitValue, loopback_publish,
    volume_reference,
};

use crate::unit_file::UnitFile;
use crate::{FileKind, QUADLET_ROOTFUL_DIR, QUADLET_ROOTLESS_DIR, RenderContext, RenderError, RenderedFile};

/// The target a container is wanted by when the config gives no `[Install]`.
pub(crate) fn default_wanted_by(mode: Mode) -> &'static str {
    match mode {
        Mode::Rootful => "multi-user.target",
        Mode::Rootless => "default.target",
    }
}

pub(crate) fn dir(mode: Mode) -> &'static str {
    match mode {
        Mode::Rootful => QUADLET_ROOTFUL_DIR,
        Mode::Rootless => QUADLET_ROOTLESS_DIR,
    }
}

pub(crate) fn render(config: &Config, ctx: &RenderContext) -> Result<Vec<RenderedFile>, RenderError> {
    let all = &config.containers;
    let modes = all.modes();
    let mut out = Vec::new();
    for unit in all.all() {
        let Some(unit_modes) = modes.get(&(unit.kind, unit.name.value.clone())) else {
            return Err(RenderError::Unit { file: unit.file_name(), reason: "has no manager to run in".into() });
        };
        for &mode in unit_modes {
            out.push(render_unit(unit, mode, all, ctx)?);
        }
    }
    Ok(out)
}

/// Values of one section after every rewrite, in key order.
type Directives = BTreeMap<String, Vec<UnitValue>>;

fn render_unit(
    unit: &QuadletUnit,
    mode: Mode,
    all: &Containers,
    ctx: &RenderContext,
) -> Result<RenderedFile, RenderError> {
    let file = unit.file_name();
    let path = format!("{}/{file}", dir(mode));
    let mut text =
        UnitFile::new(&format!("[containers.{}.{}], {}", unit.kind.table(), unit.name.value, mode_name(mode)));
    let main_kind = unit.kind.main_section();
    for kind in [SectionKind::Unit, main_kind, SectionKind::Service, SectionKind::Install] {
        let mut directives = match unit.section(kind) {
            Some(section) => substitute(section, &path, ctx)?,
            None => Directives::new(),
        };
        if kind == main_kind {
            rewrite_main(unit, mode, all, &mut directives, &path)?;
        }
        // A build runs once per start of its unit, not again for every container that
        // requires it (Quadlet makes it a plain oneshot). A changed build is restarted
        // by the plan, and systemd restarts the containers that require it.
        if kind == SectionKind::Service && unit.kind == UnitKind::Build && !directives.contains_key("RemainAfterExit") {
            directives.insert("RemainAfterExit".into(), vec![constant("yes")]);
        }
        if kind == SectionKind::Install && unit.kind == UnitKind::Container && unit.section(kind).is_none() {
            directives.insert("WantedBy".into(), vec![constant(default_wanted_by(mode))]);
        }
        if directives.is_empty() && kind != main_kind {
            continue;
        }
        text.section(kind.name());
        for (key, values) in &directives {
            for v in values {
                text.value(key, v);
            }
        }
    }
    Ok(RenderedFile {
        path,
        kind: FileKind::Quadlet(unit.kind),
        mode: Some(mode),
        name: Some(unit.name.value.clone()),
        service: Some(unit.service_name()),
        permissions: 0o644,
        owner: None,
        contents: text.finish(),
    })
}

fn constant(s: &str) -> UnitValue {
    UnitValue::new(s).expect("renderer constants are single-line values")
}

/// Expands `${CONFIG_DIR}`/`${FILES_DIR}` in every value; each result is validated again.
fn substitute(section: &Section, file: &str, ctx: &RenderContext) -> Result<Directives, RenderError> {
    let mut out = Directives::new();
    for (key, directive) in &section.directives {
        let mut values = Vec::with_capacity(directive.values.len());
        for v in &directive.values {
            let err = |error| RenderError::Substitution {
                file: file.to_owned(),
                section: section.kind.name(),
                key: key.clone(),
                error,
            };
            let expanded = v
                .value
                .replace("${CONFIG_DIR}", &ctx.config_dir)
                .map_err(err)?
                .replace("${FILES_DIR}", &ctx.files_dir)
                .map_err(err)?;
            values.push(expanded);
        }
        out.insert(key.clone(), values);
    }
    Ok(out)
}

/// Mode-dependent rewrites of the `[Container]`/`[Pod]` section.
fn rewrite_main(
    unit: &QuadletUnit,
    mode: Mode,
    all: &Containers,
    d: &mut Directives,
    file: &str,
) -> Result<(), RenderError> {
    match unit.kind {
        UnitKind::Container => {
            d.remove("Network");
            // A container in a pod shares the pod's network namespace; Podman refuses
            // a network or published ports of its own there.
            if !d.contains_key("Pod") {
                d.insert("Network".into(), vec![constant(network_for(mode))]);
                publish(d, mode, file)?;
            } else if d.contains_key("PublishPort") {
                return Err(RenderError::Unit {
                    file: file.to_owned(),
                    reason: "a container in a pod cannot publish ports; set PublishPort on the pod".into(),
                });
            }
            if let Some(volumes) = d.get_mut("Volume") {
                for v in volumes.iter_mut() {
                    if let Some(rewritten) = volume_unit_reference(v.as_str(), all) {
                        *v = UnitValue::new(&rewritten).map_err(|e| RenderError::Unit {
                            file: file.to_owned(),
                            reason: format!("Volume {rewritten:?} {e}"),
                        })?;
                    }
                }
            }
        }
        UnitKind::Pod => {
            d.insert("Network".into(), vec![constant(network_for(mode))]);
            publish(d, mode, file)?;
        }
        UnitKind::Network | UnitKind::Volume | UnitKind::Build => {}
    }
    Ok(())
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Rootful => "rootful",
        Mode::Rootless => "rootless",
    }
}

fn network_for(mode: Mode) -> &'static str {
    match mode {
        Mode::Rootful => "host",
        Mode::Rootless => "pasta",
    }
}

/// Rootless: every published port is bound to 127.0.0.1. Rootful resources use the
/// host network, where publishing means nothing, so the directive is dropped
/// (validation warned about it).
fn publish(d: &mut Directives, mode: Mode, file: &str) -> Result<(), RenderError> {
    let Some(values) = d.remove("PublishPort") else { return Ok(()) };
    if mode == Mode::Rootful {
        return Ok(());
    }
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        let err = |reason: String| RenderError::Publish { file: file.to_owned(), value: v.as_str().to_owned(), reason };
        let confined = loopback_publish(v.as_str()).map_err(err)?;
        out.push(UnitValue::new(&confined.value).map_err(|e| err(e.to_string()))?);
    }
    d.insert("PublishPort".into(), out);
    Ok(())
}

/// `name:/dst` → `name.volume:/dst` when `name` is a declared volume; `None` when the
/// value needs no rewrite.
fn volume_unit_reference(value: &str, all: &Containers) -> Option<String> {
    let name = volume_reference(value, all)?;
    let rest = value.strip_prefix(name)?;
    if rest.starts_with(".volume") {
        return None;
    }
    Some(format!("{name}.volume{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn containers(toml: &str) -> Containers {
        let source = format!(
            "version = 1\n[users.a]\nisAdmin = true\nssh_key = \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINMeyLr+EOiFUGkNDE86YOpdLvmMSDdge2ci2auycMLj x\"\n[activation]\nrequired = [\"c\"]\n{toml}"
        );
        let v = cairn_config::validate(source.as_bytes());
        v.config.unwrap_or_else(|| panic!("{:#?}", v.diagnostics)).containers
    }

    #[test]
    fn bare_declared_volume_names_point_at_the_volume_unit() {
        let all = containers(
            "[containers.container.c]\nprivileged = false\n[containers.container.c.Container]\nImage = \"x\"\nVolume = [\"data:/d\", \"data.volume:/e\", \"/host:/f\", \"other:/g\"]\n[containers.volume.data.Volume]\n",
        );
        assert_eq!(volume_unit_reference("data:/d:Z", &all).as_deref(), Some("data.volume:/d:Z"));
        assert_eq!(volume_unit_reference("data.volume:/e", &all), None);
        assert_eq!(volume_unit_reference("/host:/f", &all), None);
        assert_eq!(volume_unit_reference("other:/g", &all), None);
    }

    #[test]
    fn substitution_is_validated_again_even_past_the_context_check() {
        let all = containers(
            "[containers.container.c]\nprivileged = false\n[containers.container.c.Container]\nImage = \"x\"\nVolume = \"${FILES_DIR}/d:/d\"\n",
        );
        let unit = all.get(UnitKind::Container, "c").unwrap();
        let mut ctx = RenderContext::device();
        ctx.files_dir = "/data\n[Service]\nExecStartPre=/bin/evil".into();
        let err = substitute(unit.main().unwrap(), "quadlet/rootless/c.container", &ctx).unwrap_err();
        assert_eq!(
            err,
            RenderError::Substitution {
                file: "quadlet/rootless/c.container".into(),
                section: "Container",
                key: "Volume".into(),
                error: cairn_config::UnitValueError::LineBreak { name: "a line feed", code: 10, position: 5 },
            }
        );
    }
}
