# Mirrors `tests/vm/run apply` (tests/vm/src/suites/apply.rs) on a NixOS test machine
# with the provision module: the pipeline against real systemd, Quadlet and Podman,
# rootful and rootless (appsvc). Six containers instead of the suite's ten, and no
# benchmark line; the checks are the suite's:
#   first apply starts every container, rootful serves on the host network, rootless only
#   on 127.0.0.1; the .build unit stays active (RemainAfterExit=yes); a re-apply changing
#   one container restarts only it; Restart= from [Service] works; a broken container
#   fails the apply and rolls back; changing only files/ rebuilds the image and restarts
#   its containers; a removed container is stopped and its unit is gone; after a reboot
#   cairn-boot.service brings the current generation back.
# The machine is a NixOS test VM, not the squashfs image: its root is a writable disk.
{ pkgs, lib, ... }:
let
  f = import ./fixture.nix { inherit pkgs lib; };
  set = name: change: map (c: if c.name == name then c // change else c);
  a = [
    (f.httpd "c01" 8101)
    (f.sleeper "c03" // { restartAlways = true; })
    (f.sleeper "c05")
    (f.sleeper "c06")
    (f.rootlessHttpd "c09" 8209)
    (f.rootlessHttpd "c10" 8210)
  ];
  b = set "c05" { revision = 2; } a;
  page = "cairn apply test\n";
  changedPage = "cairn apply test, files changed\n";
  bundles = f.bundles {
    a = {
      containers = a;
      inherit page;
      settleSeconds = 10;
    };
    b = {
      containers = b;
      inherit page;
      settleSeconds = 10;
    };
    broken = {
      containers = set "c06" { exec = "/bin/busybox false"; } b;
      inherit page;
      settleSeconds = 10;
    };
    e = {
      containers = b;
      page = changedPage;
      settleSeconds = 10;
    };
    d = {
      containers = builtins.filter (c: c.name != "c10") b;
      page = changedPage;
      settleSeconds = 10;
    };
  };
in
{
  name = "cairn-apply";
  nodes.machine = {
    cairn.provision.enable = true;
    # provision reloads networkd for the config's ports, as on the appliance.
    networking.useNetworkd = true;
    virtualisation.memorySize = 2048;
    virtualisation.cores = 2;
    virtualisation.diskSize = 4096;
  };
  testScript = ''
    import json
    import re

    API = "http://127.0.0.1:8080"
    APPSVC = ("runuser -u appsvc -- env XDG_RUNTIME_DIR=/run/user/900 "
              "DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/900/bus systemctl --user")
    ROOTFUL = ["c01", "c03", "c05", "c06"]
    PAGE = ${builtins.toJSON page}
    CHANGED = ${builtins.toJSON changedPage}


    def unit(name, rootful=True):
        out = machine.succeed(
            f"{'systemctl' if rootful else APPSVC} show "
            f"-p LoadState -p ActiveState -p MainPID -p NRestarts {name}"
        )
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


    def states(names):
        return {n: unit(f"{n}.service", n in ROOTFUL) for n in names}


    def all_active(names):
        s = states(names)
        down = {n: v["ActiveState"] for n, v in s.items() if v["ActiveState"] != "active"}
        assert not down, f"not active: {down}"
        return s


    def apply(name, expect_ok=True):
        status, out = machine.execute(
            f"provision apply --url {API} --key ${bundles}/id ${bundles}/{name}.tar.gz 2>&1"
        )
        m = re.search(r"submitted job (\S+)", out)
        assert m, f"no job was submitted: {out}"
        job = json.loads(machine.succeed(f"curl -sf {API}/api/jobs/{m.group(1)}"))
        if expect_ok:
            assert status == 0 and job["state"] == "succeeded", f"apply {name} failed: {out}\n{job}"
        return status, job


    def event(job, step, status):
        for e in job.get("events", []):
            if e.get("step") == step and e.get("status") == status:
                return e.get("message", "")
        return ""


    def store():
        status, out = machine.execute("provision generations --state-dir /data/cairn --verify --format json")
        v = json.loads(out)
        return (v["status"].get("current") or {}).get("id"), status == 0


    def fetch(url):
        return machine.succeed(f"curl -sS --max-time 10 {url}")


    machine.wait_for_unit("provision.socket")
    machine.wait_until_succeeds(f"curl -sf {API}/api/health | grep -q ok")
    assert store()[0] is None, "the new machine is already provisioned"

    with subtest("first apply succeeds and starts all containers"):
        apply("a")
        names = ["c01", "c03", "c05", "c06", "c09", "c10"]
        all_active(names)

    with subtest(".build units stay active (RemainAfterExit=yes), rootful and rootless"):
        for cmd in ["systemctl", APPSVC]:
            out = machine.succeed(f"{cmd} show -p RemainAfterExit -p ActiveState bb-build.service")
            assert "RemainAfterExit=yes" in out and "ActiveState=active" in out, out

    with subtest("rootful container answers on the host network"):
        assert fetch("http://127.0.0.1:8101/") == PAGE

    with subtest("rootless container answers on its 127.0.0.1 port, and only there"):
        assert fetch("http://127.0.0.1:8209/") == PAGE
        listening = machine.succeed("ss -ltnH 'sport = :8209'").strip().splitlines()
        assert listening and all("127.0.0.1:8209" in l for l in listening), listening
        # The config's LAN address is up (provisioned networkd settings), and 8209 is closed there.
        machine.succeed("ip -4 -o addr show dev eth1 | grep -q ' 172.20.30.1/24 '")
        machine.fail("curl -sS --max-time 5 http://172.20.30.1:8209/")

    with subtest("re-apply changing c05 restarts only c05"):
        before = states(names)
        _, job = apply("b")
        after = all_active(names)
        for n in names:
            if n == "c05":
                assert after[n]["MainPID"] != before[n]["MainPID"], "c05 kept its PID"
            else:
                assert after[n]["MainPID"] == before[n]["MainPID"], f"{n} changed PID"
        summary = event(job, "activate", "succeeded")
        assert re.search(r"restarted 1\b", summary), f"activate: {summary}"

    with subtest("Restart=always from [Service] restarts a killed container"):
        old = unit("c03.service")
        machine.succeed("systemctl kill --signal=SIGKILL c03.service")
        machine.wait_until_succeeds(
            "systemctl show -P ActiveState c03.service | grep -qx active && "
            f"[ $(systemctl show -P NRestarts c03.service) -gt {old['NRestarts']} ] && "
            f"[ $(systemctl show -P MainPID c03.service) -ne {old['MainPID']} ]",
            timeout=120,
        )

    with subtest("a broken container fails the apply and rolls back to the old one"):
        current_b, _ = store()
        status, job = apply("broken", expect_ok=False)
        assert status != 0 and job["state"] == "failed", f"the broken apply did not fail: {job}"
        assert job["rollback"] == "completed", f"rollback: {job}"
        current, verified = store()
        assert current == current_b and verified, f"current {current}, expected {current_b}"
        all_active(names)
        assert "busybox false" not in machine.succeed("cat /run/containers/systemd/c06.container")

    with subtest("changing only files/ rebuilds the image; its containers restart and serve it"):
        before = states(names)
        _, job = apply("e")
        planned = event(job, "plan", "succeeded")
        assert "restart 2," in planned, f"plan: {planned}"
        after = all_active(names)
        kept = [n for n in names if after[n]["MainPID"] == before[n]["MainPID"]]
        assert not kept, f"not restarted with the new image: {kept}"
        for url in ["http://127.0.0.1:8101/", "http://127.0.0.1:8209/"]:
            assert fetch(url) == CHANGED, url

    with subtest("removing c10 stops it and its unit is gone"):
        apply("d")
        names.remove("c10")
        c10 = unit("c10.service", rootful=False)
        assert c10["LoadState"] == "not-found" and c10["ActiveState"] == "inactive", c10
        ps = machine.succeed(
            "runuser -u appsvc -- env XDG_RUNTIME_DIR=/run/user/900 podman ps --format '{{.Names}}'"
        ).split()
        assert "systemd-c10" not in ps and "systemd-c09" in ps, ps
        machine.fail("curl -sS --max-time 5 http://127.0.0.1:8210/")
        all_active(names)

    with subtest("after a reboot the current generation's containers run again"):
        machine.shutdown()
        machine.start()
        machine.wait_for_unit("cairn-boot.service")
        all_active(names)
        assert fetch("http://127.0.0.1:8209/") == CHANGED
  '';
}
