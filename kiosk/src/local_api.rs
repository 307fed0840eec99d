//! The LAN API for switching layouts and taking snapshots (`kiosk.local_api`).
//!
//! Every route needs `Authorization: Bearer <key>`, where the key is 32 random bytes
//! (hex) generated on the device and stored 0600 in the kiosk's state directory. The key
//! is accepted only in that header — never in the query string, where it would end up
//! in proxy and shell history — and compared in constant time. Browsers cannot attach
//! the header cross-origin without a CORS preflight, which this server never answers,
//! so a web page on the LAN cannot drive the kiosk either.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use subtle::ConstantTimeEq;

/// The key file's name inside the state directory.
pub const KEY_FILE: &str = "local.key";
/// How long a snapshot may take before the API answers 504.
pub const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(5);

/// The device-generated API key.
pub struct LocalKey {
    hex: String,
    path: PathBuf,
}

impl std::fmt::Debug for LocalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKey").field("path", &self.path).finish_non_exhaustive()
    }
}

fn valid_key(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl LocalKey {
    /// Loads `<state_dir>/local.key`, creating the directory (0700) and a fresh key (0600)
    /// when there is none or the file does not hold a well-formed key. A key file with
    /// wider permissions is narrowed to 0600.
    pub fn load_or_create(state_dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(state_dir)?;
        std::fs::set_permissions(state_dir, std::fs::Permissions::from_mode(0o700))?;
        let path = state_dir.join(KEY_FILE);
        if let Ok(text) = std::fs::read_to_string(&path) {
            let hex = text.trim().to_owned();
            if valid_key(&hex) {
                if std::fs::metadata(&path)?.permissions().mode() & 0o077 != 0 {
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
                }
                return Ok(Self { hex, path });
            }
        }
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| std::io::Error::other(format!("no randomness for the local API key: {e}")))?;
        let hex = hex::encode(bytes);
        let tmp = state_dir.join(format!(".{KEY_FILE}.{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        f.write_all(format!("{hex}\n").as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        std::fs::File::open(state_dir)?.sync_all()?;
        Ok(Self { hex, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Constant-time comparison: the time taken does not depend on how many leading
    /// bytes of `presented` are right (only on its length, which is public: 64).
    pub fn matches(&self, presented: &str) -> bool {
        self.hex.as_bytes().ct_eq(presented.as_bytes()).into()
    }

    /// A key held only in memory (tests, benchmarks); `None` unless 64 lower-case hex digits.
    pub fn from_hex(hex: &str) -> Option<Self> {
        valid_key(hex).then(|| Self { hex: hex.into(), path: PathBuf::new() })
    }

    #[cfg(test)]
    pub(crate) fn for_tests(hex: &str) -> Self {
        Self::from_hex(hex).expect("a well-formed test key")
    }
}

/// What `GET /local/info` returns.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Info {
    pub current_layout: String,
    pub default_layout: String,
    pub layouts: Vec<LayoutInfo>,
    pub pool: Vec<PoolEntryInfo>,
    /// How long the last layout switch took until every camera tile showed a frame.
    pub last_switch_ms: Option<u64>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LayoutInfo {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PoolEntryInfo {
    /// e.g. `camera:front:M`, `url:https://…`.
    pub key: String,
    /// hot | warm | cooling
    pub temperature: String,
    /// connecting | playing | error: … | loading | loaded
    pub state: String,
}

/// Why a request could not be served.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ControlError {
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Unavailable(String),
}

/// What the API drives; the display implements it. Methods may block (they run on
/// tokio's blocking pool), so an implementation can wait for the UI thread.
pub trait Control: Send + Sync + 'static {
    fn info(&self) -> Result<Info, ControlError>;
    fn switch_layout(&self, id: &str) -> Result<(), ControlError>;
    /// A JPEG of the camera's current frame, within `timeout` if the implementation can.
    fn snapshot(&self, camera: &str, timeout: Duration) -> Result<Vec<u8>, ControlError>;
}

#[derive(Clone)]
struct AppState {
    key: Arc<LocalKey>,
    control: Arc<dyn Control>,
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let status = match self {
            ControlError::NotFound(_) => StatusCode::NOT_FOUND,
            ControlError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        error(status, &self.to_string())
    }
}

/// The bearer token of a request, if it carries exactly one well-formed `Authorization` header.
fn bearer(req: &Request) -> Option<&str> {
    let mut values = req.headers().get_all(header::AUTHORIZATION).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let value = value.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token)
}

async fn require_key(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match bearer(&req) {
        Some(token) if state.key.matches(token) => next.run(req).await,
        _ => {
            let mut resp = error(StatusCode::UNAUTHORIZED, "missing or wrong key (send 'Authorization: Bearer <key>')");
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            resp
        }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ControlError> + Send + 'static,
    timeout: Duration,
) -> Result<T, Response> {
    match tokio::time::timeout(timeout, tokio::task::spawn_blocking(f)).await {
        Ok(Ok(Ok(v))) => Ok(v),
        Ok(Ok(Err(e))) => Err(e.into_response()),
        Ok(Err(_)) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")),
        Err(_) => Err(error(StatusCode::GATEWAY_TIMEOUT, "the display did not answer in time")),
    }
}

async fn info(State(state): State<AppState>) -> Response {
    let control = state.control.clone();
    match blocking(move || control.info(), Duration::from_secs(5)).await {
        Ok(info) => axum::Json(info).into_response(),
        Err(r) => r,
    }
}

async fn switch(State(state): State<AppState>, UrlPath(id): UrlPath<String>) -> Response {
    let control = state.control.clone();
    let layout = id.clone();
    match blocking(move || control.switch_layout(&layout), Duration::from_secs(5)).await {
        Ok(()) => axum::Json(serde_json::json!({ "layout": id })).into_response(),
        Err(r) => r,
    }
}

async fn snapshot(State(state): State<AppState>, UrlPath(camera): UrlPath<String>) -> Response {
    let control = state.control.clone();
    // The implementation gets the timeout too; the outer one is a backstop a little later.
    match blocking(move || control.snapshot(&camera, SNAPSHOT_TIMEOUT), SNAPSHOT_TIMEOUT + Duration::from_secs(1)).await
    {
        Ok(jpeg) => ([(header::CONTENT_TYPE, "image/jpeg"), (header::CACHE_CONTROL, "no-store")], jpeg).into_response(),
        Err(r) => r,
    }
}

/// The API's routes, all behind the key check (unknown paths answer 401 too, so an
/// unauthenticated client learns nothing about which routes exist).
pub fn router(key: Arc<LocalKey>, control: Arc<dyn Control>) -> Router {
    let state = AppState { key, control };
    Router::new()
        .route("/local/info", get(info))
        .route("/local/layout/{id}", post(switch))
        .route("/local/snapshot/{camera}", get(snapshot))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "not found") })
        .layer(middleware::from_fn_with_state(state.clone(), require_key))
        .with_state(state)
}

/// Serves the API on `listener` until the process exits.
pub async fn serve(
    listener: tokio::net::TcpListener,
    key: Arc<LocalKey>,
    control: Arc<dyn Control>,
) -> std::io::Result<()> {
    axum::serve(listener, router(key, control)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[derive(Default)]
    struct Fake {
        switched: Mutex<Vec<String>>,
    }

    impl Control for Fake {
        fn info(&self) -> Result<Info, ControlError> {
            Ok(Info {
                current_layout: "a".into(),
                default_layout: "a".into(),
                layouts: vec![],
                pool: vec![],
                last_switch_ms: None,
            })
        }
        fn switch_layout(&self, id: &str) -> Result<(), ControlError> {
            if id != "b" {
                return Err(ControlError::NotFound("layout"));
            }
            self.switched.lock().unwrap().push(id.into());
            Ok(())
        }
        fn snapshot(&self, camera: &str, _: Duration) -> Result<Vec<u8>, ControlError> {
            match camera {
                "front" => Ok(vec![0xff, 0xd8, 0xff]),
                "slow" => {
                    std::thread::sleep(SNAPSHOT_TIMEOUT + Duration::from_secs(2));
                    Ok(vec![])
                }
                _ => Err(ControlError::NotFound("camera")),
            }
        }
    }

    /// Starts the API on 127.0.0.1 and returns its address and the fake display.
    async fn start() -> (std::net::SocketAddr, Arc<Fake>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let fake = Arc::new(Fake::default());
        let control: Arc<dyn Control> = fake.clone();
        tokio::spawn(serve(listener, Arc::new(LocalKey::for_tests(KEY)), control));
        (addr, fake)
    }

    /// Sends raw HTTP/1.1 bytes so tests control every header; returns (status, body).
    async fn raw(addr: std::net::SocketAddr, request_line: &str, headers: &[&str]) -> (u16, Vec<u8>) {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut req =
            format!("{request_line} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n");
        for h in headers {
            req.push_str(h);
            req.push_str("\r\n");
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        let text = String::from_utf8_lossy(&out);
        let status = text.split(' ').nth(1).unwrap().parse().unwrap();
        let body_at = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        (status, out[body_at..].to_vec())
    }

    fn auth() -> String {
        format!("Authorization: Bearer {KEY}")
    }

    #[tokio::test]
    async fn the_right_key_opens_every_route() {
        let (addr, fake) = start().await;
        let a = auth();
        let (s, body) = raw(addr, "GET /local/info", &[&a]).await;
        assert_eq!(s, 200);
        assert!(String::from_utf8(body).unwrap().contains(r#""current_layout":"a""#));
        assert_eq!(raw(addr, "POST /local/layout/b", &[&a]).await.0, 200);
        assert_eq!(*fake.switched.lock().unwrap(), vec!["b".to_string()]);
        assert_eq!(raw(addr, "POST /local/layout/zzz", &[&a]).await.0, 404);
        assert_eq!(raw(addr, "GET /local/snapshot/front", &[&a]).await, (200, vec![0xff, 0xd8, 0xff]));
        assert_eq!(raw(addr, "GET /local/snapshot/nope", &[&a]).await.0, 404);
        assert_eq!(raw(addr, "GET /local/layout/b", &[&a]).await.0, 405, "switching needs POST");
        // Lower-case scheme is the same scheme (RFC 9110).
        assert_eq!(raw(addr, "GET /local/info", &[&format!("authorization: bearer {KEY}")]).await.0, 200);
    }

    #[tokio::test]
    async fn bypass_attempts_are_refused() {
        let (addr, fake) = start().await;
        let wrong = format!("Authorization: Bearer {}0", &KEY[..63]);
        let short = format!("Authorization: Bearer {}", &KEY[..32]);
        let long = format!("Authorization: Bearer {KEY}00");
        let upper = format!("Authorization: Bearer {}", KEY.to_uppercase());
        let basic = format!("Authorization: Basic {KEY}");
        let bare = format!("Authorization: {KEY}");
        let padded = format!("Authorization: Bearer  {KEY}");
        let other_header = format!("X-Api-Key: {KEY}");
        let cookie = format!("Cookie: key={KEY}");
        let right = auth();
        let cases: Vec<(String, Vec<&str>)> = vec![
            ("POST /local/layout/b".into(), vec![]),
            ("POST /local/layout/b".into(), vec![&wrong]),
            ("POST /local/layout/b".into(), vec![&short]),
            ("POST /local/layout/b".into(), vec![&long]),
            ("POST /local/layout/b".into(), vec![&upper]),
            ("POST /local/layout/b".into(), vec![&basic]),
            ("POST /local/layout/b".into(), vec![&bare]),
            ("POST /local/layout/b".into(), vec![&padded]),
            ("POST /local/layout/b".into(), vec![&other_header]),
            ("POST /local/layout/b".into(), vec![&cookie]),
            ("POST /local/layout/b".into(), vec!["Authorization: Bearer "]),
            (format!("POST /local/layout/b?key={KEY}"), vec![]),
            (format!("POST /local/layout/b?access_token={KEY}"), vec![]),
            // Two Authorization headers: ambiguous, refused even if one is right.
            ("POST /local/layout/b".into(), vec![&right, &wrong]),
            ("POST /local/layout/b".into(), vec![&wrong, &right]),
            ("GET /local/info".into(), vec![]),
            ("GET /local/snapshot/front".into(), vec![&wrong]),
            // Path tricks do not reach a route without the key either.
            ("POST //local/layout/b".into(), vec![]),
            ("POST /local/layout/b/".into(), vec![]),
            ("POST /local/./layout/b".into(), vec![]),
            ("GET /nonexistent".into(), vec![]),
        ];
        for (line, headers) in &cases {
            let (status, body) = raw(addr, line, headers).await;
            assert_eq!(status, 401, "{line} {headers:?} → {}", String::from_utf8_lossy(&body));
        }
        assert!(fake.switched.lock().unwrap().is_empty(), "no refused request switched a layout");
    }

    #[tokio::test]
    async fn a_hung_snapshot_answers_504() {
        let (addr, _) = start().await;
        assert_eq!(raw(addr, "GET /local/snapshot/slow", &[&auth()]).await.0, 504);
    }

    #[test]
    fn compare_is_exact() {
        let k = LocalKey::for_tests(KEY);
        assert!(k.matches(KEY));
        assert!(!k.matches(""));
        assert!(!k.matches(&KEY[..63]));
        assert!(!k.matches(&format!("{KEY}0")));
        for i in 0..KEY.len() {
            // Differ in exactly one position, first to last.
            let mut b = KEY.as_bytes().to_vec();
            b[i] = if b[i] == b'0' { b'1' } else { b'0' };
            assert!(!k.matches(std::str::from_utf8(&b).unwrap()), "position {i}");
        }
    }

    #[test]
    fn key_file_is_created_0600_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("kiosk");
        let k1 = LocalKey::load_or_create(&state).unwrap();
        let mode = std::fs::metadata(k1.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::metadata(&state).unwrap().permissions().mode() & 0o777, 0o700);
        let on_disk = std::fs::read_to_string(k1.path()).unwrap();
        assert!(valid_key(on_disk.trim()));
        let k2 = LocalKey::load_or_create(&state).unwrap();
        assert!(k2.matches(on_disk.trim()), "the key survives a restart");

        // Widened permissions are narrowed; a corrupt key is replaced.
        std::fs::set_permissions(k1.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        LocalKey::load_or_create(&state).unwrap();
        assert_eq!(std::fs::metadata(k1.path()).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::write(k1.path(), "short\n").unwrap();
        let k3 = LocalKey::load_or_create(&state).unwrap();
        assert!(!k3.matches(on_disk.trim()));
        assert_eq!(std::fs::metadata(k3.path()).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
