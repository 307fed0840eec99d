//! The JSON Schema of config.toml, for editors (taplo / Even Better TOML) and tools.
//!
//! The schema describes shape, types, ranges, patterns and the directive names of every
//! Quadlet section; the validator remains the authority (it also checks relations such
//! as references and overlapping cells). A test keeps `docs/config.schema.json` equal
//! to [`json_schema_pretty`] and checks every valid fixture against it.

use serde_json::{Map, Value, json};

use crate::model::quadlet::SectionKind;
use crate::{DEFAULT_GATEWAY_CIDR, SSH_KEY_TYPES};

const NAME_PATTERN: &str = "^[A-Za-z0-9_][A-Za-z0-9_-]*$";

fn object(properties: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "additionalProperties": false, "properties": properties, "required": required })
}

fn int(min: i64, max: i64, default: Option<i64>, description: &str) -> Value {
    let mut v = json!({ "type": "integer", "minimum": min, "maximum": max, "description": description });
    if let Some(d) = default {
        v["default"] = json!(d);
    }
    v
}

fn string(description: &str) -> Value {
    json!({ "type": "string", "description": description })
}

fn strings(description: &str) -> Value {
    json!({ "type": "array", "items": { "type": "string" }, "description": description })
}

fn choice(values: &[&str], default: &str, description: &str) -> Value {
    json!({ "type": "string", "enum": values, "default": default, "description": description })
}

fn named(items: Value, description: &str) -> Value {
    json!({ "type": "object", "description": description, "propertyNames": { "pattern": NAME_PATTERN }, "additionalProperties": items })
}

fn section(kind: SectionKind) -> Value {
    let value = json!({ "$ref": "#/definitions/directiveValue" });
    let properties: Map<String, Value> = kind.directives().iter().map(|k| (k.to_string(), value.clone())).collect();
    json!({
        "type": "object",
        "additionalProperties": false,
        "description": format!("[{}] directives, one `Key=value` line per value (podman-systemd.unit(5), systemd.unit(5)).", kind.name()),
        "properties": properties,
    })
}

fn ports() -> Value {
    let list = json!({ "type": "array", "items": { "type": "integer", "minimum": 1, "maximum": 65535 } });
    object(json!({ "tcp": list, "udp": list }), &[])
}

/// The schema as a JSON value.
pub fn json_schema() -> Value {
    let quadlet = |kind: SectionKind, extra: &[SectionKind]| {
        let mut properties = Map::new();
        properties.insert(kind.name().into(), section(kind));
        for s in extra {
            properties.insert(s.name().into(), section(*s));
        }
        object(Value::Object(properties), &[kind.name()])
    };
    let mut container =
        quadlet(SectionKind::Container, &[SectionKind::Unit, SectionKind::Service, SectionKind::Install]);
    container["properties"]["privileged"] = json!({ "type": "boolean", "description": "true: rootful on the host network; false: rootless (appsvc) with pasta and loopback-only published ports." });
    container["required"] = json!(["privileged", "Container"]);
    let ip_list = json!({ "type": "array", "minItems": 1, "items": { "type": "string" } });
    let interface = object(
        json!({
            "mode": { "type": "string", "enum": ["dhcp", "static"] },
            "address": string("IPv4 address with prefix, e.g. 192.168.1.10/24 (static only)."),
            "gateway": string("IPv4 gateway."),
            "dns_servers": ip_list,
            "dns_search_domains": ip_list,
        }),
        &["mode"],
    );
    let check = object(
        json!({
            "name": { "type": "string", "pattern": NAME_PATTERN },
            "http": string("http:// URL that must answer with expect_status (https:// is refused; use tcp or exec)."),
            "expect_status": int(100, 599, Some(200), "Expected HTTP status."),
            "tcp": string("host:port that must accept a connection."),
            "exec": { "type": "array", "minItems": 1, "items": { "type": "string" }, "description": "Command and arguments, run without a shell; exit 0 passes." },
            "interval_seconds": int(1, 300, Some(2), "Seconds between attempts."),
            "timeout_seconds": int(1, 300, Some(5), "Seconds before one attempt fails."),
        }),
        &["name"],
    );
    let cell = object(
        json!({
            "camera": string("A [cameras.<id>] to show."),
            "url": string("An http(s) page to show."),
            "html": string("Inline HTML to show."),
            "html_file": string("An HTML file, e.g. ${FILES_DIR}/kiosk/page.html."),
            "col": int(0, 15, None, "Column, from 0."),
            "row": int(0, 15, None, "Row, from 0."),
            "col_span": int(1, 16, Some(1), "Columns covered."),
            "row_span": int(1, 16, Some(1), "Rows covered."),
            "stream": choice(&["auto", "main", "sub"], "auto", "auto: main when the cell covers at least 20 % of the screen."),
            "fit": choice(&["cover", "contain", "fill"], "cover", "How video fills the cell."),
        }),
        &["col", "row"],
    );
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://cairn.invalid/schemas/config-v1.json",
        "title": "Cairn config.toml, version 1",
        "description": "The whole desired state of a Cairn device. Superset of the AtomixOS provisioning format.",
        "type": "object",
        "additionalProperties": false,
        "required": ["version", "users", "activation", "containers"],
        "definitions": {
            "directiveValue": {
                "description": "A string, integer or boolean, or a non-empty array of them (one line each). Single-line; % starts a systemd specifier.",
                "anyOf": [
                    { "type": ["string", "integer", "boolean"] },
                    { "type": "array", "minItems": 1, "items": { "type": ["string", "integer", "boolean"] } },
                ],
            },
        },
        "properties": {
            "version": { "type": "integer", "enum": [1], "description": "Always 1." },
            "users": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": { "pattern": "^[a-z_][a-z0-9_-]{0,31}$" },
                "additionalProperties": object(json!({
                    "isAdmin": { "type": "boolean", "default": false, "description": "Admins' keys sign re-applies." },
                    "ssh_key": { "type": "string", "default": "", "description": format!("One OpenSSH public key line: {}.", SSH_KEY_TYPES.join(", ")) },
                    "shell": { "type": "string", "enum": ["bash", "sh", "zsh"] },
                }), &[]),
            },
            "network": object(json!({
                "dns_servers": ip_list,
                "dns_search_domains": ip_list,
                "default_gateway": string("IPv4 default gateway."),
                "interfaces": { "type": "object", "propertyNames": { "pattern": "^eth[0-9]+$" }, "additionalProperties": interface },
                "dnsmasq": object(json!({
                    "enable": { "type": "boolean", "enum": [true], "default": true },
                    "interface": { "type": "string", "enum": ["eth1"], "default": "eth1" },
                    "gateway_cidr": { "type": "string", "default": DEFAULT_GATEWAY_CIDR, "description": "LAN gateway address, prefix /16–/30." },
                    "dhcp_start": string("First DHCP address (default .10 of the subnet)."),
                    "dhcp_end": string("Last DHCP address (default .254 of the subnet)."),
                    "domain": { "type": "string", "default": "local" },
                    "hostname_pattern": string("Client host names; must contain {mac}."),
                    "gateway_aliases": strings("Names the gateway answers to on the LAN."),
                }), &[]),
                "ntp": object(json!({ "servers": { "type": "array", "minItems": 1, "items": { "type": "string" } } }), &[]),
                "firewall": object(json!({ "inbound": object(json!({ "wan": ports(), "lan": ports() }), &[]) }), &[]),
            }), &[]),
            "os_upgrade": object(json!({ "server_url": string("https:// base URL, no credentials, query or fragment.") }), &["server_url"]),
            "activation": object(json!({
                "required": { "type": "array", "minItems": 1, "items": { "type": "string", "minLength": 1 }, "description": "Containers (or \"kiosk\") that must become active." },
                "timeout_seconds": int(1, 3600, Some(300), "Deadline for the whole activation."),
                "settle_seconds": int(0, 300, Some(0), "Wait before health checks."),
                "restart": strings("Containers restarted on every apply."),
                "allow_degraded": strings("Containers allowed to fail; when present, any other failed unit fails the apply."),
                "strategy": choice(&["rollback"], "rollback", "What happens on failure."),
                "checks": { "type": "array", "items": check },
            }), &["required"]),
            "containers": object(json!({
                "container": named(container, "Quadlet .container units."),
                "network": named(quadlet(SectionKind::Network, &[]), "Quadlet .network units (rootful)."),
                "volume": named(quadlet(SectionKind::Volume, &[]), "Quadlet .volume units."),
                "build": named(quadlet(SectionKind::Build, &[]), "Quadlet .build units."),
                "pod": named(quadlet(SectionKind::Pod, &[]), "Quadlet .pod units."),
            }), &["container"]),
            "kiosk": object(json!({
                "enable": { "type": "boolean", "default": false },
                "default_layout": string("The layout shown at start and after idle revert."),
                "idle_revert_seconds": int(0, 86_400, Some(300), "Back to default_layout after no input; 0 = off."),
                "cooling_seconds": int(0, 3600, Some(30), "How long off-screen streams stay decoded."),
                "local_api": string("ip:port of the LAN layout-switching API."),
            }), &[]),
            "cameras": named(object(json!({
                "name": string("Display name."),
                "main": string("rtsp:// or rtsps:// main stream."),
                "sub": string("rtsp:// or rtsps:// low-resolution stream."),
                "username": string("Stream user."),
                "password": string("Stream password (never logged); exclusive with password_file."),
                "password_file": string("File holding the password, e.g. ${FILES_DIR}/cameras/front.pass."),
                "transport": choice(&["tcp", "udp"], "tcp", "RTSP transport."),
                "latency_ms": int(0, 10_000, Some(300), "Jitter buffer."),
            }), &[]), "RTSP cameras."),
            "layouts": named(object(json!({
                "name": string("Display name."),
                "columns": int(1, 16, None, "Grid columns."),
                "rows": int(1, 16, None, "Grid rows."),
                "priority": choice(&["normal", "hot"], "normal", "hot: keep every cell decoded even when not shown."),
                "cells": { "type": "array", "minItems": 1, "items": cell },
            }), &["columns", "rows", "cells"]), "Screen layouts."),
            "telemetry": object(json!({
                "enable": { "type": "boolean", "default": false },
                "broker": string("mqtt:// or mqtts:// broker URL."),
                "topic_prefix": { "type": "string", "default": "cairn", "pattern": NAME_PATTERN },
                "interval_seconds": int(10, 3600, Some(60), "Seconds between reports."),
            }), &[]),
        },
    })
}

/// The schema pretty-printed, as `provision schema` prints it and docs/ keeps it.
pub fn json_schema_pretty() -> String {
    serde_json::to_string_pretty(&json_schema()).expect("a JSON value always serializes")
}
