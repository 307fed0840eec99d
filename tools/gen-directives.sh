#!/usr/bin/env bash
# Regenerate config/src/directives.rs: the directive names cairn-config
# accepts per Quadlet / systemd section, taken from the real tools.
#
#   Quadlet sections  <- podman-systemd.unit(5) shipped in Debian's podman
#                        package (Podman 5.4.2, trixie), both its per-section
#                        option tables and its per-key headings, which must
#                        agree; then every key is fed to that package's own
#                        quadlet generator (-dryrun) and must not be reported
#                        as "unsupported key", while a made-up key must be.
#   systemd sections  <- `systemd --dump-configuration-items` of the host's
#                        systemd ([Unit], [Service], [Install]).
#
# Usage: tools/gen-directives.sh [PODMAN_ROOT]
#   PODMAN_ROOT  a `dpkg-deb -x` of the podman 5.4.2 .deb; default: whatever
#                tests/peers/install-quadlet.sh installs (it downloads it).
# Env:   OUT      output file (default: config/src/directives.rs; '-' = stdout)
#        SYSTEMD  systemd binary to dump (default: /lib/systemd/systemd)
set -euo pipefail
export LC_ALL=C # byte order sort == Rust's str ordering

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EXPECT_PODMAN=5.4.2
OUT=${OUT:-$REPO/config/src/directives.rs}
SYSTEMD=${SYSTEMD:-/lib/systemd/systemd}

die() { echo "gen-directives: ERROR: $*" >&2; exit 1; }
log() { echo "gen-directives: $*" >&2; }

if [[ $# -ge 1 ]]; then
    ROOT=$(cd "$1" && pwd)
else
    q=$("$REPO/tests/peers/install-quadlet.sh")
    ROOT=${q%/usr/libexec/podman/quadlet}
fi
QUADLET=$ROOT/usr/libexec/podman/quadlet
MAN=$ROOT/usr/share/man/man5/podman-systemd.unit.5.gz
[[ -x $QUADLET ]] || die "no quadlet binary at $QUADLET"
[[ -f $MAN ]] || die "no man page at $MAN"

PODMAN_VERSION=$("$QUADLET" -version)
[[ $PODMAN_VERSION == "$EXPECT_PODMAN" ]] ||
    die "quadlet reports version '$PODMAN_VERSION', expected $EXPECT_PODMAN"
DEB_VERSION=unknown
if [[ -f $ROOT/CAIRN-DEB ]]; then
    DEB_VERSION=$(awk -F': ' '$1=="Version"{print $2}' "$ROOT/CAIRN-DEB")
fi

[[ -x $SYSTEMD ]] || die "no systemd binary at $SYSTEMD"
SYSTEMD_FULL=$("$SYSTEMD" --version | awk 'NR==1{print $2, $3}') # 252 (252.38-1~deb12u1)
SYSTEMD_VERSION=${SYSTEMD_FULL%% *}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- Quadlet keys from the man page ------------------------------------------
# Sections are ".SH <Kind> units [Section]" (plus ".SH Quadlet section
# [Quadlet]"). Inside one, the option table (.TS ... .TE) has one row per
# key whose first cell is "Key=example", and each key has a heading
# ".SS \fBKey=\fR ...". Emit "table<TAB>Section<TAB>Key<TAB>example" and
# "heading<TAB>Section<TAB>Key".
zcat "$MAN" | awk -F'\t' '
    /^\.SH / {
        sec = ""
        if (match($0, /\[[A-Za-z]+\][[:space:]]*$/)) {
            sec = substr($0, RSTART + 1, RLENGTH - 1); sub(/\].*/, "", sec)
        }
        next
    }
    sec == "" { next }
    /^\.TS/ { intable = 1; inblock = 0; next }
    /^\.TE/ { intable = 0; next }
    intable {
        if (inblock) { if ($0 ~ /^T}/) inblock = 0; next }
        if ($0 ~ /T\{[[:space:]]*$/) inblock = 1   # multi-line cell starts
        if ($1 ~ /^[A-Za-z0-9]+=/) {
            key = $1; sub(/=.*/, "", key)
            ex = $1; sub(/^[^=]*=/, "", ex); gsub(/\\&/, "", ex)
            print "table\t" sec "\t" key "\t" ex
        }
        next
    }
    /^\.SS \\fB[A-Za-z0-9]+=\\fR/ {
        key = $0; sub(/^\.SS \\fB/, "", key); sub(/=.*/, "", key)
        print "heading\t" sec "\t" key
    }
' >"$work/man.tsv"

QUADLET_SECTIONS=(Container Pod Network Volume Build Image Kube Quadlet)
for sec in "${QUADLET_SECTIONS[@]}"; do
    awk -F'\t' -v s="$sec" '$1=="table" && $2==s {print $3}' "$work/man.tsv" | sort -u >"$work/$sec.table"
    awk -F'\t' -v s="$sec" '$1=="heading" && $2==s {print $3}' "$work/man.tsv" | sort -u >"$work/$sec.heading"
    [[ -s $work/$sec.table ]] || die "man page: no option table found for [$sec]"
    if ! diff -u "$work/$sec.table" "$work/$sec.heading" >"$work/$sec.diff"; then
        cat "$work/$sec.diff" >&2
        die "man page: [$sec] option table and key headings disagree (see diff above)"
    fi
    cp "$work/$sec.table" "$work/$sec.keys"
done
# Keys the man page lists under more than one section are fine (e.g.
# ContainersConfModule); no section may be empty.
sed -n 's/^\(table\)\t\([^\t]*\)\t\([^\t]*\)\t.*/\2 \3/p' "$work/man.tsv" | sort | uniq -d >"$work/dups"
[[ ! -s $work/dups ]] || die "man page: duplicated table rows: $(tr '\n' ' ' <"$work/dups")"

# --- Cross-check every key against the real generator ------------------------
# One unit file per key, in one directory per section: the minimal unit
# that section needs plus "Key=<the man page's example value>". Any outcome
# is accepted except the generator naming the key as unsupported; the key
# must also not be silently dropped (the unit either converts or fails for
# another, value-related reason, which is reported). Keys whose example
# needs a companion key get one, so that every unit converts.
ext_of() { case $1 in Quadlet) echo container ;; *) tr '[:upper:]' '[:lower:]' <<<"$1" ;; esac; }
base_unit() { # section -> minimal valid body (without the key under test)
    case $1 in
        Container) printf '[Container]\nImage=localhost/cairn-test:latest\n' ;;
        Pod) printf '[Pod]\n' ;;
        Network) printf '[Network]\n' ;;
        Volume) printf '[Volume]\n' ;;
        Build) printf '[Build]\nImageTag=localhost/cairn-test:latest\nSetWorkingDirectory=/tmp\n' ;;
        Image) printf '[Image]\nImage=localhost/cairn-test:latest\n' ;;
        Kube) printf '[Kube]\nYaml=/tmp/cairn-test.yaml\n' ;;
        Quadlet) printf '[Container]\nImage=localhost/cairn-test:latest\n[Quadlet]\n' ;;
    esac
}
BOGUS=CairnMadeUpKey
bad=0
: >"$work/report"
for sec in "${QUADLET_SECTIONS[@]}"; do
    d=$work/units-$sec
    mkdir -p "$d"
    ext=$(ext_of "$sec")
    while read -r key; do
        ex=$(awk -F'\t' -v s="$sec" -v k="$key" '$1=="table" && $2==s && $3==k {print $4; exit}' "$work/man.tsv")
        {
            case $sec/$key in
                Container/Rootfs) printf '[Container]\n' ;; # conflicts with Image=
                *) base_unit "$sec" | grep -v "^$key=" || true ;;
            esac
            case $sec/$key in
                Container/Group) ex=1000; printf 'User=1000\n' ;;
                Container/Pod) ex=cairn-test.pod ;;
                Network/Gateway | Network/IPRange) printf 'Subnet=192.168.55.0/24\n'; ex=192.168.55.1 ;;
                Volume/Driver) printf 'Image=cairn-test.image\n' ;;
                Volume/Options | Volume/Type) printf 'Device=/dev/null\n' ;;
            esac
            printf '%s=%s\n' "$key" "$ex"
        } >"$d/k-$key.$ext"
    done <"$work/$sec.keys"
    { base_unit "$sec"; printf '%s=x\n' "$BOGUS"; } >"$d/k-$BOGUS.$ext"
    # Targets some example units refer to (Pod=, Volume Driver=image).
    printf '[Pod]\n' >"$d/cairn-test.pod"
    printf '[Image]\nImage=localhost/cairn-test:latest\n' >"$d/cairn-test.image"

    rc=0
    QUADLET_UNIT_DIRS=$d "$QUADLET" -dryrun -no-kmsg-log >"$work/$sec.out" 2>"$work/$sec.err" || rc=$?
    [[ $rc -ne 0 ]] || die "[$sec]: generator exited 0 although $BOGUS= was present"
    grep -q "unsupported key '$BOGUS' in group '$sec'" "$work/$sec.err" ||
        die "[$sec]: generator did not reject made-up key $BOGUS= (stderr: $work/$sec.err)"

    n=0 gen=0 other=0
    while read -r key; do
        n=$((n + 1))
        if grep -q "unsupported key '$key' in group '$sec'" "$work/$sec.err"; then
            log "[$sec] $key: REJECTED by quadlet $PODMAN_VERSION"
            bad=1
        elif grep -qxF "SourcePath=$d/k-$key.$ext" "$work/$sec.out"; then
            # converted (matched by source file: ServiceName= renames the unit)
            gen=$((gen + 1))
        else
            msg=$(grep -F "\"k-$key.$ext\"" "$work/$sec.err" | sed 's/^[^:]*: //' | head -n1 || true)
            [[ -n $msg ]] || { log "[$sec] $key: neither converted nor an error reported"; bad=1; }
            echo "[$sec] $key: accepted; example value fails later: $msg" >>"$work/report"
            other=$((other + 1))
        fi
    done <"$work/$sec.keys"
    log "[$sec] $n keys: $gen converted, $other rejected for their value only, made-up key rejected"
done
[[ $bad -eq 0 ]] || die "some man-page keys are not accepted by the generator"

# --- Reverse probe: accepted by the generator, but not documented there --------
# Candidates: every key the man page documents in *any* section, plus
# legacy names older Quadlet versions documented. The generator decides;
# such keys are NOT put in the lists (they are undocumented for that
# section in this version) but are named in the generated header.
LEGACY=(RemapGid RemapUid RemapUidSize RemapUsers VolatileTmp)
{ cat "$work"/*.keys; printf '%s\n' "${LEGACY[@]}"; } | sort -u >"$work/candidates"
: >"$work/undocumented"
for sec in "${QUADLET_SECTIONS[@]}"; do
    d=$work/probe-$sec
    mkdir -p "$d"
    ext=$(ext_of "$sec")
    comm -23 "$work/candidates" "$work/$sec.keys" >"$work/$sec.probe"
    while read -r key; do
        { base_unit "$sec" | grep -v "^$key=" || true; printf '%s=1\n' "$key"; } >"$d/p-$key.$ext"
    done <"$work/$sec.probe"
    QUADLET_UNIT_DIRS=$d "$QUADLET" -dryrun -no-kmsg-log >"$work/$sec.pout" 2>"$work/$sec.perr" || true
    acc=()
    while read -r key; do
        grep -q "unsupported key '$key' in group '$sec'" "$work/$sec.perr" && continue
        if grep -qxF "SourcePath=$d/p-$key.$ext" "$work/$sec.pout" ||
            grep -qF "converting \"p-$key.$ext\"" "$work/$sec.perr"; then
            acc+=("$key")
        else
            die "[$sec] probe of $key: neither converted nor an error reported"
        fi
    done <"$work/$sec.probe"
    if [[ ${#acc[@]} -gt 0 ]]; then
        log "[$sec] accepted by quadlet but not documented for [$sec] (left out): ${acc[*]}"
        # shellcheck disable=SC2016 # the backquotes are Markdown, not shell
        printf '`[%s]`: %s\n' "$sec" "$(printf '`%s` ' "${acc[@]}" | sed 's/ $//')" >>"$work/undocumented"
    fi
done
if [[ -s $work/report ]]; then sed 's/^/gen-directives:   /' "$work/report" >&2; fi

# --- systemd keys from the running systemd ------------------------------------
"$SYSTEMD" --dump-configuration-items >"$work/systemd.dump"
for sec in Unit Service Install; do
    awk -v s="[$sec]" '/^\[/ {in_s = ($0 == s); next} in_s && /=/ {sub(/=.*/, ""); print}' \
        "$work/systemd.dump" | sort -u >"$work/$sec.keys"
    [[ -s $work/$sec.keys ]] || die "systemd dump has no [$sec] keys"
    log "[$sec] $(wc -l <"$work/$sec.keys") keys from systemd $SYSTEMD_FULL"
done

# --- Emit Rust -----------------------------------------------------------------
emit_list() { # CONST_NAME section doc
    printf '\n/// %s\n' "$3"
    printf '#[rustfmt::skip] // one name per line keeps regeneration diffs readable\n'
    printf 'pub const %s: &[&str] = &[\n' "$1"
    sed 's/.*/    "&",/' "$work/$2.keys"
    printf '];\n'
}
{
    cat <<HDR
//! Directive names accepted per section of a Quadlet unit, as data for
//! validating \`config.toml\` sections that Cairn turns into Podman Quadlet
//! files.
//!
//! GENERATED by \`tools/gen-directives.sh\`; do not edit by hand.
//!
//! Where each list comes from:
//!
//! - \`CONTAINER\`, \`POD\`, \`NETWORK\`, \`VOLUME\`, \`BUILD\`, \`IMAGE\`, \`KUBE\`,
//!   \`QUADLET\`: the man page podman-systemd.unit(5) in Debian's \`podman\`
//!   package $DEB_VERSION (Podman $PODMAN_VERSION, Debian trixie): each
//!   section's option table, which must equal its per-key headings.
//!   Every key was then checked against the same package's generator
//!   (\`/usr/libexec/podman/quadlet -dryrun\`): none is reported as an
//!   "unsupported key", while a made-up key is, in every section.
//! - \`UNIT\`, \`SERVICE\`, \`INSTALL\`: \`systemd --dump-configuration-items\`
//!   of systemd $SYSTEMD_FULL, Debian bookworm; its sections \`[Unit]\`,
//!   \`[Service]\` (which includes the exec, kill and cgroup resource-control
//!   keys that apply to services) and \`[Install]\`. These include keys
//!   systemd still accepts but documents as deprecated or obsolete (e.g.
//!   \`BindTo\`, \`MemoryLimit\`, \`CPUShares\`, \`BlockIO*\`,
//!   \`PermissionsStartOnly\`, \`RequiresOverridable\`).
//!
//! Left out on purpose: keys the ${PODMAN_VERSION} generator accepts in a section
//! whose man page does not document them there. Found by probing it with
//! every key documented in any section plus the legacy names
//! ${LEGACY[*]}
//! (marked deprecated in podman's source):
//!
$(sed "s|^|//!   - |" "$work/undocumented")
//!
//! To regenerate (needs a Debian host, root to add the low-pinned trixie
//! apt source, and the systemd version above):
//!
//! \`\`\`sh
//! tools/gen-directives.sh              # gets podman via tests/peers/install-quadlet.sh
//! tools/gen-directives.sh PODMAN_ROOT  # or from an existing \`dpkg-deb -x\` of the .deb
//! OUT=- tools/gen-directives.sh | diff - config/src/directives.rs  # check only
//! \`\`\`

/// Podman version the Quadlet lists were taken from.
pub const PODMAN_VERSION: &str = "$PODMAN_VERSION";

/// systemd version the \`[Unit]\`, \`[Service]\` and \`[Install]\` lists were taken from.
pub const SYSTEMD_VERSION: &str = "$SYSTEMD_VERSION";
HDR
    emit_list CONTAINER Container "Keys of the \`[Container]\` section of a \`.container\` file."
    emit_list POD Pod "Keys of the \`[Pod]\` section of a \`.pod\` file."
    emit_list NETWORK Network "Keys of the \`[Network]\` section of a \`.network\` file."
    emit_list VOLUME Volume "Keys of the \`[Volume]\` section of a \`.volume\` file."
    emit_list BUILD Build "Keys of the \`[Build]\` section of a \`.build\` file."
    emit_list IMAGE Image "Keys of the \`[Image]\` section of an \`.image\` file."
    emit_list KUBE Kube "Keys of the \`[Kube]\` section of a \`.kube\` file."
    emit_list QUADLET Quadlet "Keys of the \`[Quadlet]\` section, valid in every Quadlet file."
    emit_list UNIT Unit "systemd \`[Unit]\` keys, passed through by Quadlet."
    emit_list SERVICE Service "systemd \`[Service]\` keys, passed through by Quadlet."
    emit_list INSTALL Install "systemd \`[Install]\` keys, passed through by Quadlet."
    cat <<'TESTS'

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[(&str, &[&str])] = &[
        ("CONTAINER", CONTAINER),
        ("POD", POD),
        ("NETWORK", NETWORK),
        ("VOLUME", VOLUME),
        ("BUILD", BUILD),
        ("IMAGE", IMAGE),
        ("KUBE", KUBE),
        ("QUADLET", QUADLET),
        ("UNIT", UNIT),
        ("SERVICE", SERVICE),
        ("INSTALL", INSTALL),
    ];

    #[test]
    fn lists_are_non_empty() {
        for (name, list) in ALL {
            assert!(!list.is_empty(), "{name} is empty");
        }
    }

    #[test]
    fn lists_are_sorted_without_duplicates() {
        for (name, list) in ALL {
            for pair in list.windows(2) {
                assert!(
                    pair[0] < pair[1],
                    "{name}: {:?} must sort strictly before {:?}",
                    pair[0],
                    pair[1]
                );
            }
        }
    }

    #[test]
    fn names_look_like_directives() {
        for (name, list) in ALL {
            for key in *list {
                assert!(
                    key.starts_with(|c: char| c.is_ascii_uppercase())
                        && key.chars().all(|c| c.is_ascii_alphanumeric()),
                    "{name}: {key:?} is not a directive name"
                );
            }
        }
    }

    #[test]
    fn versions_are_recorded() {
        assert_eq!(PODMAN_VERSION, "5.4.2");
        assert!(SYSTEMD_VERSION.parse::<u32>().is_ok());
    }
}
TESTS
} >"$work/directives.rs"

if [[ $OUT == - ]]; then
    cat "$work/directives.rs"
else
    mkdir -p "$(dirname "$OUT")"
    cp "$work/directives.rs" "$OUT"
    log "wrote $OUT"
fi
