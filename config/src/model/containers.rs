//! `[containers]`: Quadlet containers, networks, volumes, builds and pods.

use std::collections::{BTreeMap, BTreeSet};

use crate::Spanned;
use crate::checks::resource_name;
use crate::diagnostic::Diagnostics;
use crate::model::publish::loopback_publish;
use crate::model::quadlet::{Section, SectionKind, decode_section};
use crate::syntax::Node;

/// Which systemd manager runs a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The system manager, as root (`privileged = true`, networks).
    Rootful,
    /// The `appsvc` user's manager.
    Rootless,
}

/// The kind of a Quadlet resource, which fixes its file suffix and service name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    Container,
    Network,
    Volume,
    Build,
    Pod,
}

impl UnitKind {
    pub const ALL: [UnitKind; 5] = [Self::Container, Self::Network, Self::Volume, Self::Build, Self::Pod];

    /// The `[containers.<table>]` name and the Quadlet file suffix.
    pub fn table(self) -> &'static str {
        match self {
            Self::Container => "container",
            Self::Network => "network",
            Self::Volume => "volume",
            Self::Build => "build",
            Self::Pod => "pod",
        }
    }

    /// The Quadlet section that describes the resource itself.
    pub fn main_section(self) -> SectionKind {
        match self {
            Self::Container => SectionKind::Container,
            Self::Network => SectionKind::Network,
            Self::Volume => SectionKind::Volume,
            Self::Build => SectionKind::Build,
            Self::Pod => SectionKind::Pod,
        }
    }

    /// The service Quadlet generates by default: `web.container` → `web.service`,
    /// `data.volume` → `data-volume.service`.
    pub fn default_service_name(self, name: &str) -> String {
        match self {
            Self::Container => format!("{name}.service"),
            other => format!("{name}-{}.service", other.table()),
        }
    }

    fn allowed_sections(self) -> &'static [SectionKind] {
        match self {
            Self::Container => &[SectionKind::Unit, SectionKind::Container, SectionKind::Service, SectionKind::Install],
            Self::Network => &[SectionKind::Network],
            Self::Volume => &[SectionKind::Volume],
            Self::Build => &[SectionKind::Build],
            Self::Pod => &[SectionKind::Pod],
        }
    }
}

/// One Quadlet resource: a container, network, volume, build or pod.
#[derive(Clone, Debug, PartialEq)]
pub struct QuadletUnit {
    pub kind: UnitKind,
    pub name: Spanned<String>,
    /// Only for containers: `privileged = true` runs rootful on the host network.
    pub privileged: bool,
    pub sections: BTreeMap<SectionKind, Section>,
}

impl QuadletUnit {
    pub fn section(&self, kind: SectionKind) -> Option<&Section> {
        self.sections.get(&kind)
    }

    pub fn main(&self) -> Option<&Section> {
        self.section(self.kind.main_section())
    }

    /// The service name, honouring a `ServiceName=` override.
    pub fn service_name(&self) -> String {
        match self.main().and_then(|s| s.single("ServiceName")) {
            Some(name) => format!("{}.service", name.as_str()),
            None => self.kind.default_service_name(&self.name),
        }
    }

    /// The Quadlet file name, e.g. `web.container`.
    pub fn file_name(&self) -> String {
        format!("{}.{}", self.name.value, self.kind.table())
    }
}

/// Every Quadlet resource of the config, by kind and name.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Containers {
    pub units: BTreeMap<UnitKind, BTreeMap<String, QuadletUnit>>,
}

impl Containers {
    pub fn of(&self, kind: UnitKind) -> impl Iterator<Item = &QuadletUnit> {
        self.units.get(&kind).into_iter().flat_map(|m| m.values())
    }

    pub fn get(&self, kind: UnitKind, name: &str) -> Option<&QuadletUnit> {
        self.units.get(&kind)?.get(name)
    }

    pub fn containers(&self) -> impl Iterator<Item = &QuadletUnit> {
        self.of(UnitKind::Container)
    }

    pub fn all(&self) -> impl Iterator<Item = &QuadletUnit> {
        self.units.values().flat_map(|m| m.values())
    }

    /// The managers each resource is rendered for: containers by `privileged`,
    /// networks always rootful, volumes, builds and pods by the containers that use them
    /// (rootful when unused).
    pub fn modes(&self) -> BTreeMap<(UnitKind, String), BTreeSet<Mode>> {
        let mut modes: BTreeMap<(UnitKind, String), BTreeSet<Mode>> = BTreeMap::new();
        for container in self.containers() {
            let mode = if container.privileged { Mode::Rootful } else { Mode::Rootless };
            modes.entry((UnitKind::Container, container.name.value.clone())).or_default().insert(mode);
            for (kind, name) in references(container, self) {
                if kind != UnitKind::Network {
                    modes.entry((kind, name)).or_default().insert(mode);
                }
            }
        }
        for unit in self.all() {
            modes.entry((unit.kind, unit.name.value.clone())).or_default();
        }
        for ((kind, _), set) in modes.iter_mut() {
            if *kind == UnitKind::Network || set.is_empty() {
                set.clear();
                set.insert(Mode::Rootful);
            }
        }
        modes
    }
}

/// The declared resources a container refers to through `Volume=`, `Image=`,
/// `Network=` and `Pod=`. Both Quadlet's `name.volume:` and a bare declared `name:`
/// refer to the volume unit.
pub fn references(container: &QuadletUnit, all: &Containers) -> Vec<(UnitKind, String)> {
    let mut out = Vec::new();
    let Some(main) = container.main() else { return out };
    let each = |key: &str, f: &mut dyn FnMut(&str)| {
        if let Some(d) = main.get(key) {
            for v in &d.values {
                f(v.as_str());
            }
        }
    };
    each("Volume", &mut |v| {
        if let Some(name) = volume_reference(v, all) {
            out.push((UnitKind::Volume, name.to_owned()));
        }
    });
    each("Image", &mut |v| {
        if let Some(name) = v.strip_suffix(".build") {
            out.push((UnitKind::Build, name.to_owned()));
        }
    });
    each("Network", &mut |v| {
        if let Some(name) = v.split(':').next().and_then(|n| n.strip_suffix(".network")) {
            out.push((UnitKind::Network, name.to_owned()));
        }
    });
    each("Pod", &mut |v| {
        if let Some(name) = v.strip_suffix(".pod") {
            out.push((UnitKind::Pod, name.to_owned()));
        }
    });
    out
}

/// The declared volume a `Volume=` value mounts, if any: `name.volume:/dst` always,
/// `name:/dst` when `name` is a declared volume.
pub fn volume_reference<'v>(value: &'v str, all: &Containers) -> Option<&'v str> {
    let source = value.split(':').next()?;
    if let Some(name) = source.strip_suffix(".volume") {
        return Some(name);
    }
    all.get(UnitKind::Volume, source).map(|_| source)
}

/// Service names that belong to the base system or to Cairn and must not be shadowed
/// by a generated unit.
const RESERVED_SERVICES: &[&str] = &[
    "provision",
    "ssh",
    "sshd",
    "dbus",
    "nftables",
    "dnsmasq",
    "chrony",
    "chronyd",
    "rauc",
    "podman",
    "podman-auto-update",
    "getty",
    "serial-getty",
    "user",
    "init",
    "emergency",
    "rescue",
    "networking",
    "polkit",
    "kiosk",
];

fn reserved_service(service: &str) -> bool {
    let stem = service.strip_suffix(".service").unwrap_or(service);
    RESERVED_SERVICES.contains(&stem)
        || stem.starts_with("systemd-")
        || stem.starts_with("cairn-")
        || stem.starts_with("user@")
}

pub(crate) fn decode(node: &Node<'_, '_>, d: &mut Diagnostics<'_>) -> Option<Containers> {
    let table = node.table(d)?;
    table.deny_unknown_keys(d, &["container", "network", "volume", "build", "pod"]);
    let mut containers = Containers::default();
    let mut ok = true;
    if table.get("container").is_none() {
        d.error(&table.path, table.span.clone(), "at least one container is required")
            .hint("add [containers.container.<name>] with privileged and a [Container] Image");
        ok = false;
    }
    for kind in UnitKind::ALL {
        let Some(group) = table.get(kind.table()) else { continue };
        let Some(group) = group.table(d) else {
            ok = false;
            continue;
        };
        if kind == UnitKind::Container && group.is_empty() {
            d.error(&group.path, group.span.clone(), "at least one container is required")
                .hint("add [containers.container.<name>]");
            ok = false;
        }
        let mut units = BTreeMap::new();
        for (name, entry) in group.entries() {
            if let Err(m) = resource_name(name.value) {
                d.error(&entry.path, name.span.clone(), m).hint("rename it");
                ok = false;
                continue;
            }
            match decode_unit(kind, name, &entry, d) {
                Some(unit) => {
                    units.insert(unit.name.value.clone(), unit);
                }
                None => ok = false,
            }
        }
        containers.units.insert(kind, units);
    }
    if !ok {
        return None;
    }
    check_relations(&containers, &table.path, d).then_some(containers)
}

fn decode_unit(
    kind: UnitKind,
    name: Spanned<&str>,
    node: &Node<'_, '_>,
    d: &mut Diagnostics<'_>,
) -> Option<QuadletUnit> {
    let table = node.table(d)?;
    let mut allowed: Vec<&str> = kind.allowed_sections().iter().map(|s| s.name()).collect();
    if kind == UnitKind::Container {
        allowed.insert(0, "privileged");
    }
    table.deny_unknown_keys(d, &allowed);
    let privileged = if kind == UnitKind::Container {
        table.require(d, "privileged").and_then(|n| n.bool(d)).map(|b| b.value)
    } else {
        Some(false)
    };
    let main = kind.main_section();
    let main_present = table.require(d, main.name()).is_some();
    let mut sections = BTreeMap::new();
    let mut ok = main_present;
    for section in kind.allowed_sections() {
        if let Some(n) = table.get(section.name()) {
            match decode_section(*section, &n, d) {
                Some((s, valid)) => {
                    sections.insert(*section, s);
                    ok &= valid;
                }
                None => ok = false,
            }
        }
    }
    let unit = QuadletUnit { kind, name: name.map(str::to_owned), privileged: privileged?, sections };
    ok &= check_unit(&unit, &table.path, ok, d);
    ok.then_some(unit)
}

/// Rules inside one resource. `complete` is false when some directive was already
/// reported, in which case rules about missing directives stay quiet (the missing one
/// is probably the misspelt one).
fn check_unit(unit: &QuadletUnit, path: &crate::syntax::KeyPath, complete: bool, d: &mut Diagnostics<'_>) -> bool {
    let Some(main) = unit.main() else { return false };
    let main_path = path.key(main.kind.name());
    let mut ok = true;
    for key in ["ServiceName", "Image", "Rootfs", "ImageTag"] {
        if let Some(dir) = main.get(key) {
            if dir.values.len() > 1 {
                d.error(main_path.key(key), dir.key.span.clone(), format!("`{key}` takes a single value"))
                    .hint("give one value, not an array");
                ok = false;
            }
        }
    }
    match unit.kind {
        UnitKind::Container => {
            match (main.get("Image"), main.get("Rootfs")) {
                (None, None) if !complete => ok = false,
                (None, None) => {
                    d.error(&main_path, main.span.clone(), "a container needs an `Image` (or `Rootfs`)")
                        .hint("add Image = \"registry/name:tag\" or Image = \"<build>.build\"");
                    ok = false;
                }
                (Some(_), Some(r)) => {
                    d.error(main_path.key("Rootfs"), r.key.span.clone(), "`Image` and `Rootfs` are exclusive")
                        .hint("keep one of them");
                    ok = false;
                }
                _ => {}
            }
            if let Some(net) = main.get("Network") {
                let wanted = if unit.privileged { "host" } else { "pasta" };
                let given: Vec<&str> = net.values.iter().map(|v| v.as_str()).collect();
                if given != [wanted] {
                    let why = if unit.privileged {
                        "privileged containers always use the host network"
                    } else {
                        "rootless containers always use pasta"
                    };
                    d.warning(
                        main_path.key("Network"),
                        net.key.span.clone(),
                        format!("{why}; `Network={}` is replaced by `Network={wanted}`", given.join(",")),
                    )
                    .hint("remove Network to silence this warning");
                }
            }
            if let (Some(publish), Some(_)) = (main.get("PublishPort"), main.get("Pod")) {
                d.error(
                    main_path.key("PublishPort"),
                    publish.key.span.clone(),
                    "a container in a pod cannot publish ports; Podman refuses to start it",
                )
                .hint("move PublishPort to the [containers.pod.<name>.Pod] section");
                ok = false;
            } else if let Some(publish) = main.get("PublishPort") {
                for (i, v) in publish.values.iter().enumerate() {
                    let at = main_path.key("PublishPort").index(i);
                    if unit.privileged {
                        d.warning(
                            &at,
                            v.span.clone(),
                            "privileged containers use the host network; published ports are ignored",
                        )
                        .hint("remove PublishPort; the container's ports are already on the host");
                        continue;
                    }
                    match loopback_publish(v.as_str()) {
                        Ok(out) => {
                            if let Some(bind) = out.replaced_bind {
                                d.warning(
                                    &at,
                                    v.span.clone(),
                                    format!("rootless ports bind 127.0.0.1 only; {bind} is replaced: {}", out.value),
                                )
                                .hint("reach it through a privileged reverse proxy on the host network");
                            }
                        }
                        Err(m) => {
                            d.error(&at, v.span.clone(), m).hint("write HOST:CONTAINER, e.g. 8080:80");
                            ok = false;
                        }
                    }
                }
            }
        }
        UnitKind::Build => {
            if main.get("ImageTag").is_none() && complete {
                d.error(&main_path, main.span.clone(), "a build needs an `ImageTag`")
                    .hint("add ImageTag = \"localhost/<name>:latest\"");
                ok = false;
            }
        }
        UnitKind::Network | UnitKind::Volume | UnitKind::Pod => {}
    }
    ok
}

/// Rules between resources: references resolve, service names are unique per manager
/// and never shadow a system unit.
fn check_relations(all: &Containers, path: &crate::syntax::KeyPath, d: &mut Diagnostics<'_>) -> bool {
    let mut ok = true;
    for container in all.containers() {
        let main = container.main().expect("decoded containers have [Container]");
        let at = path.key("container").key(&container.name).key("Container");
        let mut check = |key: &str, kind: UnitKind, name_of: &dyn Fn(&str) -> Option<String>| {
            let Some(dir) = main.get(key) else { return };
            for v in &dir.values {
                let Some(name) = name_of(v.as_str()) else { continue };
                if all.get(kind, &name).is_none() {
                    d.error(
                        at.key(key),
                        v.span.clone(),
                        format!("refers to {}.{} which is not declared", name, kind.table()),
                    )
                    .hint(format!("declare [containers.{}.{name}] or fix the name", kind.table()));
                    ok = false;
                }
            }
        };
        check("Volume", UnitKind::Volume, &|v| v.split(':').next()?.strip_suffix(".volume").map(str::to_owned));
        check("Image", UnitKind::Build, &|v| v.strip_suffix(".build").map(str::to_owned));
        check("Pod", UnitKind::Pod, &|v| v.strip_suffix(".pod").map(str::to_owned));
        if container.privileged {
            check("Network", UnitKind::Network, &|v| v.split(':').next()?.strip_suffix(".network").map(str::to_owned));
        }
        if let Some(image) = main.single("Image") {
            if image.as_str().ends_with(".image") {
                d.error(at.key("Image"), image.span.clone(), "`.image` units are not supported")
                    .hint("use a registry reference, a loaded image, or a .build");
                ok = false;
            }
        }
    }
    let modes = all.modes();
    let mut seen: BTreeMap<(Mode, String), &QuadletUnit> = BTreeMap::new();
    for unit in all.all() {
        let service = unit.service_name();
        let at = path.key(unit.kind.table()).key(&unit.name);
        if reserved_service(&service) {
            d.error(&at, unit.name.span.clone(), format!("would generate `{service}`, which belongs to the system"))
                .hint("rename it (or set another ServiceName)");
            ok = false;
            continue;
        }
        for mode in modes.get(&(unit.kind, unit.name.value.clone())).into_iter().flatten() {
            if let Some(other) = seen.insert((*mode, service.clone()), unit) {
                d.error(
                    &at,
                    unit.name.span.clone(),
                    format!("`{}` and `{}` would both generate `{service}`", other.file_name(), unit.file_name()),
                )
                .hint("rename one of them");
                ok = false;
            }
        }
    }
    ok
}
