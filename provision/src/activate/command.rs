//! Running host commands: argv, never a shell; no stdin; killed when abandoned (a
//! caller's deadline passed), so a hung command cannot outlive the job.

use std::ffi::OsStr;

/// Runs argv; an error carries the exit status and the last line of stderr.
pub(crate) async fn run<S: AsRef<OsStr>>(argv: &[S]) -> Result<(), String> {
    output(argv).await.map(|_| ())
}

/// Runs argv and returns its stdout; an error carries the exit status and the last line
/// of stderr.
pub(crate) async fn output<S: AsRef<OsStr>>(argv: &[S]) -> Result<String, String> {
    let (program, args) = argv.split_first().ok_or("empty command")?;
    let output = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("running {}: {e}", program.as_ref().to_string_lossy()))?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    let shown: Vec<_> = argv.iter().map(|a| a.as_ref().to_string_lossy()).collect();
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(format!("{} {}: {}", shown.join(" "), output.status, stderr.lines().last().unwrap_or("").trim()))
}
