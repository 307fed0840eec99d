# Mirrors `tests/vm/run power-cut` (tests/vm/src/suites/power_cut.rs): hard resets during
# re-applies. `machine.crash()` quits qemu at once (the guest's unwritten page cache is
# lost, nothing is shut down), then the machine boots again. After every cut exactly one
# generation is current and complete (`provision generations --verify`), it is not
# older than before the cut, the containers that run are its own (rootful and rootless
# serve its page), and provision is healthy; after all cuts a signed re-apply succeeds.
# The suite cuts 20 times at random moments (CAIRN_VM_POWER_CUTS, CAIRN_VM_SEED); here
# the cuts are fixed fractions of the measured re-apply time, so a run is reproducible.
# The machine is a NixOS test VM, not the squashfs image: its root is a writable disk.
{ pkgs, lib, ... }:
let
  f = import ./fixture.nix { inherit pkgs lib; };
  revision =
    n:
    let
      rev = c: c // { revision = n; };
    in
    {
      containers = [
        (rev (f.httpd "p1" 8101))
        (rev (f.rootlessHttpd "p2" 8209))
      ];
      page = "cairn power-cut revision ${toString n}\n";
      settleSeconds = 0;
    };
  bundles = f.bundles {
    rev1 = revision 1;
    rev2 = revision 2;
  };
in
{
  name = "cairn-power-cut";
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
    import time

    API = "http://127.0.0.1:8080"
    APPSVC = ("runuser -u appsvc -- env XDG_RUNTIME_DIR=/run/user/900 "
              "DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/900/bus systemctl --user")
    PAGES = {"rev1": ${builtins.toJSON (revision 1).page}, "rev2": ${builtins.toJSON (revision 2).page}}
    FRACTIONS = [0.1, 0.3, 0.5, 0.7, 0.9, 1.1]


    def apply_cmd(name):
        return f"provision apply --url {API} --key ${bundles}/id ${bundles}/{name}.tar.gz"


    def store():
        status, out = machine.execute("provision generations --state-dir /data/cairn --verify --format json")
        v = json.loads(out)
        return (v["status"].get("current") or {}).get("id"), status == 0 and not v["damaged"], v


    def current_page():
        return machine.succeed("cat /data/cairn/current/files/www/index.html")


    def other(page):
        return "rev1" if page == PAGES["rev2"] else "rev2"


    def healthy(before):
        machine.wait_for_unit("cairn-boot.service")
        machine.wait_until_succeeds(f"curl -sf {API}/api/health | grep -q ok", timeout=120)
        current, verified, v = store()
        assert verified, f"store does not verify: {v}"
        assert current is not None and current >= before, f"current went from {before} to {current}"
        page = current_page()
        assert page in PAGES.values(), f"current's page is neither config's: {page!r}"
        for systemctl, service, url in [
            ("systemctl", "p1.service", "http://127.0.0.1:8101/"),
            (APPSVC, "p2.service", "http://127.0.0.1:8209/"),
        ]:
            state = machine.succeed(f"{systemctl} show -P ActiveState {service}").strip()
            assert state == "active", f"{service} is {state}"
            served = machine.succeed(f"curl -sS --max-time 10 {url}")
            assert served == page, f"{service} serves {served!r}, current's page is {page!r}"
        return current


    machine.wait_for_unit("provision.socket")
    machine.wait_until_succeeds(f"curl -sf {API}/api/health | grep -q ok")

    with subtest("first apply and one uninterrupted re-apply succeed"):
        machine.succeed(apply_cmd("rev1"))
        started = time.monotonic()
        machine.succeed(apply_cmd("rev2"))
        window = time.monotonic() - started
        machine.log(f"re-apply took {window:.1f} s; cuts at {FRACTIONS} of it")

    kept_old = got_new = 0
    for i, fraction in enumerate(FRACTIONS, start=1):
        with subtest(f"cut {i} at {fraction:.0%} of a re-apply: one complete generation is current and runs"):
            before, _, _ = store()
            bundle = other(current_page())
            machine.succeed(f"systemd-run --unit=cut-apply-{i} --collect {apply_cmd(bundle)}")
            time.sleep(window * fraction)
            machine.crash()
            machine.start()
            current = healthy(before)
            if current == before:
                kept_old += 1
            else:
                got_new += 1
    machine.log(f"{kept_old} cuts kept the old generation, {got_new} ended on the new one")

    with subtest("after the cuts a signed re-apply still succeeds"):
        machine.succeed(apply_cmd(other(current_page())))
  '';
}
