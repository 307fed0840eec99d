//! `activation.checks` probes: an HTTP GET with an expected status, a TCP connect, or a
//! command run without a shell. Each attempt is bounded by the check's timeout.

use std::time::Duration;

use cairn_config::Probe;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One attempt of `probe`; `Err` says why it did not pass.
pub async fn attempt(probe: &Probe, timeout: Duration) -> Result<String, String> {
    match tokio::time::timeout(timeout, run(probe)).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} s", timeout.as_secs_f32())),
    }
}

async fn run(probe: &Probe) -> Result<String, String> {
    match probe {
        Probe::Http { url, expect_status } => http(url, *expect_status).await,
        Probe::Tcp { host, port } => {
            TcpStream::connect((host.as_str(), *port))
                .await
                .map_err(|e| format!("connecting to {host}:{port}: {e}"))?;
            Ok(format!("{host}:{port} accepts connections"))
        }
        Probe::Exec { argv } => exec(argv).await,
    }
}

async fn http(raw: &str, expect: u16) -> Result<String, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("{raw}: {e}"))?;
    if url.scheme() != "http" {
        // cairn-config refuses https:// checks; a stored older generation may still have one.
        return Err(format!("{raw}: only http:// probes are supported (use a tcp or exec check)"));
    }
    let host = url.host_str().ok_or_else(|| format!("{raw}: no host"))?;
    let port = url.port_or_known_default().unwrap_or(80);
    let mut path = url.path().to_owned();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    let mut stream = TcpStream::connect((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| format!("connecting to {raw}: {e}"))?;
    let host_header = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: cairn-provision\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.map_err(|e| format!("sending to {raw}: {e}"))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.contains(&b'\n') && head.len() < 4096 {
        let n = stream.read(&mut buf).await.map_err(|e| format!("reading from {raw}: {e}"))?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    let status: u16 = line
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{raw}: not an HTTP response"))?;
    if status == expect {
        Ok(format!("{raw} answered {status}"))
    } else {
        Err(format!("{raw} answered {status}, expected {expect}"))
    }
}

/// Runs argv (no shell) through the shared command runner; exit 0 passes.
async fn exec(argv: &[String]) -> Result<String, String> {
    crate::activate::command::output(argv).await?;
    Ok(format!("{} exited 0", argv[0]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    async fn server(status: &'static str) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").as_bytes()).await;
            }
        });
        port
    }

    #[tokio::test]
    async fn http_probe_compares_the_status() {
        let port = server("204 No Content").await;
        let ok = Probe::Http { url: format!("http://127.0.0.1:{port}/health?x=1"), expect_status: 204 };
        assert!(attempt(&ok, Duration::from_secs(2)).await.is_ok());
        let wrong = Probe::Http { url: format!("http://127.0.0.1:{port}/"), expect_status: 200 };
        assert!(attempt(&wrong, Duration::from_secs(2)).await.unwrap_err().contains("answered 204, expected 200"));
    }

    #[tokio::test]
    async fn tcp_probe_needs_a_listener() {
        let port = server("200 OK").await;
        assert!(attempt(&Probe::Tcp { host: "127.0.0.1".into(), port }, Duration::from_secs(2)).await.is_ok());
        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
        assert!(attempt(&Probe::Tcp { host: "127.0.0.1".into(), port: closed }, Duration::from_secs(2)).await.is_err());
    }

    #[tokio::test]
    async fn exec_probe_runs_argv_without_a_shell() {
        let ok = Probe::Exec { argv: vec!["true".into()] };
        assert!(attempt(&ok, Duration::from_secs(5)).await.is_ok());
        // A shell would expand this; argv passes it literally, so `test` sees a non-empty string.
        let literal = Probe::Exec { argv: vec!["test".into(), "-z".into(), "$(echo)".into()] };
        assert!(attempt(&literal, Duration::from_secs(5)).await.is_err());
        let slow = Probe::Exec { argv: vec!["sleep".into(), "5".into()] };
        assert!(attempt(&slow, Duration::from_millis(200)).await.unwrap_err().contains("no answer"));
    }
}
