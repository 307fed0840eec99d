//! The pool planner: which camera streams and web views run, per layout switch.
//!
//! Everything the kiosk can show is keyed by a [`PoolKey`]: a camera stream is
//! `(camera, main|sub)` (two cells showing the same stream share one decoder), a web
//! view is its source (two cells with the same URL share one page). Each key is:
//!
//! - **hot**: on screen now;
//! - **warm**: not on screen but kept running because a `priority = "hot"` layout uses it,
//!   so switching to that layout never reconnects;
//! - **cooling**: was on screen, kept running until a deadline (`cooling_seconds`) so a
//!   quick switch back is instant too;
//! - **cold**: not running (absent from the planner).
//!
//! The planner is pure: it is told the time and returns what to start and stop; the
//! display carries the actions out.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::bundle::{BundleCamera, BundleContent, Fit, KioskBundle, Priority, Transport};
use crate::geometry::{Rect, cell_fraction, cell_rect};
use crate::stream::{StreamKind, choose_stream};

/// What a web tile loads.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WebSource {
    Url(String),
    Html(String),
    /// Runtime path of an HTML file.
    File(String),
}

/// One poolable thing: a camera stream or a web view.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PoolKey {
    Camera { camera: String, stream: StreamKind },
    Web { source: WebSource },
}

impl PoolKey {
    /// A short, stable, log-safe name (never the page content).
    pub fn label(&self) -> String {
        match self {
            PoolKey::Camera { camera, stream } => format!("camera:{camera}:{}", stream.badge()),
            PoolKey::Web { source: WebSource::Url(u) } => format!("url:{u}"),
            PoolKey::Web { source: WebSource::Html(h) } => format!("html:{}b", h.len()),
            PoolKey::Web { source: WebSource::File(p) } => format!("file:{p}"),
        }
    }
}

/// Everything a camera pipeline is built from; a change of any field restarts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipelineSpec {
    pub url: String,
    pub username: Option<String>,
    pub password_file: Option<String>,
    pub transport: Transport,
    pub latency_ms: u32,
}

/// The pipeline a camera key needs in `bundle`, if the camera and stream exist.
pub fn pipeline_spec(bundle: &KioskBundle, key: &PoolKey) -> Option<PipelineSpec> {
    let PoolKey::Camera { camera, stream } = key else { return None };
    let cam: &BundleCamera = bundle.cameras.get(camera)?;
    Some(PipelineSpec {
        url: stream.url(cam)?.to_owned(),
        username: cam.username.clone(),
        password_file: cam.password_file.clone(),
        transport: cam.transport,
        latency_ms: cam.latency_ms,
    })
}

/// One cell of a layout, resolved for a screen.
#[derive(Clone, Debug, PartialEq)]
pub struct Tile {
    pub key: PoolKey,
    pub rect: Rect,
    pub fit: Fit,
}

/// The tiles of `layout_id` on a `w` x `h` screen (empty for an unknown layout).
/// A camera with no stream at all yields no tile (the bundle check refuses those).
pub fn layout_tiles(bundle: &KioskBundle, layout_id: &str, w: u32, h: u32) -> Vec<Tile> {
    let Some(layout) = bundle.layouts.get(layout_id) else { return Vec::new() };
    layout
        .cells
        .iter()
        .filter_map(|cell| {
            let key = match &cell.content {
                BundleContent::Camera { camera, stream } => {
                    let cam = bundle.cameras.get(camera)?;
                    let kind = choose_stream(*stream, cam, cell_fraction(layout, cell))?;
                    PoolKey::Camera { camera: camera.clone(), stream: kind }
                }
                BundleContent::Url { url } => PoolKey::Web { source: WebSource::Url(url.clone()) },
                BundleContent::Html { html } => PoolKey::Web { source: WebSource::Html(html.clone()) },
                BundleContent::HtmlFile { path } => PoolKey::Web { source: WebSource::File(path.clone()) },
            };
            Some(Tile { key, rect: cell_rect(layout, cell, w, h), fit: cell.fit })
        })
        .collect()
}

fn layout_keys(bundle: &KioskBundle, layout_id: &str) -> BTreeSet<PoolKey> {
    // The stream choice uses the cell's share of the grid, not pixels, so any size works.
    layout_tiles(bundle, layout_id, 1, 1).into_iter().map(|t| t.key).collect()
}

/// How a running key is being kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Temperature {
    Hot,
    Warm,
    Cooling { until: Instant },
    Cold,
}

impl Temperature {
    pub fn name(&self) -> &'static str {
        match self {
            Temperature::Hot => "hot",
            Temperature::Warm => "warm",
            Temperature::Cooling { .. } => "cooling",
            Temperature::Cold => "cold",
        }
    }
}

/// What the display must do after a planner call. A key is in at most one list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Actions {
    /// Not running yet: build and start.
    pub start: Vec<PoolKey>,
    /// Running but built from an older spec: tear down and build again.
    pub restart: Vec<PoolKey>,
    /// No longer wanted: tear down.
    pub stop: Vec<PoolKey>,
}

impl Actions {
    pub fn is_empty(&self) -> bool {
        self.start.is_empty() && self.restart.is_empty() && self.stop.is_empty()
    }
}

/// Tracks the temperature of every running key.
#[derive(Debug)]
pub struct PoolPlanner {
    cooling: Duration,
    running: BTreeMap<PoolKey, Temperature>,
}

impl PoolPlanner {
    pub fn new(cooling: Duration) -> Self {
        Self { cooling, running: BTreeMap::new() }
    }

    pub fn set_cooling(&mut self, cooling: Duration) {
        self.cooling = cooling;
    }

    pub fn temperature(&self, key: &PoolKey) -> Temperature {
        self.running.get(key).copied().unwrap_or(Temperature::Cold)
    }

    /// Every running key with its temperature.
    pub fn running(&self) -> impl Iterator<Item = (&PoolKey, Temperature)> {
        self.running.iter().map(|(k, t)| (k, *t))
    }

    /// `layout_id` is now on screen: its keys become hot, the keys of hot-priority
    /// layouts warm, and whatever else was on screen or warm starts cooling.
    pub fn show(&mut self, bundle: &KioskBundle, layout_id: &str, now: Instant) -> Actions {
        let hot = layout_keys(bundle, layout_id);
        let warm: BTreeSet<PoolKey> = bundle
            .layouts
            .iter()
            .filter(|(_, l)| l.priority == Priority::Hot)
            .flat_map(|(id, _)| layout_keys(bundle, id))
            .filter(|k| !hot.contains(k))
            .collect();
        let mut actions = Actions::default();
        for key in hot.iter().chain(warm.iter()) {
            if !self.running.contains_key(key) {
                actions.start.push(key.clone());
            }
        }
        let until = now + self.cooling;
        let mut next = BTreeMap::new();
        for (key, temp) in std::mem::take(&mut self.running) {
            if hot.contains(&key) || warm.contains(&key) {
                continue;
            }
            match temp {
                Temperature::Cooling { .. } => {
                    next.insert(key, temp);
                }
                _ if self.cooling.is_zero() => actions.stop.push(key),
                _ => {
                    next.insert(key, Temperature::Cooling { until });
                }
            }
        }
        next.extend(hot.into_iter().map(|k| (k, Temperature::Hot)));
        next.extend(warm.into_iter().map(|k| (k, Temperature::Warm)));
        self.running = next;
        let expired = self.tick(now);
        actions.stop.extend(expired.stop);
        actions
    }

    /// Stops cooling keys whose deadline has passed.
    pub fn tick(&mut self, now: Instant) -> Actions {
        let mut actions = Actions::default();
        self.running.retain(|key, temp| match temp {
            Temperature::Cooling { until } if *until <= now => {
                actions.stop.push(key.clone());
                false
            }
            _ => true,
        });
        actions
    }

    /// A new bundle replaced `old`: keys whose pipeline changed restart, keys the new
    /// bundle cannot build stop at once (no cooling for a camera that is gone), the rest
    /// are re-planned as by [`PoolPlanner::show`] without touching unchanged pipelines.
    pub fn reload(&mut self, old: &KioskBundle, new: &KioskBundle, layout_id: &str, now: Instant) -> Actions {
        let mut actions = Actions::default();
        let mut restart = Vec::new();
        self.running.retain(|key, _| match key {
            PoolKey::Camera { .. } => match (pipeline_spec(old, key), pipeline_spec(new, key)) {
                (_, None) => {
                    actions.stop.push(key.clone());
                    false
                }
                (Some(a), Some(b)) if a == b => true,
                _ => {
                    restart.push(key.clone());
                    true
                }
            },
            PoolKey::Web { .. } => true,
        });
        let shown = self.show(new, layout_id, now);
        actions.start.extend(shown.start);
        actions.stop.extend(shown.stop);
        // A key that changed and was also just stopped by the re-plan only needs the stop.
        actions.restart = restart.into_iter().filter(|k| self.running.contains_key(k)).collect();
        actions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::tests::sample;

    fn cam(c: &str, s: StreamKind) -> PoolKey {
        PoolKey::Camera { camera: c.into(), stream: s }
    }

    fn web() -> PoolKey {
        PoolKey::Web { source: WebSource::Url("http://127.0.0.1:8000/".into()) }
    }

    #[test]
    fn tiles_choose_streams_by_cell_share() {
        let b = sample();
        let tiles = layout_tiles(&b, "grid", 1920, 1080);
        let keys: Vec<_> = tiles.iter().map(|t| t.key.clone()).collect();
        // 1 of 4 cells = 25 %: main.
        assert_eq!(keys, vec![cam("a", StreamKind::Main), cam("b", StreamKind::Main), web()]);
        assert_eq!(tiles[2].rect, Rect { x: 0, y: 540, width: 1920, height: 540 });
        assert!(layout_tiles(&b, "missing", 10, 10).is_empty());
    }

    #[test]
    fn first_show_starts_on_screen_and_hot_priority_keys() {
        let mut b = sample();
        // The hot "solo" layout uses a's sub stream, which the grid does not.
        b.layouts.get_mut("solo").unwrap().cells[0].content =
            BundleContent::Camera { camera: "a".into(), stream: crate::bundle::StreamChoice::Sub };
        let mut p = PoolPlanner::new(Duration::from_secs(30));
        let now = Instant::now();
        let a = p.show(&b, "grid", now);
        assert_eq!(
            a.start,
            vec![cam("a", StreamKind::Main), cam("b", StreamKind::Main), web(), cam("a", StreamKind::Sub)]
        );
        assert!(a.stop.is_empty());
        assert_eq!(p.temperature(&cam("a", StreamKind::Sub)), Temperature::Warm);
        assert_eq!(p.temperature(&web()), Temperature::Hot);

        // Switching to the warm layout starts nothing: it is already decoded.
        let a = p.show(&b, "solo", now);
        assert!(a.start.is_empty() && a.stop.is_empty(), "{a:?}");
        assert_eq!(p.temperature(&cam("a", StreamKind::Sub)), Temperature::Hot);
        assert!(matches!(p.temperature(&cam("b", StreamKind::Main)), Temperature::Cooling { .. }));
    }

    #[test]
    fn cooling_keys_are_reused_then_expire() {
        let mut b = sample();
        b.layouts.get_mut("solo").unwrap().priority = Priority::Normal;
        let mut p = PoolPlanner::new(Duration::from_secs(30));
        let t0 = Instant::now();
        p.show(&b, "grid", t0);
        // solo shows a's main stream: shared with grid, so still nothing to start.
        let a = p.show(&b, "solo", t0 + Duration::from_secs(1));
        assert!(a.start.is_empty(), "{a:?}");
        assert_eq!(
            p.temperature(&cam("b", StreamKind::Main)),
            Temperature::Cooling { until: t0 + Duration::from_secs(31) }
        );
        // Back within the cooling window: warm switch, nothing starts.
        let a = p.show(&b, "grid", t0 + Duration::from_secs(10));
        assert!(a.start.is_empty() && a.stop.is_empty(), "{a:?}");
        assert_eq!(p.temperature(&cam("b", StreamKind::Main)), Temperature::Hot);
        // Away again; the deadline restarts from this switch.
        p.show(&b, "solo", t0 + Duration::from_secs(20));
        assert!(p.tick(t0 + Duration::from_secs(49)).is_empty());
        let a = p.tick(t0 + Duration::from_secs(50));
        assert_eq!(a.stop, vec![cam("b", StreamKind::Main), web()]);
        assert_eq!(p.temperature(&web()), Temperature::Cold);
        // Cold switch: everything that is not running starts.
        let a = p.show(&b, "grid", t0 + Duration::from_secs(60));
        assert_eq!(a.start, vec![cam("b", StreamKind::Main), web()]);
    }

    #[test]
    fn zero_cooling_stops_at_once() {
        let mut b = sample();
        b.layouts.get_mut("solo").unwrap().priority = Priority::Normal;
        let mut p = PoolPlanner::new(Duration::ZERO);
        let t0 = Instant::now();
        p.show(&b, "grid", t0);
        let a = p.show(&b, "solo", t0);
        assert_eq!(a.stop, vec![cam("b", StreamKind::Main), web()]);
    }

    #[test]
    fn hot_priority_keys_never_cool() {
        let b = sample();
        let mut p = PoolPlanner::new(Duration::from_secs(1));
        let t0 = Instant::now();
        p.show(&b, "solo", t0);
        p.show(&b, "grid", t0);
        p.show(&b, "solo", t0);
        let a = p.tick(t0 + Duration::from_secs(3600));
        assert!(!a.stop.contains(&cam("a", StreamKind::Main)));
        assert_eq!(p.temperature(&cam("a", StreamKind::Main)), Temperature::Hot);
    }

    #[test]
    fn reload_keeps_unchanged_pipelines() {
        let old = sample();
        let mut p = PoolPlanner::new(Duration::from_secs(30));
        let t0 = Instant::now();
        p.show(&old, "grid", t0);

        let mut new = old.clone();
        new.cameras.get_mut("b").unwrap().latency_ms = 999;
        let a = p.reload(&old, &new, "grid", t0);
        assert_eq!(a, Actions { restart: vec![cam("b", StreamKind::Main)], ..Actions::default() });

        // Renaming a layout or changing a cell's fit touches no pipeline.
        let mut same = new.clone();
        same.layouts.get_mut("grid").unwrap().name = "renamed".into();
        same.layouts.get_mut("grid").unwrap().cells[0].fit = Fit::Contain;
        assert!(p.reload(&new, &same, "grid", t0).is_empty());

        // A camera that disappears stops at once, even though it was on screen.
        let mut gone = same.clone();
        gone.cameras.remove("b");
        gone.layouts.get_mut("grid").unwrap().cells.remove(1);
        let a = p.reload(&same, &gone, "grid", t0);
        assert_eq!(a.stop, vec![cam("b", StreamKind::Main)]);
        assert!(a.start.is_empty() && a.restart.is_empty());
    }

    #[test]
    fn duplicate_cells_share_one_key() {
        let mut b = sample();
        let grid = b.layouts.get_mut("grid").unwrap();
        grid.cells[1].content = grid.cells[0].content.clone();
        let mut p = PoolPlanner::new(Duration::from_secs(30));
        let a = p.show(&b, "grid", Instant::now());
        assert_eq!(a.start, vec![cam("a", StreamKind::Main), web()]);
    }
}
