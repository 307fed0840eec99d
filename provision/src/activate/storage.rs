//! Container storage after an unclean shutdown. Podman writes layer metadata without
//! syncing it, so a power cut while an image is built or a container is created can leave
//! a layer whose `link` file is empty; every later `podman run` of that image then fails
//! ("readlink …/overlay: invalid argument"). Found by the appliance's power-cut suite.
//! `podman system check --repair --force` deletes damaged layers and the images and
//! containers using them; the `.build` units then build them again. `provision boot`
//! runs it, for each manager that has units, before starting anything.

use std::time::Duration;

/// How long one storage check may take before it is abandoned (and killed).
const CHECK_TIMEOUT: Duration = Duration::from_secs(300);

/// The command that checks and repairs one manager's storage: root's directly,
/// appsvc's through `runuser` with its runtime directory and bus.
pub fn check_command(rootless: Option<(&str, u32)>) -> Vec<String> {
    let check = ["podman", "system", "check", "--repair", "--force"].map(String::from);
    match rootless {
        None => check.to_vec(),
        Some((user, uid)) => {
            let mut argv: Vec<String> = ["runuser", "-u", user, "--", "env"].map(String::from).to_vec();
            argv.push(format!("XDG_RUNTIME_DIR=/run/user/{uid}"));
            argv.push(format!("DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/{uid}/bus"));
            argv.extend(check);
            argv
        }
    }
}

/// Runs `argv` (bounded by [`CHECK_TIMEOUT`], then killed); its stdout, or why it failed.
pub async fn run(argv: &[String]) -> Result<String, String> {
    match tokio::time::timeout(CHECK_TIMEOUT, super::command::output(argv)).await {
        Ok(result) => result,
        Err(_) => Err(format!("{}: no answer within {} s", argv[0], CHECK_TIMEOUT.as_secs())),
    }
}

/// Runs a storage check; the outcome as one line for the log (never an error: a storage
/// that cannot be repaired shows up as units failing to start, with their journal lines).
pub async fn run_check(label: &str, argv: &[String]) -> String {
    match run(argv).await {
        Ok(stdout) => match stdout.lines().filter(|l| l.starts_with("Deleted damaged")).count() {
            0 => format!("container storage ({label}): intact"),
            n => format!("container storage ({label}): repaired, {n} damaged images/layers deleted"),
        },
        Err(e) => format!("container storage ({label}): check failed: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rootless_storage_is_checked_as_its_user_with_its_runtime_directory() {
        assert_eq!(check_command(None).join(" "), "podman system check --repair --force");
        assert_eq!(
            check_command(Some(("appsvc", 900))).join(" "),
            "runuser -u appsvc -- env XDG_RUNTIME_DIR=/run/user/900 \
             DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/900/bus podman system check --repair --force"
        );
    }

    #[tokio::test]
    async fn a_failing_or_missing_program_is_reported_not_raised() {
        let missing = run_check("system", &["/nonexistent/podman".to_owned()]).await;
        assert!(missing.contains("check failed: running /nonexistent/podman"), "{missing}");
        let failing = run_check("system", &["false".to_owned()]).await;
        assert!(failing.contains("check failed"), "{failing}");
        let ok = run_check("system", &["true".to_owned()]).await;
        assert_eq!(ok, "container storage (system): intact");
    }
}
