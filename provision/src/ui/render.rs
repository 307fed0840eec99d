//! Server-side HTML of the Boot UI. Pure functions from values to strings; every
//! interpolated value goes through [`esc`].

use std::fmt::Write;

use cairn_config::{Diagnostic, Severity};

use crate::jobs::{JobSnapshot, JobState, Rollback};

/// HTML-escapes text for element content and double-quoted attributes.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · Cairn</title><link rel=\"stylesheet\" href=\"/ui/assets/style.css\">\
<script src=\"/ui/assets/app.js\" defer></script></head>\n<body>\
<header><h1>Cairn device setup</h1><p>First boot: give this device its config.toml</p></header>\n\
<main>{body}</main><footer>provision {version} · this page closes once the device is provisioned</footer></body></html>\n",
        title = esc(title),
        version = env!("CARGO_PKG_VERSION"),
    )
}

/// A message above the form.
#[derive(Debug)]
pub enum Banner {
    Ok(String),
    Bad(String),
}

/// What the form page shows besides the form.
#[derive(Debug, Default)]
pub struct FormPage<'a> {
    /// Text to put back into the textarea.
    pub prefill: &'a str,
    pub banner: Option<Banner>,
    /// The config.toml that was checked, with its diagnostics, shown line by line.
    pub source: Option<(&'a str, &'a [Diagnostic])>,
}

pub fn form_page(token: &str, page: &FormPage<'_>) -> String {
    let mut body = String::new();
    match &page.banner {
        Some(Banner::Ok(m)) => {
            let _ = write!(body, "<div class=\"banner ok\" id=\"banner\" role=\"status\">{}</div>", esc(m));
        }
        Some(Banner::Bad(m)) => {
            let _ = write!(body, "<div class=\"banner bad\" id=\"banner\" role=\"alert\">{}</div>", esc(m));
        }
        None => {}
    }
    if let Some((source, diagnostics)) = page.source {
        if !diagnostics.is_empty() {
            body.push_str(&diagnostics_card(source, diagnostics));
        }
    }
    let _ = write!(
        body,
        "<form class=\"card\" id=\"apply-form\" method=\"post\" action=\"/ui/apply\" enctype=\"multipart/form-data\">\
<h2>Config</h2>\
<input type=\"hidden\" name=\"token\" value=\"{token}\">\
<label for=\"config\">Paste config.toml</label>\
<textarea id=\"config\" name=\"config\" spellcheck=\"false\" autocapitalize=\"off\" autocomplete=\"off\" \
placeholder=\"version = 1&#10;&#10;[users.admin]&#10;isAdmin = true&#10;ssh_key = &quot;ssh-ed25519 AAAA… you@laptop&quot;&#10;…\">{prefill}</textarea>\
<p class=\"or\">or</p>\
<label for=\"file\">Upload config.toml or a bundle (.tar.gz, .tar.zst)</label>\
<input type=\"file\" id=\"file\" name=\"file\" accept=\".toml,.gz,.tgz,.zst,application/toml,application/gzip,application/zstd\">\
<p class=\"hint\">A chosen file wins over pasted text. Nothing leaves this network: the page and its checks are served by the device.</p>\
<div class=\"actions\"><button type=\"submit\" name=\"action\" value=\"apply\" id=\"apply\">Validate and apply</button>\
<button type=\"submit\" name=\"action\" value=\"validate\" id=\"validate\" class=\"secondary\">Only validate</button></div>\
<p class=\"hint\" id=\"submitting\" hidden>Checking…</p></form>",
        token = esc(token),
        prefill = esc(page.prefill),
    );
    layout("Setup", &body)
}

/// The checked config.toml with each diagnostic right under its line.
fn diagnostics_card(source: &str, diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = diagnostics.len() - errors;
    let mut out = String::new();
    let _ = write!(
        out,
        "<section class=\"card\" id=\"diagnostics\"><h2>{errors} error{}, {warnings} warning{}</h2><ol class=\"summary\">",
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" },
    );
    for d in diagnostics {
        let _ = write!(out, "<li><a href=\"#L{}\">line {}:{}</a> {}</li>", d.line, d.line, d.column, esc(&headline(d)));
    }
    out.push_str("</ol><div class=\"source\" id=\"source\">");
    let lines: Vec<&str> = source.split('\n').collect();
    let last = lines.len();
    // Problems not tied to a line (or past the end) go first.
    for d in diagnostics.iter().filter(|d| d.line == 0 || d.line > last) {
        out.push_str(&diagnostic_html(d));
    }
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        if n == last && line.is_empty() {
            break;
        }
        let here: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.line == n).collect();
        let class = if here.is_empty() { "ln" } else { "ln has-diag" };
        let _ = write!(
            out,
            "<div class=\"{class}\" id=\"L{n}\"><span class=\"no\">{n}</span><span class=\"tx\">{}</span></div>",
            esc(line.trim_end_matches('\r'))
        );
        for d in here {
            out.push_str(&diagnostic_html(d));
        }
    }
    out.push_str("</div></section>");
    out
}

fn headline(d: &Diagnostic) -> String {
    if d.path.is_empty() { d.message.clone() } else { format!("{}: {}", d.path, d.message) }
}

fn diagnostic_html(d: &Diagnostic) -> String {
    let class = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut out = format!(
        "<div class=\"diag {class}\" data-line=\"{}\" role=\"note\"><span class=\"where\">{} {}:{}</span> {}",
        d.line,
        class,
        d.line,
        d.column,
        esc(&headline(d))
    );
    if let Some(hint) = &d.hint {
        let _ = write!(out, "<div class=\"fix\">Fix: {}</div>", esc(hint));
    }
    out.push_str("</div>");
    out
}

/// The job page: steps so far, and the outcome when finished. With JavaScript the steps
/// stream in live (SSE); without it the page refreshes itself until the job ends.
pub fn job_page(job: &JobSnapshot, device_url: Option<&str>) -> String {
    let state = state_name(job.state);
    let finished = matches!(job.state, JobState::Succeeded | JobState::Failed);
    let mut body = String::new();
    if !finished {
        body.push_str("<noscript><meta http-equiv=\"refresh\" content=\"2\" id=\"refresh\"></noscript>");
    }
    let _ = write!(
        body,
        "<section class=\"card\" id=\"job\" data-job-id=\"{id}\" data-device-url=\"{url}\">\
<h2>Applying <span class=\"state {state}\" id=\"state\">{state}</span></h2>\
<p class=\"hint\">Job <code>{id}</code></p><ol class=\"steps\" id=\"steps\">",
        id = esc(&job.id.to_string()),
        url = esc(device_url.unwrap_or("")),
    );
    for e in job.events.iter().filter(|e| e.step != "done") {
        let status =
            serde_json::to_value(e.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        let message = if e.message.is_empty() { e.step.clone() } else { format!("{}: {}", e.step, e.message) };
        let _ = write!(
            body,
            "<li data-seq=\"{seq}\" data-step=\"{step}\"><span class=\"st {status}\">{status}</span>\
<span class=\"msg\">{message}</span><span class=\"ms\">{secs:.1} s</span></li>",
            seq = e.seq,
            step = esc(&e.step),
            status = esc(&status),
            message = esc(&message),
            secs = e.elapsed_ms as f64 / 1000.0,
        );
    }
    body.push_str("</ol></section><section id=\"outcome\"");
    if !finished {
        body.push_str(" hidden>");
    } else {
        body.push('>');
        body.push_str(&outcome_html(job, device_url));
    }
    body.push_str("</section>");
    layout("Applying", &body)
}

fn state_name(state: JobState) -> &'static str {
    match state {
        JobState::Queued => "queued",
        JobState::Running => "running",
        JobState::Succeeded => "succeeded",
        JobState::Failed => "failed",
    }
}

fn outcome_html(job: &JobSnapshot, device_url: Option<&str>) -> String {
    match job.state {
        JobState::Succeeded => {
            let url = device_url.unwrap_or("");
            format!(
                "<div class=\"banner ok\" id=\"result-ok\"><strong>Applied. </strong>Generation {} is active. \
The device is now managed with signed requests (provision apply) from <a class=\"mono\" href=\"{url}\">{url}</a>. \
This setup page is now closed.</div>",
                job.generation.map(|g| g.to_string()).unwrap_or_default(),
                url = esc(url),
            )
        }
        JobState::Failed | JobState::Queued | JobState::Running => {
            let rollback = match job.rollback {
                Rollback::NotNeeded => "Nothing was changed on the device.",
                Rollback::Completed => "The previous generation was restored.",
                Rollback::Failed => "Rolling back also failed: check the device console.",
                Rollback::Discarded => {
                    "The candidate was discarded; the device is still unprovisioned and this page stays open. Fix the config and try again."
                }
            };
            format!(
                "<div class=\"banner bad\" id=\"result-failed\"><strong>Apply failed. </strong>{} \
<span class=\"rollback\">{rollback}</span> <a href=\"/\">Back to setup</a></div>",
                esc(job.error.as_deref().unwrap_or("unknown error")),
            )
        }
    }
}

/// Where the device will be reachable once the config is active: the static WAN address
/// (eth0) when the config sets one, else the address the browser used.
pub fn device_url(config: &cairn_config::Config, host_header: Option<&str>) -> String {
    use cairn_config::InterfaceMode;
    let wan = config.network.interfaces.get("eth0").and_then(|i| match &i.mode {
        InterfaceMode::Static { address } => Some(address.addr()),
        InterfaceMode::Dhcp => None,
    });
    match (wan, host_header) {
        (Some(addr), Some(host)) if host.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) => {
            let port = host.rsplit_once(':').map(|(_, p)| p).unwrap_or("8080");
            format!("http://{addr}:{port}/")
        }
        (Some(addr), _) => format!("http://{addr}:8080/"),
        (None, Some(host)) => format!("http://{host}/"),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_interpolated() {
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        let html = form_page("tok\"en", &FormPage { prefill: "</textarea><script>", ..Default::default() });
        assert!(!html.contains("</textarea><script>"));
        assert!(html.contains("value=\"tok&quot;en\""));
    }

    #[test]
    fn diagnostics_sit_under_their_line() {
        let source = "version = 2\n[users.x]\n";
        let validated = cairn_config::validate(source.as_bytes());
        assert!(!validated.diagnostics.is_empty());
        let html = form_page("t", &FormPage { source: Some((source, &validated.diagnostics)), ..Default::default() });
        let line1 = html.find("id=\"L1\"").unwrap();
        let line2 = html.find("id=\"L2\"").unwrap();
        let diag = html.find("class=\"diag error\" data-line=\"1\"").unwrap();
        assert!(line1 < diag && diag < line2, "{html}");
    }
}
