//! The compatibility promise of CONFIG.md: configs the AtomixOS validator accepts are
//! accepted here, and configs it rejects are rejected here. Each case below is one
//! AtomixOS rule, written the way an AtomixOS operator writes it.

const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINMeyLr+EOiFUGkNDE86YOpdLvmMSDdge2ci2auycMLj op@site";

fn config(extra: &str) -> String {
    format!(
        "version = 1\n\n[users.admin]\nisAdmin = true\nssh_key = \"{KEY}\"\n\n[activation]\nrequired = [\"app\"]\n\n\
         [containers.container.app]\nprivileged = true\n[containers.container.app.Container]\nImage = \"docker.io/library/caddy:2\"\n\n{extra}"
    )
}

fn assert_valid(name: &str, text: &str) {
    let v = cairn_config::validate(text.as_bytes());
    assert!(v.is_valid(), "{name}: AtomixOS accepts this, so must we: {:#?}", v.diagnostics);
}

fn assert_invalid(name: &str, text: &str) {
    let v = cairn_config::validate(text.as_bytes());
    assert!(!v.is_valid(), "{name}: AtomixOS rejects this, so must we");
}

#[test]
fn accepted_by_atomixos_and_by_cairn() {
    let cases = [
        ("minimal", config("")),
        ("non-admin without key", config("[users.viewer]\nssh_key = \"\"\n")),
        ("non-admin with isAdmin false", config("[users.viewer]\nisAdmin = false\n")),
        ("explicit dnsmasq defaults", config("[network.dnsmasq]\nenable = true\ninterface = \"eth1\"\ngateway_cidr = \"172.20.30.1/24\"\ndhcp_start = \"172.20.30.10\"\ndhcp_end = \"172.20.30.254\"\ndomain = \"local\"\nhostname_pattern = \"\"\ngateway_aliases = []\n")),
        ("eth1 static matching dnsmasq", config("[network.interfaces.eth1]\nmode = \"static\"\naddress = \"10.10.0.1/24\"\n\n[network.dnsmasq]\ngateway_cidr = \"10.10.0.1/24\"\ndhcp_start = \"10.10.0.50\"\ndhcp_end = \"10.10.0.60\"\n")),
        ("eth0 dhcp", config("[network.interfaces.eth0]\nmode = \"dhcp\"\n")),
        ("ntp by IP and name", config("[network.ntp]\nservers = [\"192.0.2.1\", \"pool.ntp.org\"]\n")),
        ("firewall scopes", config("[network.firewall.inbound.wan]\ntcp = [443]\nudp = []\n\n[network.firewall.inbound.lan]\ntcp = [8443]\n")),
        ("os upgrade with port and path", config("[os_upgrade]\nserver_url = \"https://ota.example.com:8443/fleet/\"\n")),
        ("activation options", config("").replace("required = [\"app\"]", "required = [\"app\"]\ntimeout_seconds = 3600\nsettle_seconds = 300\nrestart = [\"app\"]\nallow_degraded = []\nstrategy = \"rollback\"")),
        ("privileged host network", config("").replace("Image = \"docker.io/library/caddy:2\"", "Image = \"docker.io/library/caddy:2\"\nNetwork = \"host\"")),
        ("network, volume and build units", config("[containers.network.mgmt.Network]\n\n[containers.volume.data.Volume]\n\n[containers.build.ws.Build]\nImageTag = \"localhost/ws:latest\"\nFile = \"${FILES_DIR}/ws/Containerfile\"\n")),
        ("integer and boolean directive values", config("").replace("Image = \"docker.io/library/caddy:2\"", "Image = \"docker.io/library/caddy:2\"\nReadOnly = true\nStopTimeout = 30")),
        ("shell choice", config("[users.dev]\nshell = \"zsh\"\n")),
    ];
    for (name, text) in &cases {
        assert_valid(name, text);
    }
}

#[test]
fn rejected_by_atomixos_and_by_cairn() {
    let cases = [
        ("version as string", config("").replace("version = 1", "version = \"1\"")),
        ("no admin key", config("").replace(&format!("ssh_key = \"{KEY}\""), "ssh_key = \"\"")),
        ("reserved user", config("[users.dnsmasq]\n")),
        ("dnsmasq disabled", config("[network.dnsmasq]\nenable = false\n")),
        ("dnsmasq on eth0", config("[network.dnsmasq]\ninterface = \"eth0\"\n")),
        ("gateway prefix /8", config("[network.dnsmasq]\ngateway_cidr = \"10.0.0.1/8\"\n")),
        ("range contains gateway", config("[network.dnsmasq]\ndhcp_start = \"172.20.30.1\"\n")),
        ("eth1 dhcp", config("[network.interfaces.eth1]\nmode = \"dhcp\"\n")),
        ("wlan interface", config("[network.interfaces.wlan0]\nmode = \"dhcp\"\n")),
        ("WAN 8080", config("[network.firewall.inbound.wan]\ntcp = [8080]\n")),
        ("port 0", config("[network.firewall.inbound.lan]\nudp = [0]\n")),
        ("http OTA", config("[os_upgrade]\nserver_url = \"http://ota.example.com\"\n")),
        ("required unknown", config("").replace("required = [\"app\"]", "required = [\"nope\"]")),
        (
            "degraded and required",
            config("").replace("required = [\"app\"]", "required = [\"app\"]\nallow_degraded = [\"app\"]"),
        ),
        (
            "strategy manual",
            config("").replace("required = [\"app\"]", "required = [\"app\"]\nstrategy = \"manual-confirm\""),
        ),
        (
            "timeout above 3600",
            config("").replace("required = [\"app\"]", "required = [\"app\"]\ntimeout_seconds = 3601"),
        ),
        ("container without privileged", config("[containers.container.b.Container]\nImage = \"x\"\n")),
        ("unit name with dot", config("[containers.volume.\"a.b\".Volume]\n")),
        ("unknown top-level key", config("[health]\nrequired = [\"app\"]\n")),
        ("hostname pattern without {mac}", config("[network.dnsmasq]\nhostname_pattern = \"dev\"\n")),
    ];
    for (name, text) in &cases {
        assert_invalid(name, text);
    }
}

#[test]
fn defaults_apply_without_a_network_table() {
    let v = cairn_config::validate(config("").as_bytes());
    let network = &v.config.expect("valid").network;
    assert_eq!(network.ntp_servers, ["time.cloudflare.com"]);
    assert_eq!(network.dnsmasq.gateway.to_string(), "172.20.30.1/24");
    assert_eq!(network.dnsmasq.dhcp_start.to_string(), "172.20.30.10");
    assert_eq!(network.dnsmasq.dhcp_end.to_string(), "172.20.30.254");
}
