//! Cairn's display tables: `[kiosk]`, `[cameras.<id>]`, `[layouts.<id>]`.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::Spanned;
use crate::checks::{http_url, resource_name, rtsp_url, socket_addr};
use crate::diagnostic::Diagnostics;
use crate::syntax::{KeyPath, Node, OptionalField};
use crate::unit_value::UnitValue;

/// The kiosk display's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Kiosk {
    pub enable: bool,
    pub default_layout: Option<Spanned<String>>,
    pub idle_revert_seconds: u32,
    pub cooling_seconds: u32,
    pub local_api: Option<SocketAddr>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Tcp,
    Udp,
}

/// Where a camera's password comes from; never inlined into rendered files.
#[derive(Clone, Debug, PartialEq)]
pub enum Password {
    Inline(String),
    File(String),
}

/// An RTSP camera with a main and/or a low-resolution sub stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Camera {
    pub id: Spanned<String>,
    pub name: String,
    pub main: Option<String>,
    pub sub: Option<String>,
    pub username: Option<String>,
    pub password: Option<Password>,
    pub transport: Transport,
    pub latency_ms: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Normal,
    /// Keep every cell decoded even while another layout is shown.
    Hot,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamChoice {
    Auto,
    Main,
    Sub,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fit {
    Cover,
    Contain,
    Fill,
}

/// What a cell shows.
#[derive(Clone, Debug, PartialEq)]
pub enum CellContent {
    Camera { camera: Spanned<String>, stream: StreamChoice },
    Url(String),
    Html(String),
    HtmlFile(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub content: CellContent,
    pub col: u32,
    pub row: u32,
    pub col_span: u32,
    pub row_span: u32,
    pub fit: Fit,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub id: Spanned<String>,
    pub name: String,
    pub columns: u32,
    pub rows: u32,
    pub priority: Priority,
    pub cells: Vec<Cell>,
}

/// The largest grid a layout may declare in either direction.
pub const MAX_GRID: i64 = 16;

fn nonempty_text(node: &Node<'_, '_>, d: &mut Diagnostics<'_>) -> Option<String> {
    let s = node.string(d)?;
    if s.value.trim().is_empty() {
        d.error(&node.path, s.span, "must not be empty");
        return None;
    }
    if s.value.chars().any(|c| c.is_control()) {
        d.error(&node.path, s.span, "must not contain control characters");
        return None;
    }
    Some(s.value)
}

fn url_with(
    node: &Node<'_, '_>,
    d: &mut Diagnostics<'_>,
    check: fn(&str) -> Result<url::Url, String>,
) -> Option<String> {
    let s = node.string(d)?;
    match check(&s.value) {
        Ok(_) => Some(s.value),
        Err(m) => {
            d.error(&node.path, s.span, m);
            None
        }
    }
}

/// A path that may use `${FILES_DIR}`/`${CONFIG_DIR}`: single-line and absolute once expanded.
fn file_path(node: &Node<'_, '_>, d: &mut Diagnostics<'_>) -> Option<String> {
    let s = node.string(d)?;
    if let Err(e) = UnitValue::new(&s.value) {
        d.error(&node.path, s.span, format!("path {e}")).hint(e.hint());
        return None;
    }
    let expanded_is_absolute =
        s.value.starts_with('/') || s.value.starts_with("${FILES_DIR}/") || s.value.starts_with("${CONFIG_DIR}/");
    if !expanded_is_absolute || s.value.split('/').any(|c| c == "..") {
        d.error(&node.path, s.span, format!("{:?} must be an absolute path without `..`", s.value))
            .hint("e.g. \"${FILES_DIR}/cameras/front.pass\"");
        return None;
    }
    Some(s.value)
}

pub(crate) fn decode_kiosk(node: &Node<'_, '_>, d: &mut Diagnostics<'_>) -> Option<Kiosk> {
    let table = node.table(d)?;
    table.deny_unknown_keys(d, &["enable", "default_layout", "idle_revert_seconds", "cooling_seconds", "local_api"]);
    let enable = table.get("enable").map(|n| n.bool(d).map(|b| b.value));
    let default_layout = table.get("default_layout").map(|n| n.string(d));
    let idle = table.get("idle_revert_seconds").map(|n| n.integer_in(d, 0, 86_400).map(|v| v.value as u32));
    let cooling = table.get("cooling_seconds").map(|n| n.integer_in(d, 0, 3600).map(|v| v.value as u32));
    let local_api = table.get("local_api").map(|n| {
        let s = n.string(d)?;
        match socket_addr(&s.value) {
            Ok(addr) => Some(addr),
            Err(m) => {
                d.error(&n.path, s.span, m).hint("e.g. local_api = \"0.0.0.0:18090\"");
                None
            }
        }
    });
    let enable = enable.unwrap_or(Some(false))?;
    let default_layout = default_layout.optional()?;
    if enable && default_layout.is_none() {
        d.error(&table.path, table.span.clone(), "an enabled kiosk needs a `default_layout`")
            .hint("add default_layout = \"<layout id>\"");
        return None;
    }
    Some(Kiosk {
        enable,
        default_layout,
        idle_revert_seconds: idle.unwrap_or(Some(300))?,
        cooling_seconds: cooling.unwrap_or(Some(30))?,
        local_api: local_api.optional()?,
    })
}

fn decode_ids<T>(
    node: &Node<'_, '_>,
    d: &mut Diagnostics<'_>,
    f: fn(Spanned<&str>, &Node<'_, '_>, &mut Diagnostics<'_>) -> Option<T>,
) -> Option<BTreeMap<String, T>> {
    let table = node.table(d)?;
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (id, entry) in table.entries() {
        if let Err(m) = resource_name(id.value) {
            d.error(&entry.path, id.span.clone(), m);
            ok = false;
            continue;
        }
        match f(id.clone(), &entry, d) {
            Some(v) => {
                out.insert(id.value.to_owned(), v);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

pub(crate) fn decode_cameras(node: &Node<'_, '_>, d: &mut Diagnostics<'_>) -> Option<BTreeMap<String, Camera>> {
    decode_ids(node, d, decode_camera)
}

fn decode_camera(id: Spanned<&str>, node: &Node<'_, '_>, d: &mut Diagnostics<'_>) -> Option<Camera> {
    let table = node.table(d)?;
    table.deny_unknown_keys(
        d,
        &["name", "main", "sub", "username", "password", "password_file", "transport", "latency_ms"],
    );
    let name = table.get("name").map(|n| nonempty_text(&n, d));
    let main = table.get("main").map(|n| url_with(&n, d, rtsp_url));
    let sub = table.get("sub").map(|n| url_with(&n, d, rtsp_url));
    let username = table.get("username").map(|n| nonempty_text(&n, d));
    let password = table.get("password").map(|n| n.string(d).map(|s| Password::Inline(s.value)));
    let password_file = table.get("password_file").map(|n| file_path(&n, d).map(Password::File));
    let transport = table
        .get("transport")
        .map(|n| n.choice(d, &["tcp", "udp"]).map(|c| if c.value == "tcp" { Transport::Tcp } else { Transport::Udp }));
    let latency = table.get("latency_ms").map(|n| n.integer_in(d, 0, 10_000).map(|v| v.value as u32));
    let mut ok = true;
    if main.is_none() && sub.is_none() {
        d.error(&table.path, table.span.clone(), "a camera needs a `main` or `sub` stream")
            .hint("add main = \"rtsp://…\"");
        ok = false;
    }
    if let (Some(_), Some(n)) = (&password, table.get("password_file")) {
        d.error(&n.path, n.key_span.clone(), "`password` and `password_file` are exclusive").hint("keep one of them");
        ok = false;
    }
    let camera = Camera {
        id: id.map(str::to_owned),
        name: name
            .optional()?
            .unwrap_or_else(|| table.path.to_string().rsplit('.').next().unwrap_or_default().to_owned()),
        main: main.optional()?,
        sub: sub.optional()?,
        username: username.optional()?,
        password: password.optional()?.or(password_file.optional()?),
        transport: transport.unwrap_or(Some(Transport::Tcp))?,
        latency_ms: latency.unwrap_or(Some(300))?,
    };
    ok.then_some(camera)
}

pub(crate) fn decode_layouts(node: &Node<'_, '_>, d: &mut Diagnostics<'_>) -> Option<BTreeMap<String, Layout>> {
    decode_ids(node, d, decode_layout)
}

fn decode_layout(id: Spanned<&str>, node: &Node<'_, '_>, d: &mut Diagnostics<'_>) -> Option<Layout> {
    let table = node.table(d)?;
    table.deny_unknown_keys(d, &["name", "columns", "rows", "priority", "cells"]);
    let name = table.get("name").map(|n| nonempty_text(&n, d));
    let columns = table.require(d, "columns").and_then(|n| n.integer_in(d, 1, MAX_GRID));
    let rows = table.require(d, "rows").and_then(|n| n.integer_in(d, 1, MAX_GRID));
    let priority = table.get("priority").map(|n| {
        n.choice(d, &["normal", "hot"]).map(|c| if c.value == "hot" { Priority::Hot } else { Priority::Normal })
    });
    let cells = table.require(d, "cells").and_then(|n| {
        let items = n.array(d)?;
        if items.is_empty() {
            d.error(&n.path, n.span(), "a layout needs at least one cell");
            return None;
        }
        let cells: Vec<_> =
            items.iter().map(|item| decode_cell(item, d).map(|c| (item.path.clone(), item.span(), c))).collect();
        cells.into_iter().collect::<Option<Vec<_>>>()
    });
    let (columns, rows, cells) = (columns?.value as u32, rows?.value as u32, cells?);
    let mut ok = true;
    let mut taken: Vec<(usize, &Cell)> = Vec::new();
    for (i, (path, span, cell)) in cells.iter().enumerate() {
        if cell.col + cell.col_span > columns || cell.row + cell.row_span > rows {
            d.error(
                path,
                span.clone(),
                format!(
                    "cell at col {}, row {} spanning {}×{} does not fit the {columns}×{rows} grid",
                    cell.col, cell.row, cell.col_span, cell.row_span
                ),
            )
            .hint("columns and rows count from 0; shrink the span or grow the grid");
            ok = false;
            continue;
        }
        if let Some((j, _)) = taken.iter().find(|(_, other)| overlaps(cell, other)) {
            d.error(path, span.clone(), format!("cell overlaps cells[{j}]")).hint("move or shrink one of the cells");
            ok = false;
        }
        taken.push((i, cell));
    }
    let layout = Layout {
        id: id.map(str::to_owned),
        name: name
            .optional()?
            .unwrap_or_else(|| table.path.to_string().rsplit('.').next().unwrap_or_default().to_owned()),
        columns,
        rows,
        priority: priority.unwrap_or(Some(Priority::Normal))?,
        cells: cells.into_iter().map(|(_, _, c)| c).collect(),
    };
    ok.then_some(layout)
}

fn overlaps(a: &Cell, b: &Cell) -> bool {
    a.col < b.col + b.col_span && b.col < a.col + a.col_span && a.row < b.row + b.row_span && b.row < a.row + a.row_span
}

fn decode_cell(node: &Node<'_, '_>, d: &mut Diagnostics<'_>) -> Option<Cell> {
    let table = node.table(d)?;
    table.deny_unknown_keys(
        d,
        &["camera", "url", "html", "html_file", "col", "row", "col_span", "row_span", "stream", "fit"],
    );
    let sources: Vec<_> = ["camera", "url", "html", "html_file"].into_iter().filter_map(|k| table.get(k)).collect();
    let content = match sources.as_slice() {
        [] => {
            d.error(&table.path, node.span(), "a cell needs one of `camera`, `url`, `html` or `html_file`");
            None
        }
        [one] => {
            let key = one.path.to_string();
            if key.ends_with("camera") {
                let stream = table.get("stream").map(|n| {
                    n.choice(d, &["auto", "main", "sub"]).map(|c| match c.value {
                        "main" => StreamChoice::Main,
                        "sub" => StreamChoice::Sub,
                        _ => StreamChoice::Auto,
                    })
                });
                let camera = one.string(d);
                match (camera, stream.unwrap_or(Some(StreamChoice::Auto))) {
                    (Some(camera), Some(stream)) => Some(CellContent::Camera { camera, stream }),
                    _ => None,
                }
            } else if key.ends_with("html_file") {
                file_path(one, d).map(CellContent::HtmlFile)
            } else if key.ends_with("url") {
                url_with(one, d, http_url).map(CellContent::Url)
            } else {
                one.string(d).map(|s| CellContent::Html(s.value))
            }
        }
        [_, second, ..] => {
            d.error(
                &second.path,
                second.key_span.clone(),
                "a cell shows exactly one of `camera`, `url`, `html` or `html_file`",
            )
            .hint("split it into two cells");
            None
        }
    };
    if let Some(n) = table.get("stream") {
        if sources.len() == 1 && !sources[0].path.to_string().ends_with("camera") {
            d.error(&n.path, n.key_span.clone(), "`stream` only applies to camera cells").hint("remove it");
            return None;
        }
    }
    let col = table.require(d, "col").and_then(|n| n.integer_in(d, 0, MAX_GRID - 1));
    let row = table.require(d, "row").and_then(|n| n.integer_in(d, 0, MAX_GRID - 1));
    let col_span = table.get("col_span").map(|n| n.integer_in(d, 1, MAX_GRID));
    let row_span = table.get("row_span").map(|n| n.integer_in(d, 1, MAX_GRID));
    let fit = table.get("fit").map(|n| {
        n.choice(d, &["cover", "contain", "fill"]).map(|c| match c.value {
            "contain" => Fit::Contain,
            "fill" => Fit::Fill,
            _ => Fit::Cover,
        })
    });
    Some(Cell {
        content: content?,
        col: col?.value as u32,
        row: row?.value as u32,
        col_span: col_span.unwrap_or(Some(Spanned::new(1, 0..0)))?.value as u32,
        row_span: row_span.unwrap_or(Some(Spanned::new(1, 0..0)))?.value as u32,
        fit: fit.unwrap_or(Some(Fit::Cover))?,
    })
}

/// Rules between the display tables: layouts name existing cameras and streams,
/// the default layout exists.
pub(crate) fn check_display(
    kiosk: Option<&Kiosk>,
    cameras: &BTreeMap<String, Camera>,
    layouts: &BTreeMap<String, Layout>,
    root: &KeyPath,
    d: &mut Diagnostics<'_>,
) -> bool {
    let mut ok = true;
    for layout in layouts.values() {
        for (i, cell) in layout.cells.iter().enumerate() {
            let CellContent::Camera { camera, stream } = &cell.content else { continue };
            let at = root.key("layouts").key(&layout.id).key("cells").index(i).key("camera");
            match cameras.get(&camera.value) {
                None => {
                    let pending =
                        d.error(&at, camera.span.clone(), format!("camera {:?} is not declared", camera.value));
                    match crate::suggest::closest(&camera.value, cameras.keys().map(String::as_str)) {
                        Some(near) => pending.hint(format!("did you mean {near:?}?")),
                        None => pending.hint(format!("declare [cameras.{}]", camera.value)),
                    }
                    ok = false;
                }
                Some(cam) => {
                    let missing = match stream {
                        StreamChoice::Main if cam.main.is_none() => Some("main"),
                        StreamChoice::Sub if cam.sub.is_none() => Some("sub"),
                        _ => None,
                    };
                    if let Some(which) = missing {
                        d.warning(
                            &at,
                            camera.span.clone(),
                            format!("camera {:?} has no {which} stream; the other one is shown", camera.value),
                        )
                        .hint("use stream = \"auto\" or add the stream to the camera");
                    }
                }
            }
        }
    }
    if let Some(kiosk) = kiosk {
        if let Some(default) = &kiosk.default_layout {
            if !layouts.contains_key(&default.value) {
                let pending = d.error(
                    root.key("kiosk").key("default_layout"),
                    default.span.clone(),
                    format!("layout {:?} is not declared", default.value),
                );
                match crate::suggest::closest(&default.value, layouts.keys().map(String::as_str)) {
                    Some(near) => pending.hint(format!("did you mean {near:?}?")),
                    None => pending.hint(format!("declare [layouts.{}]", default.value)),
                }
                ok = false;
            }
        }
    }
    ok
}
