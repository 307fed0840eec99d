//! What "healthy" means for one generation, derived purely from its config and manifest:
//! which units must become active, which may fail, which probes must pass, and the
//! deadlines. Kept separate from the waiting so it can be tested without systemd.

use std::collections::BTreeSet;
use std::time::Duration;

use cairn_config::{Check, Config, KIOSK_UNIT};

use crate::plan::{Manifest, UnitRef};

/// The kiosk's native unit, which `required = ["kiosk"]` stands for.
pub const KIOSK_SERVICE: &str = "cairn-kiosk.service";

/// The health rules of a generation.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Polled until active (or the deadline).
    pub required: Vec<UnitRef>,
    /// `Some`: `activation.allow_degraded` was given; then any other unit of the
    /// generation that ends up `failed` fails the apply. The set lists the services allowed to fail.
    pub allow_degraded: Option<BTreeSet<String>>,
    /// Every unit of the generation (checked for `failed` when `allow_degraded` is set).
    pub units: Vec<UnitRef>,
    pub checks: Vec<Check>,
    /// For the whole activation (jobs, required units, probes).
    pub timeout: Duration,
    /// Wait after required units are active, then check they still are.
    pub settle: Duration,
}

impl Policy {
    /// Errors name a required unit the manifest does not have (a renderer/validator mismatch).
    pub fn new(config: &Config, manifest: &Manifest) -> Result<Self, String> {
        let a = &config.activation;
        let container = |name: &str| {
            manifest
                .units
                .iter()
                .find(|u| u.kind == "container" && u.name == name)
                .map(|u| UnitRef { mode: u.mode, service: u.service.clone() })
        };
        let mut required = Vec::new();
        for name in &a.required {
            let unit = if name.value == KIOSK_UNIT {
                manifest
                    .units
                    .iter()
                    .find(|u| u.service == KIOSK_SERVICE)
                    .map(|u| UnitRef { mode: u.mode, service: u.service.clone() })
            } else {
                container(&name.value)
            };
            required
                .push(unit.ok_or_else(|| format!("required unit {:?} is not in the rendered manifest", name.value))?);
        }
        let allow_degraded = a.allow_degraded.as_ref().map(|names| {
            names
                .iter()
                .map(|n| container(&n.value).map_or_else(|| format!("{}.service", n.value), |u| u.service))
                .collect()
        });
        let units = manifest.units.iter().map(|u| UnitRef { mode: u.mode, service: u.service.clone() }).collect();
        Ok(Self {
            required,
            allow_degraded,
            units,
            checks: a.checks.clone(),
            timeout: Duration::from_secs(a.timeout_seconds.into()),
            settle: Duration::from_secs(a.settle_seconds.into()),
        })
    }
}

impl Policy {
    /// Whether `unit` failing is tolerated: never for required units; when
    /// `allow_degraded` is given only for the units it lists; otherwise for any other unit.
    pub fn may_fail(&self, unit: &UnitRef) -> bool {
        if self.required.contains(unit) {
            return false;
        }
        match &self.allow_degraded {
            None => true,
            Some(allowed) => allowed.contains(&unit.service),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::UnitMode;
    use crate::render::{QuadletRenderer, Render, RenderContext};

    #[test]
    fn required_names_map_to_the_rendered_services_and_managers() {
        let source = include_str!("../../../../config/tests/fixtures/valid/full.toml");
        let config = cairn_config::validate_str(source).config.unwrap();
        let rendered =
            QuadletRenderer::default().render(&config, &RenderContext::for_state_dir("/data/cairn".as_ref())).unwrap();
        let policy = Policy::new(&config, &rendered.manifest(Default::default(), "/state/current/files")).unwrap();
        assert_eq!(policy.required.len(), config.activation.required.len());
        for (name, unit) in config.activation.required.iter().zip(&policy.required) {
            if name.value == KIOSK_UNIT {
                assert_eq!(unit.service, KIOSK_SERVICE);
            } else {
                let declared = config.containers.containers().find(|c| c.name.value == name.value).unwrap();
                let mode = if declared.privileged { UnitMode::Rootful } else { UnitMode::Rootless };
                assert_eq!((unit.service.as_str(), unit.mode), (declared.service_name().as_str(), mode));
            }
        }
        assert_eq!(policy.units.len(), rendered.units.len());
        // full.toml: allow_degraded = ["metrics"], so only metrics may fail.
        let metrics = policy.units.iter().find(|u| u.service == "metrics.service").unwrap();
        assert!(policy.may_fail(metrics));
        assert!(!policy.may_fail(&policy.required[0]));
        let other =
            policy.units.iter().find(|u| !policy.required.contains(u) && u.service != "metrics.service").unwrap();
        assert!(!policy.may_fail(other));
        let mut lenient = policy.clone();
        lenient.allow_degraded = None;
        assert!(lenient.may_fail(other) && !lenient.may_fail(&policy.required[0]));
        assert_eq!(policy.timeout, Duration::from_secs(config.activation.timeout_seconds.into()));
    }
}
