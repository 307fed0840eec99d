//! `[telemetry]`: fleet reporting over MQTT (reserved for a later release; validated now
//! so configs written for it are checked today).

use crate::checks::{mqtt_url, resource_name};
use crate::diagnostic::Diagnostics;
use crate::syntax::{Node, OptionalField};

#[derive(Clone, Debug, PartialEq)]
pub struct Telemetry {
    pub enable: bool,
    pub broker: Option<String>,
    pub topic_prefix: String,
    pub interval_seconds: u32,
}

pub(crate) fn decode(node: &Node<'_, '_>, d: &mut Diagnostics<'_>) -> Option<Telemetry> {
    let table = node.table(d)?;
    table.deny_unknown_keys(d, &["enable", "broker", "topic_prefix", "interval_seconds"]);
    let enable = table.get("enable").map(|n| n.bool(d).map(|b| b.value));
    let broker = table.get("broker").map(|n| {
        let s = n.string(d)?;
        mqtt_url(&s.value).map(|_| s.value.clone()).map_err(|m| d.error(&n.path, s.span, m)).ok()
    });
    let prefix = table.get("topic_prefix").map(|n| {
        let s = n.string(d)?;
        resource_name(&s.value).map(|_| s.value.clone()).map_err(|m| d.error(&n.path, s.span, m)).ok()
    });
    let interval = table.get("interval_seconds").map(|n| n.integer_in(d, 10, 3600).map(|v| v.value as u32));
    let telemetry = Telemetry {
        enable: enable.unwrap_or(Some(false))?,
        broker: broker.optional()?,
        topic_prefix: prefix.unwrap_or(Some("cairn".into()))?,
        interval_seconds: interval.unwrap_or(Some(60))?,
    };
    if telemetry.enable && telemetry.broker.is_none() {
        d.error(&table.path, table.span.clone(), "enabled telemetry needs a `broker`")
            .hint("add broker = \"mqtts://broker.example.com:8883\"");
        return None;
    }
    Some(telemetry)
}
