//! Real peers accept what the renderer writes, for every golden case:
//! - Podman 5.4.2's Quadlet generator turns every Quadlet file into a service
//!   (generator mode, rootful and `-user`), exit 0 and nothing on stderr;
//! - `systemd-analyze verify` (the host's systemd) accepts every generated service
//!   and `cairn-kiosk.service`, with any stderr line counted as a failure;
//! - `nft -c -f` accepts the firewall ruleset; `dnsmasq --test` the LAN config.
//!
//! A missing peer fails the test with the package to install: run
//! `tests/peers/install.sh` (or set `CAIRN_QUADLET` to a quadlet binary).

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cairn_config::Mode;
use common::{case_name, cases, render_case, write_tree};
use quadlet_render::{QUADLET_ROOTFUL_DIR, QUADLET_ROOTLESS_DIR, Rendered, SYSTEMD_DIR};

/// Programs the rendered units run; verify needs each to exist (as a stub).
const UNIT_PROGRAMS: &[&str] = &["podman", "cage", "cairn-kiosk"];

fn peers_dir() -> PathBuf {
    std::env::var_os("CAIRN_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/cairn/peers"))
}

fn chronyd() -> PathBuf {
    let path = std::env::var_os("CAIRN_CHRONYD")
        .map(PathBuf::from)
        .unwrap_or_else(|| peers_dir().join("chrony/usr/sbin/chronyd"));
    assert!(
        path.is_file(),
        "chronyd is missing at {}: run tests/peers/install.sh (extracts Debian's `chrony` package) or set CAIRN_CHRONYD",
        path.display()
    );
    path
}

fn quadlet() -> PathBuf {
    let path = match std::env::var_os("CAIRN_QUADLET") {
        Some(p) => PathBuf::from(p),
        None => peers_dir().join("podman-5.4.2/usr/libexec/podman/quadlet"),
    };
    assert!(
        path.is_file(),
        "Podman 5.4.2's quadlet generator is missing at {}: run tests/peers/install.sh \
         (extracts Debian trixie's `podman` package) or set CAIRN_QUADLET",
        path.display()
    );
    path
}

fn tool(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path).chain(["/usr/sbin", "/sbin", "/usr/bin"].map(PathBuf::from));
    for dir in dirs {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!("`{name}` is missing: install the Debian package `{package}` (tests/peers/install.sh does)");
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"))
}

fn assert_clean(what: &str, out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "{what}: exit {:?}\nstderr:\n{stderr}\nstdout:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Generated services of one manager: file name → contents.
type Generated = BTreeMap<String, String>;

fn generate(case: &str, rendered_root: &Path, out: &Path, mode: Mode) -> Generated {
    let (dir, user) = match mode {
        Mode::Rootful => (QUADLET_ROOTFUL_DIR, false),
        Mode::Rootless => (QUADLET_ROOTLESS_DIR, true),
    };
    let units = rendered_root.join(dir);
    fs::create_dir_all(out).unwrap();
    if !units.is_dir() {
        return Generated::new();
    }
    let mut cmd = Command::new(quadlet());
    cmd.env_clear().env("QUADLET_UNIT_DIRS", &units);
    if user {
        cmd.arg("-user");
    }
    cmd.arg("-no-kmsg-log").arg(out);
    assert_clean(&format!("{case}: quadlet generator ({mode:?})"), &run(&mut cmd));
    let mut generated = Generated::new();
    for e in fs::read_dir(out).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "service") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            generated.insert(name, fs::read_to_string(&path).unwrap());
        }
    }
    generated
}

fn stub(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    fs::write(path, "#!/bin/sh\nexit 0\n").unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    let out = run(Command::new("cp").arg("-a").arg(from).arg(to));
    assert!(
        out.status.success(),
        "cp -a {} {}: {}",
        from.display(),
        to.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// System services: verified in a fake root holding the host's units and stub programs.
fn verify_system(case: &str, tmp: &Path, services: &[PathBuf]) {
    if services.is_empty() {
        return;
    }
    let root = tmp.join("root");
    fs::create_dir_all(root.join("usr/lib/systemd")).unwrap();
    fs::create_dir_all(root.join("usr/bin")).unwrap();
    let units = root.join("etc/systemd/system");
    fs::create_dir_all(&units).unwrap();
    copy_dir(Path::new("/lib/systemd/system"), &root.join("usr/lib/systemd/system"));
    for p in UNIT_PROGRAMS {
        stub(&root.join("usr/bin").join(p));
    }
    let mut cmd = Command::new(tool("systemd-analyze", "systemd"));
    cmd.arg("verify").arg("--man=no").arg(format!("--root={}", root.display()));
    for s in services {
        let dest = units.join(s.file_name().unwrap());
        fs::copy(s, &dest).unwrap();
        cmd.arg(&dest);
    }
    assert_clean(&format!("{case}: systemd-analyze verify (system)"), &run(&mut cmd));
}

/// User services: systemd 252 cannot combine `--user` with `--root`, so the stub
/// programs are laid over /usr/bin with an overlay mount in a private mount
/// namespace (nothing changes outside this one command).
fn verify_user(case: &str, tmp: &Path, services: &[PathBuf]) {
    if services.is_empty() {
        return;
    }
    let upper = tmp.join("overlay-upper");
    let work = tmp.join("overlay-work");
    let runtime = tmp.join("xdg-runtime");
    for d in [&upper, &work, &runtime] {
        fs::create_dir_all(d).unwrap();
    }
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(&runtime, fs::Permissions::from_mode(0o700)).unwrap();
    for p in UNIT_PROGRAMS {
        stub(&upper.join(p));
    }
    let analyze = tool("systemd-analyze", "systemd");
    let mut cmd = Command::new(tool("unshare", "util-linux"));
    cmd.env("XDG_RUNTIME_DIR", &runtime)
        .args(["--mount", "--propagation", "private", "--", "sh", "-euc"])
        .arg(
            "mount -t overlay overlay -o \"lowerdir=/usr/bin,upperdir=$1,workdir=$2\" /usr/bin; \
             analyze=$3; shift 3; exec \"$analyze\" --user verify --man=no \"$@\"",
        )
        .arg("sh")
        .arg(&upper)
        .arg(&work)
        .arg(&analyze)
        .args(services);
    assert_clean(&format!("{case}: systemd-analyze --user verify"), &run(&mut cmd));
}

fn check_host_files(case: &str, root: &Path) {
    let nft = run(Command::new(tool("nft", "nftables")).arg("-c").arg("-f").arg(root.join("firewall/nftables.conf")));
    assert_clean(&format!("{case}: nft -c -f firewall/nftables.conf"), &nft);
    let dnsmasq = run(Command::new(tool("dnsmasq", "dnsmasq-base"))
        .arg("--test")
        .arg(format!("--conf-file={}", root.join("network/dnsmasq.conf").display())));
    let stderr = String::from_utf8_lossy(&dnsmasq.stderr);
    assert!(
        dnsmasq.status.success() && stderr == "dnsmasq: syntax check OK.\n",
        "{case}: dnsmasq --test: exit {:?}: {stderr}",
        dnsmasq.status.code()
    );
    // `-p` parses the file, prints the directives it read and exits: nothing starts.
    let chrony = run(Command::new(chronyd()).arg("-p").arg("-f").arg(root.join("network/chrony.conf")));
    assert_clean(&format!("{case}: chronyd -p -f network/chrony.conf"), &chrony);
}

/// Runs every peer over one rendered case; returns the generated services.
fn check_case(case: &str, rendered: &Rendered) -> (Generated, Generated) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("rendered");
    fs::create_dir_all(&root).unwrap();
    write_tree(&root, rendered);

    let rootful_out = tmp.path().join("gen-rootful");
    let rootless_out = tmp.path().join("gen-rootless");
    let rootful = generate(case, &root, &rootful_out, Mode::Rootful);
    let rootless = generate(case, &root, &rootless_out, Mode::Rootless);
    for unit in &rendered.manifest.units {
        let generated = match (unit.kind.as_str(), unit.mode) {
            ("service", _) => continue,
            (_, Mode::Rootful) => &rootful,
            (_, Mode::Rootless) => &rootless,
        };
        assert!(generated.contains_key(&unit.service), "{case}: {} generated no {}", unit.path, unit.service);
        // [Install] WantedBy= (given or the renderer's default) makes the generator
        // link the service into the target's .wants/, i.e. it starts at boot.
        let out = if unit.mode == Mode::Rootful { &rootful_out } else { &rootless_out };
        let contents = &rendered.get(&unit.path).unwrap().contents;
        for target in contents.lines().filter_map(|l| l.strip_prefix("WantedBy=")) {
            let link = out.join(format!("{target}.wants")).join(&unit.service);
            assert!(link.exists(), "{case}: {} is not linked into {}", unit.service, link.display());
        }
        if unit.kind == "container" {
            assert!(contents.contains("\n[Install]\n"), "{case}: {} has no [Install]", unit.path);
        }
    }

    let mut system: Vec<PathBuf> = rootful.keys().map(|s| rootful_out.join(s)).collect();
    let native = root.join(SYSTEMD_DIR);
    if native.is_dir() {
        for e in fs::read_dir(&native).unwrap() {
            system.push(e.unwrap().path());
        }
    }
    verify_system(case, tmp.path(), &system);
    let user: Vec<PathBuf> = rootless.keys().map(|s| rootless_out.join(s)).collect();
    verify_user(case, tmp.path(), &user);
    check_host_files(case, &root);
    (rootful, rootless)
}

fn exec_start(services: &Generated, service: &str) -> String {
    let text = services.get(service).unwrap_or_else(|| panic!("no generated {service}"));
    text.lines().filter(|l| l.starts_with("ExecStart")).collect::<Vec<_>>().join("\n")
}

/// What the generated commands must (and must not) contain, per case.
struct Expect {
    case: &'static str,
    mode: Mode,
    service: &'static str,
    contains: &'static [&'static str],
    lacks: &'static [&'static str],
}

const EXPECT: &[Expect] = &[
    Expect {
        case: "rootless-publish",
        mode: Mode::Rootless,
        service: "web.service",
        contains: &[
            "--network pasta",
            "--publish 127.0.0.1:8080:80",
            "--publish 127.0.0.1:8443:443",
            "--publish 127.0.0.1:5353:53/udp",
            "-v /data/cairn/current/files/site:/usr/share/nginx/html:ro,Z",
            "--env CONFIG=/data/cairn/current/web.json",
        ],
        lacks: &["0.0.0.0", "${"],
    },
    Expect {
        case: "privileged-host",
        mode: Mode::Rootful,
        service: "proxy.service",
        contains: &["--network host", "--cap-add cap_net_bind_service"],
        lacks: &["--publish", "bridge"],
    },
    Expect {
        case: "shared-volumes",
        mode: Mode::Rootful,
        service: "db.service",
        contains: &["--network host", "-v systemd-shared:/var/lib/postgresql/data"],
        lacks: &[],
    },
    Expect {
        case: "shared-volumes",
        mode: Mode::Rootless,
        service: "worker.service",
        contains: &["--network pasta", "-v systemd-shared:/data:ro", "-v systemd-scratch:/scratch"],
        lacks: &[],
    },
    Expect {
        case: "shared-volumes",
        mode: Mode::Rootless,
        service: "shared-volume.service",
        contains: &["podman volume create --ignore", "systemd-shared"],
        lacks: &[],
    },
    Expect {
        case: "build",
        mode: Mode::Rootless,
        service: "app.service",
        contains: &["--network pasta", "--publish 127.0.0.1:9000:9000", "localhost/app:latest"],
        lacks: &[],
    },
    Expect {
        case: "build",
        mode: Mode::Rootless,
        service: "app-build.service",
        contains: &["podman build", "--tag localhost/app:latest", "--file /data/cairn/current/files/app/Containerfile"],
        lacks: &[],
    },
    Expect {
        case: "pod",
        mode: Mode::Rootless,
        service: "api.service",
        contains: &["--pod-id-file %t/stack-pod.pod-id"],
        lacks: &["--network"],
    },
    Expect {
        case: "pod",
        mode: Mode::Rootless,
        service: "stack-pod.service",
        contains: &["--network pasta", "--publish 127.0.0.1:8081:8080"],
        lacks: &[],
    },
    Expect {
        case: "network-unit",
        mode: Mode::Rootful,
        service: "backend-network.service",
        contains: &["podman network create --ignore", "--internal", "--subnet 10.89.0.0/24"],
        lacks: &[],
    },
];

#[test]
fn real_peers_accept_every_case() {
    let mut checked = 0;
    let mut generated = BTreeMap::new();
    for dir in cases() {
        let name = case_name(&dir);
        let (Ok(rendered), _) = render_case(&dir) else { continue };
        generated.insert(name.clone(), check_case(&name, &rendered));
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} valid cases");
    for e in EXPECT {
        let (rootful, rootless) = generated.get(e.case).unwrap_or_else(|| panic!("no case {}", e.case));
        let services = if e.mode == Mode::Rootful { rootful } else { rootless };
        let line = exec_start(services, e.service);
        for needle in e.contains {
            assert!(line.contains(needle), "{}: {} lacks {needle:?}:\n{line}", e.case, e.service);
        }
        for needle in e.lacks {
            assert!(!line.contains(needle), "{}: {} has {needle:?}:\n{line}", e.case, e.service);
        }
    }
}

/// `admin-signers` is what `ssh-keygen -Y verify` reads: a request signed with an
/// admin's key in the `cairn-provision` namespace verifies; another namespace does not.
#[test]
fn ssh_keygen_verifies_with_admin_signers() {
    let keygen = tool("ssh-keygen", "openssh-client");
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("id_ed25519");
    let out = run(Command::new(&keygen).args(["-q", "-t", "ed25519", "-N", "", "-C", "op@test", "-f"]).arg(&key));
    assert_clean("ssh-keygen -t ed25519", &out);
    let public = fs::read_to_string(key.with_extension("pub")).unwrap();
    let source = format!(
        "version = 1\n[users.alice]\nisAdmin = true\nssh_key = \"{}\"\n[users.bob]\nisAdmin = false\nssh_key = \"{}\"\n\
         [activation]\nrequired = [\"c\"]\n[containers.container.c]\nprivileged = false\n\
         [containers.container.c.Container]\nImage = \"x\"\n",
        public.trim(),
        public.trim()
    );
    let config = cairn_config::validate(source.as_bytes()).config.expect("valid config");
    let rendered = quadlet_render::render(&config, &quadlet_render::RenderContext::device()).unwrap();
    let signers = tmp.path().join("admin-signers");
    fs::write(&signers, &rendered.get("admin-signers").unwrap().contents).unwrap();
    let message = tmp.path().join("request");
    fs::write(&message, "cairn-request-v1\nmethod:POST\npath:/api/config\nquery:\nnonce:n\nsha256:00\n").unwrap();
    let sign = |namespace: &str| {
        let out = run(Command::new(&keygen).args(["-Y", "sign", "-n", namespace, "-f"]).arg(&key).arg(&message));
        // ssh-keygen reports what it signed on stderr; only the exit status counts.
        assert!(out.status.success(), "ssh-keygen -Y sign: {}", String::from_utf8_lossy(&out.stderr));
        let sig = tmp.path().join(format!("request.{namespace}.sig"));
        fs::rename(message.with_extension("sig"), &sig).unwrap();
        sig
    };
    let verify = |principal: &str, sig: &Path| {
        let mut cmd = Command::new(&keygen);
        cmd.args(["-Y", "verify", "-n", "cairn-provision", "-I", principal, "-f"]).arg(&signers).arg("-s").arg(sig);
        cmd.stdin(fs::File::open(&message).unwrap());
        run(&mut cmd).status.success()
    };
    let good = sign("cairn-provision");
    assert!(verify("alice", &good), "an admin's signature must verify");
    assert!(!verify("bob", &good), "a non-admin is not a signer");
    let other = sign("file");
    assert!(!verify("alice", &other), "another namespace must not verify");
}

/// The rendered firewall, loaded for real into a network namespace wired like a
/// device (tests/peers/firewall-netns.sh), lets through exactly what CONFIG.md
/// promises: WAN only its listed ports, LAN everything or its allowlist plus the
/// management ports, and never forwards. Every probe is open before the ruleset
/// is loaded, so each `dropped` is the firewall's doing.
#[test]
fn the_firewall_filters_real_connections() {
    tool("ip", "iproute2");
    tool("nft", "nftables");
    assert!(
        Path::new("/usr/bin/python3").is_file(),
        "/usr/bin/python3 is missing: install the Debian package `python3`"
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/firewall-netns.sh");
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "network-static",
            "22,80,443,9999",
            "22,8080,9000,9999",
            "wan 22 dropped\nwan 80 open\nwan 443 open\nwan 9999 dropped\n\
             lan 22 open\nlan 8080 open\nlan 9000 open\nlan 9999 dropped\nfwd 7000 dropped\n",
        ),
        (
            "firewall-wan-only",
            "22,443,8080,9999",
            "22,9999",
            "wan 22 open\nwan 443 open\nwan 8080 dropped\nwan 9999 dropped\n\
             lan 22 open\nlan 9999 open\nfwd 7000 dropped\n",
        ),
    ];
    for (case, wan, lan, expected) in cases {
        let dir = common::cases_dir().join(case);
        let (Ok(rendered), _) = render_case(&dir) else { panic!("{case} renders") };
        let tmp = tempfile::tempdir().unwrap();
        let rules = tmp.path().join("nftables.conf");
        fs::write(&rules, &rendered.get("firewall/nftables.conf").unwrap().contents).unwrap();
        let out = run(Command::new("bash").arg(&script).arg(&rules).arg(wan).arg(lan));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{case}: firewall-netns.sh failed:\n{}", String::from_utf8_lossy(&out.stderr));
        let (before, after): (Vec<&str>, Vec<&str>) = stdout.lines().partition(|l| l.starts_with("before:"));
        assert!(before.iter().all(|l| l.ends_with(" open")), "{case}: the wiring is broken:\n{stdout}");
        let after: String = after.iter().map(|l| format!("{l}\n")).collect();
        similar_asserts::assert_eq!(*expected, after.as_str(), "{case}");
    }
}

/// systemd-networkd itself parses every rendered `.network` file without a
/// complaint (tests/peers/networkd-parse.sh). A deliberately bad file rides along
/// in the same run to prove complaints are seen.
#[test]
fn networkd_parses_every_network_file_cleanly() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/networkd-parse.sh");
    let tmp = tempfile::tempdir().unwrap();
    let mut files = 0;
    for dir in cases() {
        let name = case_name(&dir);
        let (Ok(rendered), _) = render_case(&dir) else { continue };
        for f in rendered.files.iter().filter(|f| f.path.ends_with(".network") && f.path.starts_with("network/")) {
            let file = f.path.rsplit('/').next().unwrap();
            fs::write(tmp.path().join(format!("{name}-{file}")), &f.contents).unwrap();
            files += 1;
        }
    }
    assert!(files >= 20, "only {files} .network files");
    fs::write(tmp.path().join("zz-control.network"), "[Match]\nName=eth9\n\n[Network]\nBogusKey=1\n").unwrap();
    let out = run(Command::new("bash").arg(&script).arg(tmp.path()));
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "networkd-parse.sh failed:\n{text}");
    assert!(text.contains("Enumeration completed"), "networkd did not start:\n{text}");
    let complaints: Vec<&str> = text.lines().filter(|l| l.starts_with("/etc/systemd/network/")).collect();
    assert_eq!(
        complaints,
        ["/etc/systemd/network/zz-control.network:5: Unknown key 'BogusKey' in section [Network], ignoring."],
        "networkd complained:\n{text}"
    );
}
