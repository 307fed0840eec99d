#!/usr/bin/env bash
# `provision apply/status/export/generations --url` against a fresh dev-mode server, as an
# operator uses them: first boot unsigned, then signed with a key file and via ssh-agent.
# Env: CAIRN_URL, PROVISION. Needs ssh-keygen, ssh-agent, ssh-add.
set -uo pipefail
T=$(mktemp -d)
SSH_AGENT_PID=
trap '[ -n "$SSH_AGENT_PID" ] && kill "$SSH_AGENT_PID" 2>/dev/null; rm -rf "$T"' EXIT
passed=0; failed=0
check() { # check NAME COMMAND...
    local name=$1; shift
    if "$@" >"$T/out" 2>&1; then passed=$((passed + 1)); echo "ok   $name"
    else failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' "$T/out"; fi
}
expect_fail() { ! "$@"; }
contains() { grep -q -- "$1" "$T/out"; }

ssh-keygen -q -t ed25519 -N '' -C admin -f "$T/admin"
ssh-keygen -q -t ecdsa -b 256 -N '' -C agent -f "$T/agent"
ssh-keygen -q -t rsa -b 3072 -N '' -C stranger -f "$T/stranger"
config() { # config KEY.pub...
    echo "version = 1"
    local i=0 k
    for k in "$@"; do
        printf '\n[users.admin%s]\nisAdmin = true\nssh_key = "%s"\n' "$i" "$(cat "$k")"; i=$((i + 1))
    done
    printf '\n[activation]\nrequired = ["web"]\n\n[containers.container.web]\nprivileged = false\n\n'
    printf '[containers.container.web.Container]\nImage = "docker.io/library/nginx:1.27"\nPublishPort = "8080:80"\n'
}
config "$T/admin.pub" >"$T/first.toml"
config "$T/admin.pub" "$T/agent.pub" >"$T/second.toml"
printf 'version = 1\n[users.admin]\nisAdmin = true\nshel = "bash"\n' >"$T/invalid.toml"
export SSH_AUTH_SOCK="$T/no-agent"   # no agent until we start one

check "invalid config: exit 1 with the diagnostic and its line" \
    bash -c "'$PROVISION' apply --url '$CAIRN_URL' '$T/invalid.toml' >'$T/o' 2>&1; s=\$?; cat '$T/o'; [ \$s -eq 1 ] && grep -q 'shel' '$T/o' && grep -q 'invalid.toml:4' '$T/o'"
check "first boot: unsigned apply succeeds" \
    bash -c "'$PROVISION' apply --url '$CAIRN_URL' '$T/first.toml' && true"
check "unsigned re-apply is refused (non-zero, says why)" \
    bash -c "'$PROVISION' apply --url '$CAIRN_URL' '$T/second.toml' >'$T/o' 2>&1; s=\$?; cat '$T/o'; [ \$s -ne 0 ] && grep -q 'needs a signed request' '$T/o'"
check "apply signed with a key file" "$PROVISION" apply --url "$CAIRN_URL" --key "$T/admin" "$T/second.toml"
check "a non-admin key is refused" expect_fail "$PROVISION" apply --url "$CAIRN_URL" --key "$T/stranger" "$T/first.toml"
check "status (signed)" bash -c "'$PROVISION' status --url '$CAIRN_URL' --key '$T/admin' | grep -q 'provisioned: true'"
check "export returns the exact bytes" bash -c "'$PROVISION' export --url '$CAIRN_URL' --key '$T/admin' | cmp - '$T/second.toml'"
check "generations --url lists both" bash -c "[ \$('$PROVISION' generations --url '$CAIRN_URL' --key '$T/admin' --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"generations\"]))') -eq 2 ]"

eval "$(ssh-agent -s -a "$T/agent.sock")" >/dev/null
ssh-add -q "$T/agent" 2>/dev/null
check "apply signed through ssh-agent (no --key)" "$PROVISION" apply --url "$CAIRN_URL" "$T/first.toml"
check "agent key removed by that apply is refused" expect_fail "$PROVISION" status --url "$CAIRN_URL"
ssh-add -q "$T/admin" 2>/dev/null
check "--key FILE.pub selects that key in ssh-agent" "$PROVISION" status --url "$CAIRN_URL" --key "$T/admin.pub"

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
