//! Nothing an operator writes can add a directive or a section to a rendered unit:
//! line terminators (LF, CR, VT, FF, NEL, U+2028, U+2029, NUL) are rejected by
//! validation in every section, so `render` never sees them; and a hostile runtime
//! path in the render context is refused before it is substituted anywhere.

use cairn_config::{Severity, UnitValueError};
use proptest::prelude::*;
use quadlet_render::{RenderContext, RenderError, render};

const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINMeyLr+EOiFUGkNDE86YOpdLvmMSDdge2ci2auycMLj x";

/// A config whose only free value is `literal` (a TOML string literal) at `[section] key`.
fn config_with(section: &str, key: &str, literal: &str) -> String {
    let line = |name: &str| if name == section { format!("{key} = {literal}\n") } else { String::new() };
    let mut s = format!(
        "version = 1\n[users.a]\nisAdmin = true\nssh_key = \"{KEY}\"\n[activation]\nrequired = [\"c\"]\n\
         [containers.container.c]\nprivileged = false\n[containers.container.c.Container]\nImage = \"x\"\n{}",
        line("Container")
    );
    for (name, table) in [
        ("Unit", "containers.container.c.Unit"),
        ("Service", "containers.container.c.Service"),
        ("Install", "containers.container.c.Install"),
        ("Volume", "containers.volume.v.Volume"),
        ("Network", "containers.network.n.Network"),
        ("Build", "containers.build.b.Build"),
        ("Pod", "containers.pod.p.Pod"),
    ] {
        if ["Unit", "Service", "Install"].contains(&name) && name != section {
            continue;
        }
        let build = if name == "Build" { "ImageTag = \"localhost/b\"\n" } else { "" };
        s.push_str(&format!("[{table}]\n{build}{}", line(name)));
    }
    s
}

/// One directive each section accepts and that takes free text.
const SLOTS: &[(&str, &str)] = &[
    ("Container", "Environment"),
    ("Unit", "Description"),
    ("Service", "Environment"),
    ("Install", "WantedBy"),
    ("Volume", "Label"),
    ("Network", "Label"),
    ("Build", "Label"),
    ("Pod", "PodName"),
];

const TERMINATORS: &[(char, &str)] = &[
    ('\n', "\\n"),
    ('\r', "\\r"),
    ('\u{0B}', "\\u000B"),
    ('\u{0C}', "\\f"),
    ('\u{85}', "\\u0085"),
    ('\u{2028}', "\\u2028"),
    ('\u{2029}', "\\u2029"),
];

#[test]
fn line_terminators_are_rejected_in_every_section() {
    for (section, key) in SLOTS {
        for (c, escape) in TERMINATORS {
            let literal = format!("\"ok{escape}[Service]{escape}ExecStartPre=/bin/sh -c evil\"");
            let source = config_with(section, key, &literal);
            let v = cairn_config::validate(source.as_bytes());
            assert!(v.config.is_none(), "[{section}] {key} with U+{:04X} was accepted", *c as u32);
            let errors: Vec<_> = v.diagnostics.iter().filter(|d| d.severity == Severity::Error).collect();
            let expected = UnitValueError::LineBreak {
                name: match c {
                    '\n' => "a line feed",
                    '\r' => "a carriage return",
                    '\u{0B}' => "a vertical tab",
                    '\u{0C}' => "a form feed",
                    '\u{85}' => "a next-line character",
                    '\u{2028}' => "a line separator",
                    _ => "a paragraph separator",
                },
                code: *c as u32,
                position: 2,
            };
            assert_eq!(errors.len(), 1, "[{section}] {key}: {errors:#?}");
            assert!(errors[0].path.ends_with(&format!("{section}.{key}")), "{}", errors[0].path);
            assert_eq!(errors[0].message, format!("value {expected}"), "[{section}] {key}");
        }
    }
}

#[test]
fn a_header_on_one_line_stays_inside_its_value() {
    // Without a line break, `[Service]` is just text of the value: one line, one directive.
    let source = config_with("Container", "Environment", "\"A=[Service] ExecStart=/bin/evil\"");
    let config = cairn_config::validate(source.as_bytes()).config.expect("valid");
    let rendered = render(&config, &RenderContext::device()).unwrap();
    let unit = &rendered.get("quadlet/rootless/c.container").unwrap().contents;
    let headers: Vec<&str> = unit.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(headers, ["[Container]", "[Install]"]);
    assert!(unit.contains("\nEnvironment=A=[Service] ExecStart=/bin/evil\n"));
}

fn hostile(field: &str, value: &str) -> RenderContext {
    let mut ctx = RenderContext::device();
    match field {
        "files_dir" => ctx.files_dir = value.into(),
        "config_dir" => ctx.config_dir = value.into(),
        _ => unreachable!(),
    }
    ctx
}

#[test]
fn hostile_context_paths_are_refused_before_substitution() {
    let source = config_with("Container", "Volume", "\"${FILES_DIR}/data:/data\"");
    let config = cairn_config::validate(source.as_bytes()).config.expect("valid");
    let cases: &[(&str, &str, &str)] = &[
        (
            "files_dir",
            "/data/files\n[Service]\nExecStartPre=/bin/evil",
            "may only contain ASCII letters, digits and `/._-+@`",
        ),
        ("files_dir", "/data/files\u{2028}ExecStart=/bin/evil", "may only contain ASCII letters, digits and `/._-+@`"),
        ("files_dir", "/data/%h", "may only contain ASCII letters, digits and `/._-+@`"),
        ("files_dir", "/data/a b", "may only contain ASCII letters, digits and `/._-+@`"),
        ("files_dir", "/data/x:/etc", "may only contain ASCII letters, digits and `/._-+@`"),
        ("files_dir", "relative/files", "must be an absolute path"),
        ("config_dir", "/data/../etc", "must not contain `.` or `..` components"),
        ("config_dir", "/data/cairn/", "must not end with `/`"),
    ];
    for (field, value, reason) in cases {
        let err = render(&config, &hostile(field, value)).unwrap_err();
        let expected_field = if *field == "files_dir" { "files_dir" } else { "config_dir" };
        assert_eq!(err, RenderError::Context { field: expected_field, value: value.to_string(), reason }, "{value:?}");
    }
}

fn toml_string(s: &str) -> String {
    // JSON string escapes are valid TOML basic-string escapes.
    serde_json::to_string(s).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever a value holds, a config either is rejected or renders that value as
    /// exactly one `Key=value` line, with no section but the expected ones.
    #[test]
    fn any_value_renders_as_one_line_or_is_rejected(
        value in proptest::collection::vec(
            prop_oneof![
                Just('\n'), Just('\r'), Just('\u{2028}'), Just('\u{2029}'), Just('\u{85}'), Just('\u{0B}'),
                Just('['), Just(']'), Just('='), Just('%'), Just('\\'), Just(' '), Just('h'), Just('S'),
                Just('\t'), Just('\0'), Just('$'), Just('{'), Just('}'),
            ],
            0..24,
        ).prop_map(|chars| chars.into_iter().collect::<String>())
    ) {
        let source = config_with("Service", "Environment", &toml_string(&format!("X={value}")));
        let validated = cairn_config::validate(source.as_bytes());
        if let Some(config) = validated.config {
            let rendered = render(&config, &RenderContext::device()).unwrap();
            let unit = &rendered.get("quadlet/rootless/c.container").unwrap().contents;
            let headers: Vec<&str> = unit.lines().filter(|l| l.starts_with('[')).collect();
            prop_assert_eq!(headers, vec!["[Container]", "[Service]", "[Install]"]);
            let env: Vec<&str> = unit.lines().filter(|l| l.starts_with("Environment=")).collect();
            prop_assert_eq!(env.len(), 1);
            prop_assert_eq!(unit.lines().count(), 11, "{}", unit);
        } else {
            prop_assert!(validated.diagnostics.iter().any(|d| d.path.ends_with("Service.Environment")));
        }
    }
}

/// Values that reach host files (dnsmasq, chrony, networkd, admin-signers) are
/// rejected when they hold a line break, so no extra config line can appear there.
#[test]
fn line_breaks_in_host_file_values_are_rejected() {
    let base = |extra: &str| {
        format!(
            "version = 1\n[users.a]\nisAdmin = true\nssh_key = \"{KEY}\"\n[activation]\nrequired = [\"c\"]\n\
             [containers.container.c]\nprivileged = false\n[containers.container.c.Container]\nImage = \"x\"\n{extra}"
        )
    };
    let attempts = [
        ("network.ntp.servers[0]", "[network.ntp]\nservers = [\"pool.example.com\\nserver evil.example.com\"]\n"),
        ("network.ntp.servers[0]", "[network.ntp]\nservers = [\"pool.example.com\\u2028server evil\"]\n"),
        ("network.dnsmasq.domain", "[network.dnsmasq]\ndomain = \"lan\\ndhcp-script=/bin/evil\"\n"),
        ("network.dnsmasq.gateway_aliases[0]", "[network.dnsmasq]\ngateway_aliases = [\"gw\\naddress=/#/6.6.6.6\"]\n"),
        ("network.dnsmasq.hostname_pattern", "[network.dnsmasq]\nhostname_pattern = \"n-{mac}\\ndhcp-script=/x\"\n"),
        ("network.dns_search_domains[0]", "[network]\ndns_search_domains = [\"a.example\\n[Network]\"]\n"),
        (
            "users.b.ssh_key",
            "[users.b]\nssh_key = \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINMeyLr+EOiFUGkNDE86YOpdLvmMSDdge2ci2auycMLj x\\nevil namespaces=\\\"cairn-provision\\\" ssh-ed25519 AAAA\"\n",
        ),
    ];
    for (path, extra) in attempts {
        let v = cairn_config::validate(base(extra).as_bytes());
        assert!(v.config.is_none(), "{path}: accepted");
        assert!(
            v.diagnostics.iter().any(|d| d.severity == Severity::Error && d.path == path),
            "{path}: {:#?}",
            v.diagnostics
        );
    }
}
