//! The HTTP API end to end over a real socket and the real job runner (dev mode, or a
//! scripted slow activator): first-boot Host/Origin checks, SSH-signed requests made by
//! the real `ssh-keygen -Y sign` for every key type, replay and tampering refusals,
//! admin removal, single-flight under 100 concurrent submissions, the one error shape,
//! and the Boot UI's token and lifecycle.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine;
use provision::activate::{Activate, BoxFuture, Failure, NoActivator, Progress, Request};
use provision::api::server;
use provision::jobs::JobRunner;
use serde_json::Value;

// ---------- harness ----------

struct Server {
    addr: SocketAddr,
    _dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn start(activator: fn() -> Box<dyn Activate>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().to_owned();
    let (addr_tx, addr_rx) = mpsc::channel();
    let (tx, rx) = tokio::sync::watch::channel(false);
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let runner = JobRunner::with_parts(&state_dir, activator(), provision::render::default_renderer()).unwrap();
            let mut stop = rx.clone();
            let state = server::state(runner, vec!["cairn-test".into()], rx);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            server::serve_connections(listener, server::app(state), async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
        });
    });
    let addr = addr_rx.recv_timeout(Duration::from_secs(10)).expect("server started");
    Server { addr, _dir: dir, shutdown: Some(tx), thread: Some(thread) }
}

fn dev() -> Box<dyn Activate> {
    Box::new(NoActivator)
}

/// Activation takes a while, so a job stays running long enough to race against.
#[derive(Debug)]
struct Slow;

impl Activate for Slow {
    fn skipped(&self) -> Option<&'static str> {
        None
    }
    fn activate<'a>(&'a self, _: &'a Request, _: Progress<'a>) -> BoxFuture<'a, Result<String, Failure>> {
        Box::pin(async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            Ok("slowly activated".into())
        })
    }
    fn health<'a>(&'a self, _: &'a Request, _: Progress<'a>) -> BoxFuture<'a, Result<String, Failure>> {
        Box::pin(async { Ok("healthy".into()) })
    }
}

fn slow() -> Box<dyn Activate> {
    Box::new(Slow)
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("{} not JSON: {}", self.status, String::from_utf8_lossy(&self.body)))
    }
    fn code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_default().to_owned()
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One raw HTTP/1.1 request, so every header (Host included) is exactly what the test says.
fn raw(server: &Server, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut request = format!("{method} {target} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete response");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut body = response[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Reply { status, headers: head, body }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[line_end + 2 + size + 2..];
    }
}

fn host(server: &Server) -> String {
    server.addr.to_string()
}

fn get(server: &Server, target: &str) -> Reply {
    raw(server, "GET", target, &[("Host", &host(server))], b"")
}

fn post_config(server: &Server, body: &[u8]) -> Reply {
    raw(server, "POST", "/api/config", &[("Host", &host(server)), ("Content-Type", "application/toml")], body)
}

fn wait_job(server: &Server, job_url: &str) -> Value {
    for _ in 0..600 {
        let job = get(server, job_url).json();
        if job["state"] == "succeeded" || job["state"] == "failed" {
            return job;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("job {job_url} did not finish");
}

fn apply_unsigned(server: &Server, config: &[u8]) -> Value {
    let r = post_config(server, config);
    assert_eq!(r.status, 202, "{}", r.text());
    let job = wait_job(server, r.json()["job_url"].as_str().unwrap());
    assert_eq!(job["state"], "succeeded", "{job}");
    job
}

// ---------- keys and signatures ----------

struct Key {
    path: PathBuf,
    public: String,
}

fn keygen(dir: &Path, name: &str, kind: &[&str]) -> Key {
    let path = dir.join(name);
    let status = Command::new("ssh-keygen")
        .args(["-q", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .args(kind)
        .status()
        .expect("ssh-keygen (package openssh-client) must be installed");
    assert!(status.success());
    let public = std::fs::read_to_string(path.with_extension("pub")).unwrap().trim().to_owned();
    Key { path, public }
}

const KEY_TYPES: &[(&str, &[&str])] = &[
    ("ed25519", &["-t", "ed25519"]),
    ("p256", &["-t", "ecdsa", "-b", "256"]),
    ("p384", &["-t", "ecdsa", "-b", "384"]),
    ("p521", &["-t", "ecdsa", "-b", "521"]),
    ("rsa", &["-t", "rsa", "-b", "3072"]),
];

/// `ssh-keygen -Y sign` over stdin, base64 of the armor: the Cairn-Signature value.
fn ssh_sign(key: &Key, namespace: &str, message: &[u8]) -> String {
    let mut child = Command::new("ssh-keygen")
        .args(["-Y", "sign", "-n", namespace, "-f"])
        .arg(&key.path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(message).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    base64::engine::general_purpose::STANDARD.encode(out.stdout)
}

fn nonce(server: &Server) -> String {
    get(server, "/api/nonce").json()["nonce"].as_str().unwrap().to_owned()
}

/// What a request signs; each field can be changed to tamper.
#[derive(Clone)]
struct Signing<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    nonce: String,
    body: &'a [u8],
    namespace: &'a str,
}

fn message(s: &Signing<'_>) -> Vec<u8> {
    provision::auth::signature::message(s.method, s.path, s.query, &s.nonce, s.body)
}

/// Sends `method target body` with the signature computed over `signed`.
fn send_signed(
    server: &Server,
    key: &Key,
    method: &str,
    target: &str,
    body: &[u8],
    signed: &Signing<'_>,
    nonce: &str,
) -> Reply {
    let signature = ssh_sign(key, signed.namespace, &message(signed));
    raw(
        server,
        method,
        target,
        &[
            ("Host", &host(server)),
            ("Content-Type", "application/toml"),
            ("Cairn-Nonce", nonce),
            ("Cairn-Signature", &signature),
        ],
        body,
    )
}

fn signed(server: &Server, key: &Key, method: &str, target: &str, body: &[u8]) -> Reply {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let n = nonce(server);
    let s = Signing { method, path, query, nonce: n.clone(), body, namespace: "cairn-provision" };
    send_signed(server, key, method, target, body, &s, &n)
}

fn config(admins: &[&Key]) -> Vec<u8> {
    let mut out = String::from("version = 1\n");
    for (i, key) in admins.iter().enumerate() {
        out.push_str(&format!("\n[users.admin{i}]\nisAdmin = true\nssh_key = \"{}\"\n", key.public));
    }
    out.push_str(
        "\n[activation]\nrequired = [\"web\"]\n\n[containers.container.web]\nprivileged = false\n\n\
         [containers.container.web.Container]\nImage = \"docker.io/library/nginx:1.27\"\nPublishPort = \"8080:80\"\n",
    );
    out.into_bytes()
}

// ---------- tests ----------

#[test]
fn health_and_openapi() {
    let server = start(dev);
    let r = get(&server, "/api/health");
    assert_eq!((r.status, r.json()), (200, serde_json::json!({"status": "ok"})));
    let doc = get(&server, "/openapi.json").json();
    assert_eq!(doc["openapi"], "3.1.0");
}

#[test]
fn first_boot_host_origin_and_referer_checks() {
    let server = start(dev);
    let dir = tempfile::tempdir().unwrap();
    let admin = keygen(dir.path(), "admin", &["-t", "ed25519"]);
    let body = config(&[&admin]);
    let port = server.addr.port();
    let good_host = format!("127.0.0.1:{port}");
    let hostile: Vec<Vec<(&str, String)>> = vec![
        vec![("Host", "evil.example".into())],
        vec![("Host", format!("evil.example:{port}"))],
        vec![("Host", format!("127.0.0.1.nip.io:{port}"))],
        vec![("Host", format!("localhost.evil.example:{port}"))],
        vec![("Host", format!("cairn-test.evil.example:{port}"))],
        vec![("Host", format!("2130706433:{port}"))],
        vec![("Host", good_host.clone()), ("Origin", "null".into())],
        vec![("Host", good_host.clone()), ("Origin", "http://evil.example".into())],
        vec![("Host", good_host.clone()), ("Origin", format!("http://127.0.0.1:{}", port + 1))],
        vec![("Host", good_host.clone()), ("Origin", format!("https://127.0.0.1:{port}"))],
        vec![("Host", good_host.clone()), ("Referer", "http://evil.example/attack.html".into())],
        vec![
            ("Host", good_host.clone()),
            ("Origin", format!("http://127.0.0.1:{port}")),
            ("Referer", "http://evil.example/".into()),
        ],
        vec![("Host", good_host.clone()), ("Sec-Fetch-Site", "cross-site".into())],
    ];
    for headers in &hostile {
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        for (method, path, payload) in [
            ("POST", "/api/config", body.as_slice()),
            ("POST", "/api/validate", body.as_slice()),
            ("GET", "/", b"".as_slice()),
        ] {
            let r = raw(&server, method, path, &h, payload);
            assert_eq!(r.status, 403, "{method} {path} {headers:?}: {}", r.text());
            assert_eq!(r.code(), "forbidden");
        }
    }
    // Trusted names pass (validate only, so nothing changes).
    for h in
        [good_host.clone(), format!("localhost:{port}"), format!("cairn-test:{port}"), format!("device.local:{port}")]
    {
        let r = raw(&server, "POST", "/api/validate", &[("Host", &h), ("Origin", &format!("http://{h}"))], &body);
        assert_eq!(r.status, 200, "{h}: {}", r.text());
    }
    assert_eq!(get(&server, "/api/status").json()["provisioned"], false);
    apply_unsigned(&server, &body);
    assert_eq!(raw(&server, "GET", "/api/status", &[("Host", &good_host)], b"").status, 401);
}

#[test]
fn signed_requests_for_every_key_type_and_every_tampering() {
    let server = start(dev);
    let dir = tempfile::tempdir().unwrap();
    let keys: Vec<(&str, Key)> = KEY_TYPES.iter().map(|(name, kind)| (*name, keygen(dir.path(), name, kind))).collect();
    let stranger = keygen(dir.path(), "stranger", &["-t", "ed25519"]);
    let admins: Vec<&Key> = keys.iter().map(|(_, k)| k).collect();
    let body = config(&admins);
    apply_unsigned(&server, &body);

    // Unsigned re-apply is refused now.
    assert_eq!(post_config(&server, &body).status, 401);

    for (name, key) in &keys {
        let r = signed(&server, key, "GET", "/api/generations", b"");
        assert_eq!(r.status, 200, "{name}: {}", r.text());
        let r = signed(&server, key, "POST", "/api/validate?strict=1", &body);
        assert_eq!(r.status, 200, "{name}: {}", r.text());

        // Each tampering fails with 401, and does not burn the nonce it named.
        let base_nonce = nonce(&server);
        let honest = Signing {
            method: "POST",
            path: "/api/validate",
            query: "strict=1",
            nonce: base_nonce.clone(),
            body: &body,
            namespace: "cairn-provision",
        };
        let other_nonce = nonce(&server);
        let other_body = config(&[key]);
        let cases: Vec<(&str, Signing<'_>)> = vec![
            ("method", Signing { method: "PUT", ..honest.clone() }),
            ("path", Signing { path: "/api/config", ..honest.clone() }),
            ("query", Signing { query: "strict=0", ..honest.clone() }),
            ("nonce", Signing { nonce: other_nonce.clone(), ..honest.clone() }),
            ("body", Signing { body: &other_body, ..honest.clone() }),
            ("namespace", Signing { namespace: "file", ..honest.clone() }),
        ];
        for (what, tampered) in &cases {
            let r = send_signed(&server, key, "POST", "/api/validate?strict=1", &body, tampered, &base_nonce);
            assert_eq!(r.status, 401, "{name}: changed {what}: {}", r.text());
            assert_eq!(r.code(), "unauthorized");
        }
        // A non-admin key over the honest message: 401.
        let r = send_signed(&server, &stranger, "POST", "/api/validate?strict=1", &body, &honest, &base_nonce);
        assert_eq!(r.status, 401, "{name}: stranger");
        // The nonce survived all of that; the honest request succeeds once, then replays fail.
        let signature = ssh_sign(key, "cairn-provision", &message(&honest));
        let headers = [
            ("Host", host(&server)),
            ("Content-Type", "application/toml".into()),
            ("Cairn-Nonce", base_nonce.clone()),
            ("Cairn-Signature", signature),
        ];
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = raw(&server, "POST", "/api/validate?strict=1", &h, &body);
        assert_eq!(r.status, 200, "{name}: honest request after forgeries: {}", r.text());
        let r = raw(&server, "POST", "/api/validate?strict=1", &h, &body);
        assert_eq!(r.status, 401, "{name}: replay");
        // Unknown nonce.
        let s = Signing { nonce: "0".repeat(32), ..honest.clone() };
        let r = send_signed(&server, key, "POST", "/api/validate?strict=1", &body, &s, &"0".repeat(32));
        assert_eq!(r.status, 401, "{name}: unknown nonce");
    }
    // Signed export returns the exact bytes.
    let r = signed(&server, &keys[0].1, "GET", "/api/config", b"");
    assert_eq!((r.status, r.body.as_slice()), (200, body.as_slice()));
    assert!(r.headers.to_ascii_lowercase().contains("content-type: application/toml"));
}

#[test]
fn removed_admin_loses_access_after_apply() {
    let server = start(dev);
    let dir = tempfile::tempdir().unwrap();
    let a = keygen(dir.path(), "a", &["-t", "ed25519"]);
    let b = keygen(dir.path(), "b", &["-t", "ecdsa", "-b", "256"]);
    apply_unsigned(&server, &config(&[&a, &b]));
    assert_eq!(signed(&server, &b, "GET", "/api/generations", b"").status, 200);
    let r = signed(&server, &a, "POST", "/api/config", &config(&[&a]));
    assert_eq!(r.status, 202, "{}", r.text());
    assert!(r.headers.to_ascii_lowercase().contains(&format!("location: {}", r.json()["job_url"].as_str().unwrap())));
    let job = wait_job(&server, r.json()["job_url"].as_str().unwrap());
    assert_eq!(job["state"], "succeeded");
    let r = signed(&server, &b, "GET", "/api/generations", b"");
    assert_eq!(r.status, 401, "removed admin still accepted: {}", r.text());
    let r = signed(&server, &a, "GET", "/api/generations", b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["generations"].as_array().unwrap().len(), 2);
    // Roll back to generation 1 (signed, as a job): b is an admin again.
    let r = signed(&server, &a, "POST", "/api/generations/1/activate", b"");
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(wait_job(&server, r.json()["job_url"].as_str().unwrap())["state"], "succeeded");
    assert_eq!(signed(&server, &b, "GET", "/api/generations", b"").status, 200);
    assert_eq!(signed(&server, &a, "POST", "/api/generations/99/activate", b"").status, 404);
    assert_eq!(signed(&server, &a, "POST", "/api/generations/x/activate", b"").status, 400);
}

#[test]
fn hundred_concurrent_submissions_one_accepted_rest_busy() {
    let server = std::sync::Arc::new(start(slow));
    let dir = tempfile::tempdir().unwrap();
    let admin = keygen(dir.path(), "admin", &["-t", "ed25519"]);
    let body = std::sync::Arc::new(config(&[&admin]));
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(100));
    let threads: Vec<_> = (0..100)
        .map(|_| {
            let (server, body, barrier) = (server.clone(), body.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                post_config(&server, &body).status
            })
        })
        .collect();
    let mut statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    statuses.sort();
    let accepted = statuses.iter().filter(|s| **s == 202).count();
    let busy = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((accepted, busy), (1, 99), "{statuses:?}");
}

#[test]
fn errors_have_one_shape() {
    let server = start(dev);
    let h = host(&server);
    let cases: Vec<(Reply, u16, &str)> = vec![
        (get(&server, "/nope"), 404, "not_found"),
        (raw(&server, "DELETE", "/api/health", &[("Host", &h)], b""), 405, "method_not_allowed"),
        (
            raw(&server, "POST", "/api/config", &[("Host", &h), ("Content-Type", "application/json")], b"{}"),
            415,
            "unsupported_media_type",
        ),
        (post_config(&server, b"version = 2\n"), 422, "invalid_config"),
        (
            raw(
                &server,
                "POST",
                "/api/config",
                &[("Host", &h), ("Content-Type", "application/gzip")],
                b"\x1f\x8bnot gzip",
            ),
            422,
            "invalid_bundle",
        ),
        (get(&server, "/api/jobs/0123"), 404, "not_found"),
        (get(&server, &format!("/api/jobs/{}", "a".repeat(32))), 404, "not_found"),
        (get(&server, &format!("/api/jobs/{}/events", "a".repeat(32))), 404, "not_found"),
        (get(&server, "/api/generations"), 401, "unauthorized"),
        (get(&server, "/api/config"), 401, "unauthorized"),
    ];
    for (reply, status, code) in cases {
        assert_eq!((reply.status, reply.code().as_str()), (status, code), "{}", reply.text());
        let v = reply.json();
        assert!(v["error"]["message"].is_string() && v["error"].get("details").is_some(), "{v}");
    }
    let diagnostics = &post_config(&server, b"version = 2\n").json()["error"]["details"]["diagnostics"];
    assert_eq!(diagnostics[0]["line"], 1);
    // Validate's 422 has both the API.md shape and the error object.
    let r = raw(&server, "POST", "/api/validate", &[("Host", &h)], b"version = 2\n");
    let v = r.json();
    assert_eq!((r.status, &v["ok"], v["error"]["code"].as_str()), (422, &Value::Bool(false), Some("invalid_config")));
    assert_eq!(v["diagnostics"][0]["line"], 1);
    // Over the body limit: 413.
    let big = vec![b'#'; 33 * 1024 * 1024];
    let r = raw(&server, "POST", "/api/config", &[("Host", &h)], &big);
    assert_eq!((r.status, r.code().as_str()), (413, "too_large"));
}

#[test]
fn boot_ui_needs_its_token_and_closes_once_provisioned() {
    let server = start(dev);
    let h = host(&server);
    let page = get(&server, "/");
    assert_eq!(page.status, 200);
    let html = page.text();
    let token = html.split("name=\"token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert_eq!(token.len(), 64);
    assert!(page.headers.to_ascii_lowercase().contains("content-security-policy"));
    for asset in ["/ui/assets/style.css", "/ui/assets/app.js"] {
        assert_eq!(get(&server, asset).status, 200, "{asset}");
    }
    let form = |token: &str, config: &str| {
        let boundary = "XcairnX";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n{token}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\napply\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"config\"\r\n\r\n{config}\r\n--{boundary}--\r\n"
        );
        raw(
            &server,
            "POST",
            "/ui/apply",
            &[
                ("Host", &h),
                ("Origin", &format!("http://{h}")),
                ("Content-Type", &format!("multipart/form-data; boundary={boundary}")),
            ],
            body.as_bytes(),
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let admin = keygen(dir.path(), "admin", &["-t", "ed25519"]);
    let valid = String::from_utf8(config(&[&admin])).unwrap();
    assert_eq!(form(&"0".repeat(64), &valid).status, 403);
    assert_eq!(form("", &valid).status, 403);
    let r = form(&token, "version = 2\n");
    assert_eq!(r.status, 422);
    assert!(r.text().contains("class=\"diag error\" data-line=\"1\""), "{}", r.text());
    let r = form(&token, &valid);
    assert_eq!(r.status, 303, "{}", r.text());
    let location = r.headers.lines().find_map(|l| l.strip_prefix("location: ")).unwrap().trim().to_owned();
    assert!(location.starts_with("/ui/jobs/"));
    let job_id = location.trim_start_matches("/ui/jobs/");
    assert_eq!(wait_job(&server, &format!("/api/jobs/{job_id}"))["state"], "succeeded");
    for path in ["/", "/ui/assets/style.css", "/ui/assets/app.js", location.as_str()] {
        assert_eq!(get(&server, path).status, 404, "{path} after provisioning");
    }
    // SSE of the finished job: every step, then done with the record.
    let events = get(&server, &format!("/api/jobs/{job_id}/events")).text();
    assert!(events.contains("event: step") && events.contains("event: done"), "{events}");
    assert!(
        events.trim_end().lines().rev().find(|l| l.starts_with("data:")).unwrap().contains("\"state\":\"succeeded\"")
    );
}

/// A `.tar.gz` made by the system tar, as an operator would.
fn bundle(dir: &Path, config: &[u8], extra: &[(&str, &[u8])]) -> Vec<u8> {
    let root = dir.join("bundle");
    std::fs::create_dir_all(root.join("files")).unwrap();
    std::fs::write(root.join("config.toml"), config).unwrap();
    let mut names = vec!["config.toml".to_owned(), "files".to_owned()];
    for (name, contents) in extra {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        if !name.starts_with("files/") {
            names.push((*name).to_owned());
        }
    }
    let out = dir.join("bundle.tar.gz");
    let status = Command::new("tar").arg("-czf").arg(&out).arg("-C").arg(&root).args(&names).status().unwrap();
    assert!(status.success());
    std::fs::read(out).unwrap()
}

#[test]
fn bundles_apply_and_hostile_bundles_are_refused() {
    let server = start(dev);
    let dir = tempfile::tempdir().unwrap();
    let admin = keygen(dir.path(), "admin", &["-t", "ed25519"]);
    let h = host(&server);
    let gz = |bytes: &[u8]| {
        raw(&server, "POST", "/api/config", &[("Host", h.as_str()), ("Content-Type", "application/gzip")], bytes)
    };
    let stray = bundle(&dir.path().join("stray"), &config(&[&admin]), &[("stray.txt", b"not allowed")]);
    let r = gz(&stray);
    assert_eq!((r.status, r.code().as_str()), (422, "invalid_bundle"), "{}", r.text());
    let bad = bundle(&dir.path().join("bad"), b"version = 2\n", &[]);
    let r = gz(&bad);
    assert_eq!((r.status, r.code().as_str()), (422, "invalid_config"), "{}", r.text());
    let good = bundle(&dir.path().join("good"), &config(&[&admin]), &[("files/site/index.html", b"<h1>hi</h1>")]);
    let r = gz(&good);
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(wait_job(&server, r.json()["job_url"].as_str().unwrap())["state"], "succeeded");
    // Export gives back config.toml itself, not the bundle.
    let r = signed(&server, &admin, "GET", "/api/config", b"");
    assert_eq!(r.body, config(&[&admin]));
}

/// The first activation fails (the rollback's re-activation works): a first apply is
/// discarded and the device stays unprovisioned.
#[derive(Debug, Default)]
struct Broken(std::sync::atomic::AtomicUsize);

impl Activate for Broken {
    fn skipped(&self) -> Option<&'static str> {
        None
    }
    fn activate<'a>(&'a self, _: &'a Request, _: Progress<'a>) -> BoxFuture<'a, Result<String, Failure>> {
        let first = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0;
        Box::pin(
            async move { if first { Err(Failure::new("web.service failed to start")) } else { Ok("reverted".into()) } },
        )
    }
    fn health<'a>(&'a self, _: &'a Request, _: Progress<'a>) -> BoxFuture<'a, Result<String, Failure>> {
        Box::pin(async { Ok("healthy".into()) })
    }
}

fn broken() -> Box<dyn Activate> {
    Box::new(Broken::default())
}

#[test]
fn boot_ui_shows_a_failed_first_apply_and_stays_open() {
    let server = start(broken);
    let h = host(&server);
    let html = get(&server, "/").text();
    let token = html.split("name=\"token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let admin = keygen(dir.path(), "admin", &["-t", "ed25519"]);
    let boundary = "XcairnX";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n{token}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\napply\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"config.toml\"\r\n\
         Content-Type: application/toml\r\n\r\n{}\r\n--{boundary}--\r\n",
        String::from_utf8(config(&[&admin])).unwrap()
    );
    let r = raw(
        &server,
        "POST",
        "/ui/apply",
        &[("Host", &h), ("Content-Type", &format!("multipart/form-data; boundary={boundary}"))],
        body.as_bytes(),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let location = r.headers.lines().find_map(|l| l.strip_prefix("location: ")).unwrap().trim().to_owned();
    let job = wait_job(&server, &location.replace("/ui/jobs/", "/api/jobs/"));
    assert_eq!((job["state"].as_str(), job["rollback"].as_str()), (Some("failed"), Some("discarded")), "{job}");
    // The page renders the outcome without JavaScript too: the error and the rollback outcome.
    let page = get(&server, &location);
    assert_eq!(page.status, 200);
    let text = page.text();
    assert!(text.contains("id=\"result-failed\""), "{text}");
    assert!(text.contains("web.service failed to start"), "{text}");
    assert!(text.contains("still unprovisioned"), "{text}");
    // Unprovisioned still: the setup page stays, and unsigned submissions are still first-boot ones.
    assert_eq!(get(&server, "/").status, 200);
    assert_eq!(get(&server, "/api/status").json()["provisioned"], false);
}
