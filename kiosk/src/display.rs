//! The GTK 4 front end: one full-screen window, a grid of camera and web tiles.
//!
//! Every running stream and web view belongs to a pool entry keyed by [`PoolKey`]; a
//! layout switch only builds new *cell widgets* around those entries, so a warm camera
//! reappears with its current frame and no reconnect. The pure [`PoolPlanner`] decides
//! what runs; this module carries its actions out on the GTK main loop.
//!
//! Tiles sit in a [`gtk::Fixed`]; each is wrapped in a scrollbar-less
//! [`gtk::ScrolledWindow`] whose natural size is its size request, so the Fixed gives it
//! exactly the cell's rectangle whatever the video's own resolution is. The 350 ms layout
//! animation moves and resizes those wrappers from a frame-clock tick callback.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use gst::prelude::*;
use gstreamer as gst;
use gtk::{gdk, glib};
use gtk4 as gtk;
use webkit6::prelude::*;

use crate::bundle::{Fit, KioskBundle, Transport, read_password};
use crate::geometry::{Rect, ease_out_cubic};
use crate::local_api::{self, Control, ControlError, Info, LayoutInfo, LocalKey, PoolEntryInfo};
use crate::notify;
use crate::pool::{PipelineSpec, PoolKey, PoolPlanner, Tile, WebSource, layout_tiles, pipeline_spec};
use crate::stream::StreamKind;
use crate::timing::{Backoff, IdleRevert, STALL_TIMEOUT, stalled};

/// How long a layout switch animates.
pub const ANIMATION: Duration = Duration::from_millis(350);

const CSS: &str = "
window, .stage { background-color: black; }
.status { background-color: #202020; color: #e0e0e0; font-size: 22px; padding: 12px; }
.status.error { background-color: #6e0000; color: white; }
.badge { background-color: rgba(0,0,0,0.55); color: white; font-size: 13px; font-weight: bold;
         padding: 1px 6px; margin: 6px; border-radius: 4px; }
";

/// What [`run`] needs.
#[derive(Debug)]
pub struct Options {
    pub bundle_path: PathBuf,
    pub bundle: KioskBundle,
    pub state_dir: PathBuf,
    pub initial_layout: Option<String>,
}

/// Events from other threads (GStreamer streaming threads, the API) to the UI thread.
enum UiEvent {
    FirstFrame { key: PoolKey, generation: u64 },
    Switch { id: String, reply: std::sync::mpsc::Sender<Result<(), ControlError>> },
}

#[derive(Clone, Debug, PartialEq)]
enum CamState {
    Connecting,
    Playing,
    Error(String),
}

/// A running camera stream: its pipeline and the paintable cells draw from.
struct CameraEntry {
    /// The camera's display name, shown on its tiles while it is not playing.
    name: String,
    spec: PipelineSpec,
    /// Why the last attempt failed, until a frame arrives.
    last_error: Option<String>,
    /// Bumped on every rebuild so late events from a torn-down pipeline are ignored.
    generation: u64,
    pipeline: Option<gst::Pipeline>,
    sink: Option<gst::Element>,
    paintable: Option<gdk::Paintable>,
    _bus_watch: Option<gst::bus::BusWatchGuard>,
    state: CamState,
    started: Instant,
    /// Milliseconds since `epoch` of the last frame, 0 = none yet; written by the streaming thread.
    last_frame: Arc<AtomicU64>,
    backoff: Backoff,
    retry: Option<glib::SourceId>,
}

/// A pooled web view.
struct WebEntry {
    view: webkit6::WebView,
    loaded: Rc<Cell<bool>>,
}

/// One cell of the layout on screen.
struct CellWidget {
    key: PoolKey,
    /// The fixed-size wrapper placed in the stage.
    wrapper: gtk::ScrolledWindow,
    picture: Option<gtk::Picture>,
    status: Option<gtk::Label>,
    from: Rect,
    to: Rect,
}

struct Kiosk {
    bundle_path: PathBuf,
    bundle: RefCell<KioskBundle>,
    current: RefCell<String>,
    planner: RefCell<PoolPlanner>,
    cameras: RefCell<BTreeMap<PoolKey, CameraEntry>>,
    webs: RefCell<BTreeMap<PoolKey, WebEntry>>,
    cells: RefCell<Vec<CellWidget>>,
    stage: gtk::Fixed,
    window: gtk::Window,
    idle: RefCell<IdleRevert>,
    events: async_channel::Sender<UiEvent>,
    epoch: Instant,
    animation_start: Cell<Option<i64>>,
    ready_sent: Cell<bool>,
    initial_layout: String,
    /// Set at a switch, cleared when every tile of the new layout shows a frame.
    switch_started: Cell<Option<(Instant, usize)>>,
    last_switch_ms: Cell<Option<u64>>,
    /// The stage size the cells were last placed for.
    placed_size: Cell<(u32, u32)>,
    shared: Arc<Shared>,
}

/// State the API thread reads without a round trip to the UI thread.
#[derive(Default)]
struct Shared {
    info: Mutex<Option<Info>>,
    /// camera id → (stream, sink) for every running camera pipeline.
    sinks: Mutex<HashMap<String, Vec<(StreamKind, gst::Element)>>>,
}

/// Runs the kiosk until the process is killed.
pub fn run(opts: Options) -> anyhow::Result<()> {
    gst::init().context("initialising GStreamer")?;
    gstgtk4::plugin_register_static().context("registering gtk4paintablesink")?;
    gtk::init().context("initialising GTK (is there a display?)")?;

    let display = gdk::Display::default().context("no display")?;
    let css = gtk::CssProvider::new();
    css.load_from_data(CSS);
    gtk::style_context_add_provider_for_display(&display, &css, gtk::STYLE_PROVIDER_PRIORITY_APPLICATION);

    let initial = opts.initial_layout.clone().unwrap_or_else(|| opts.bundle.default_layout.clone());
    anyhow::ensure!(opts.bundle.layouts.contains_key(&initial), "layout '{initial}' is not in the bundle");

    let window = gtk::Window::new();
    window.set_title(Some("Cairn kiosk"));
    window.set_decorated(false);
    // Fill the first monitor even without a window manager to honour fullscreen
    // (bare X servers); under cage the fullscreen request does the same.
    if let Some(monitor) = display.monitors().item(0).and_then(|o| o.downcast::<gdk::Monitor>().ok()) {
        let g = monitor.geometry();
        window.set_default_size(g.width(), g.height());
    }
    // The blank cursor: a kiosk has no pointer to show, even when a mouse is plugged in.
    window.set_cursor_from_name(Some("none"));
    let stage = gtk::Fixed::new();
    stage.add_css_class("stage");
    stage.set_hexpand(true);
    stage.set_vexpand(true);
    window.set_child(Some(&stage));

    let (tx, rx) = async_channel::unbounded();
    let now = Instant::now();
    let kiosk = Rc::new(Kiosk {
        bundle_path: opts.bundle_path,
        planner: RefCell::new(PoolPlanner::new(Duration::from_secs(u64::from(opts.bundle.cooling_seconds)))),
        idle: RefCell::new(IdleRevert::new(opts.bundle.idle_revert_seconds, now)),
        bundle: RefCell::new(opts.bundle),
        current: RefCell::new(initial.clone()),
        cameras: RefCell::default(),
        webs: RefCell::default(),
        cells: RefCell::default(),
        stage,
        window: window.clone(),
        events: tx.clone(),
        epoch: now,
        animation_start: Cell::new(None),
        ready_sent: Cell::new(false),
        initial_layout: initial.clone(),
        switch_started: Cell::new(None),
        last_switch_ms: Cell::new(None),
        placed_size: Cell::new((0, 0)),
        shared: Arc::new(Shared::default()),
    });

    // Any input keeps the chosen layout; idle revert counts from the last one.
    let input = gtk::EventControllerLegacy::new();
    {
        let k = kiosk.clone();
        input.connect_event(move |_, _| {
            k.idle.borrow_mut().activity(Instant::now());
            glib::Propagation::Proceed
        });
    }
    window.add_controller(input);
    // Relayout when the output size changes (and once it is first known).
    {
        let k = kiosk.clone();
        window.connect_default_width_notify(move |_| k.place_cells());
        let k = kiosk.clone();
        window.connect_default_height_notify(move |_| k.place_cells());
        let k = kiosk.clone();
        window.connect_fullscreened_notify(move |_| k.place_cells());
    }
    window.fullscreen();
    window.present();

    kiosk.show_layout(&initial, false);

    {
        let k = kiosk.clone();
        glib::spawn_future_local(async move {
            while let Ok(ev) = rx.recv().await {
                k.handle(ev);
            }
        });
    }
    {
        let k = kiosk.clone();
        glib::timeout_add_local(Duration::from_millis(500), move || {
            k.tick();
            glib::ControlFlow::Continue
        });
    }
    if let Some(every) = notify::watchdog_interval() {
        // From the GTK main loop on purpose: a hung UI stops the pings and systemd restarts us.
        glib::timeout_add_local(every, || {
            notify::watchdog();
            glib::ControlFlow::Continue
        });
    }
    {
        let k = kiosk.clone();
        // SIGHUP = 1 on Linux: reload the bundle in place.
        glib::unix_signal_add_local(1, move || {
            k.reload();
            glib::ControlFlow::Continue
        });
    }
    {
        let k = kiosk.clone();
        glib::unix_signal_add_local(15, move || {
            k.shutdown();
            std::process::exit(0)
        });
    }

    if let Some(addr) = kiosk.bundle.borrow().local_api.clone() {
        // The display matters more than the API: without a writable state directory
        // the screen still shows its layouts, and the journal says why the API is off.
        if let Err(e) = start_api(&addr, &opts.state_dir, tx, kiosk.shared.clone()) {
            tracing::error!("local API disabled: {e:#}");
        }
    }
    kiosk.publish_info();

    let main_loop = glib::MainLoop::new(None, false);
    {
        let l = main_loop.clone();
        window.connect_close_request(move |_| {
            l.quit();
            glib::Propagation::Proceed
        });
    }
    main_loop.run();
    kiosk.shutdown();
    Ok(())
}

fn start_api(
    addr: &str,
    state_dir: &std::path::Path,
    tx: async_channel::Sender<UiEvent>,
    shared: Arc<Shared>,
) -> anyhow::Result<()> {
    let key = Arc::new(
        LocalKey::load_or_create(state_dir).with_context(|| format!("local API key in {}", state_dir.display()))?,
    );
    tracing::info!(key_file = %key.path().display(), "local API on {addr}");
    let addr = addr.to_owned();
    let control: Arc<dyn Control> = Arc::new(ApiBridge { tx, shared });
    std::thread::Builder::new().name("local-api".into()).spawn(move || {
        let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(rt) => rt,
            Err(e) => return tracing::error!("local API runtime: {e}"),
        };
        rt.block_on(async move {
            match tokio::net::TcpListener::bind(&addr).await {
                Ok(l) => {
                    if let Err(e) = local_api::serve(l, key, control).await {
                        tracing::error!("local API stopped: {e}");
                    }
                }
                // The display matters more than the API: keep showing, say why the API is gone.
                Err(e) => tracing::error!("local API cannot listen on {addr}: {e}"),
            }
        });
    })?;
    Ok(())
}

/// The [`Control`] the API thread calls.
struct ApiBridge {
    tx: async_channel::Sender<UiEvent>,
    shared: Arc<Shared>,
}

impl Control for ApiBridge {
    fn info(&self) -> Result<Info, ControlError> {
        self.shared
            .info
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(ControlError::Unavailable("starting".into()))
    }

    fn switch_layout(&self, id: &str) -> Result<(), ControlError> {
        let (reply, answer) = std::sync::mpsc::channel();
        self.tx
            .send_blocking(UiEvent::Switch { id: id.to_owned(), reply })
            .map_err(|_| ControlError::Unavailable("display is shutting down".into()))?;
        answer
            .recv_timeout(Duration::from_secs(4))
            .map_err(|_| ControlError::Unavailable("display did not answer".into()))?
    }

    fn snapshot(&self, camera: &str, timeout: Duration) -> Result<Vec<u8>, ControlError> {
        let sink = {
            let sinks = self.shared.sinks.lock().unwrap_or_else(|e| e.into_inner());
            let mut running = sinks.get(camera).cloned().unwrap_or_default();
            if running.is_empty() {
                let known = self.shared.info.lock().unwrap_or_else(|e| e.into_inner()).is_some();
                return Err(if known {
                    ControlError::NotFound("running camera")
                } else {
                    ControlError::Unavailable("starting".into())
                });
            }
            running.sort_by_key(|(k, _)| *k); // main before sub: the better picture
            running.swap_remove(0).1
        };
        let sample = sink
            .property::<Option<gst::Sample>>("last-sample")
            .ok_or_else(|| ControlError::Unavailable("no frame yet".into()))?;
        let caps = gst::Caps::builder("image/jpeg").build();
        let jpeg =
            gstreamer_video::convert_sample(&sample, &caps, gst::ClockTime::from_nseconds(timeout.as_nanos() as u64))
                .map_err(|e| ControlError::Unavailable(format!("snapshot failed: {e}")))?;
        let buffer = jpeg.buffer().ok_or_else(|| ControlError::Unavailable("empty snapshot".into()))?;
        let map = buffer.map_readable().map_err(|_| ControlError::Unavailable("unreadable snapshot".into()))?;
        Ok(map.as_slice().to_vec())
    }
}

fn content_fit(fit: Fit) -> gtk::ContentFit {
    match fit {
        Fit::Cover => gtk::ContentFit::Cover,
        Fit::Contain => gtk::ContentFit::Contain,
        Fit::Fill => gtk::ContentFit::Fill,
    }
}

/// The on-tile text for a camera that is not playing (and whether it is an error).
fn status_text(e: &CameraEntry) -> Option<(String, bool)> {
    let name = &e.name;
    match (&e.state, &e.last_error) {
        (CamState::Playing, _) => None,
        (CamState::Connecting, None) => Some((format!("{name}\nConnecting…"), false)),
        (CamState::Connecting, Some(why)) => {
            Some((format!("{name}\nNo signal — reconnecting (attempt {})\n{why}", e.backoff.failures() + 1), true))
        }
        (CamState::Error(why), _) => Some((format!("{name}\nNo signal\n{why}"), true)),
    }
}

impl Kiosk {
    fn stage_size(&self) -> (u32, u32) {
        let (w, h) = (self.window.width(), self.window.height());
        let (w, h) = if w > 0 && h > 0 { (w, h) } else { (self.window.default_width(), self.window.default_height()) };
        (w.max(1) as u32, h.max(1) as u32)
    }

    fn handle(self: &Rc<Self>, ev: UiEvent) {
        match ev {
            UiEvent::FirstFrame { key, generation } => {
                let mut cams = self.cameras.borrow_mut();
                let Some(e) = cams.get_mut(&key) else { return };
                if e.generation != generation {
                    return;
                }
                e.state = CamState::Playing;
                e.backoff.reset();
                e.last_error = None;
                drop(cams);
                tracing::info!(key = key.label(), "first frame");
                self.refresh_status(&key);
                self.check_ready();
                self.check_switch_done();
                self.publish_info();
            }
            UiEvent::Switch { id, reply } => {
                let result = if self.bundle.borrow().layouts.contains_key(&id) {
                    self.idle.borrow_mut().activity(Instant::now());
                    self.show_layout(&id, true);
                    Ok(())
                } else {
                    Err(ControlError::NotFound("layout"))
                };
                let _ = reply.send(result);
            }
        }
    }

    /// Shows `id`: plans the pools, starts what is cold, builds the cell widgets and
    /// animates from the previous positions.
    fn show_layout(self: &Rc<Self>, id: &str, animate: bool) {
        let now = Instant::now();
        let actions = self.planner.borrow_mut().show(&self.bundle.borrow(), id, now);
        tracing::info!(layout = id, started = actions.start.len(), stopped = actions.stop.len(), "switching layout");
        *self.current.borrow_mut() = id.to_owned();
        for key in &actions.stop {
            self.stop_entry(key);
        }
        for key in &actions.start {
            self.start_entry(key);
        }
        let (w, h) = self.stage_size();
        let tiles = layout_tiles(&self.bundle.borrow(), id, w, h);
        self.build_cells(&tiles, animate);
        let pending = tiles.iter().filter(|t| self.is_pending(&t.key)).count();
        self.switch_started.set(Some((now, pending)));
        self.last_switch_ms.set(None);
        self.check_switch_done();
        self.publish_info();
    }

    fn is_pending(&self, key: &PoolKey) -> bool {
        match key {
            PoolKey::Camera { .. } => self.cameras.borrow().get(key).is_none_or(|e| e.state != CamState::Playing),
            PoolKey::Web { .. } => false,
        }
    }

    /// Logs (and records for `/local/info`) how long the last switch took until every
    /// camera tile had a frame: the warm-versus-cold figure.
    fn check_switch_done(self: &Rc<Self>) {
        let Some((started, cold)) = self.switch_started.get() else { return };
        let current = self.current.borrow().clone();
        let (w, h) = self.stage_size();
        let waiting = layout_tiles(&self.bundle.borrow(), &current, w, h).iter().any(|t| self.is_pending(&t.key));
        if waiting {
            return;
        }
        self.switch_started.set(None);
        // Warm tiles are on screen at the next frame: measure to it, not to this call.
        let k = self.clone();
        self.stage.add_tick_callback(move |_, _| {
            let ms = started.elapsed().as_millis() as u64;
            k.last_switch_ms.set(Some(ms));
            tracing::info!(layout = %k.current.borrow(), ms, cold_tiles = cold, "layout on screen");
            k.publish_info();
            glib::ControlFlow::Break
        });
    }

    /// Replaces the cell widgets; a cell whose key was on screen before keeps its widget
    /// and glides from its old rectangle, new cells fade in at their place.
    fn build_cells(self: &Rc<Self>, tiles: &[Tile], animate: bool) {
        let mut old: Vec<CellWidget> = std::mem::take(&mut *self.cells.borrow_mut());
        let mut cells = Vec::new();
        let mut web_used = std::collections::HashSet::new();
        for tile in tiles {
            let reuse = old.iter().position(|c| c.key == tile.key);
            let cell = match reuse {
                Some(i) => {
                    let mut c = old.swap_remove(i);
                    c.from = if animate { c.to } else { tile.rect };
                    c.to = tile.rect;
                    if let Some(p) = &c.picture {
                        p.set_content_fit(content_fit(tile.fit));
                    }
                    if matches!(tile.key, PoolKey::Web { .. }) {
                        web_used.insert(tile.key.clone());
                    }
                    c
                }
                None => {
                    let duplicate_web = matches!(tile.key, PoolKey::Web { .. }) && !web_used.insert(tile.key.clone());
                    let c = self.new_cell(tile, duplicate_web);
                    self.stage.put(&c.wrapper, f64::from(tile.rect.x), f64::from(tile.rect.y));
                    if animate {
                        c.wrapper.set_opacity(0.0);
                    }
                    c
                }
            };
            cells.push(cell);
        }
        for c in old {
            // A pooled web view must leave its wrapper before the wrapper goes away.
            if let Some(view) = self.webs.borrow().get(&c.key) {
                detach(view.view.upcast_ref());
            }
            self.stage.remove(&c.wrapper);
        }
        *self.cells.borrow_mut() = cells;
        if animate {
            self.start_animation();
        } else {
            self.place_cells();
        }
    }

    fn new_cell(&self, tile: &Tile, duplicate_web: bool) -> CellWidget {
        let wrapper = gtk::ScrolledWindow::new();
        // No scrollbars, and a natural size equal to the size request: the Fixed then
        // gives the tile exactly its cell, not the video's resolution.
        wrapper.set_policy(gtk::PolicyType::External, gtk::PolicyType::External);
        wrapper.set_propagate_natural_width(false);
        wrapper.set_propagate_natural_height(false);
        wrapper.set_kinetic_scrolling(false);
        wrapper.set_has_frame(false);
        wrapper.set_size_request(tile.rect.width.max(1), tile.rect.height.max(1));
        let mut picture = None;
        let mut status = None;
        match &tile.key {
            PoolKey::Camera { stream, .. } => {
                let overlay = gtk::Overlay::new();
                let p = gtk::Picture::new();
                p.set_can_shrink(true);
                p.set_content_fit(content_fit(tile.fit));
                if let Some(e) = self.cameras.borrow().get(&tile.key) {
                    p.set_paintable(e.paintable.as_ref());
                }
                overlay.set_child(Some(&p));
                let s = gtk::Label::new(None);
                s.add_css_class("status");
                s.set_halign(gtk::Align::Fill);
                s.set_valign(gtk::Align::Fill);
                s.set_justify(gtk::Justification::Center);
                s.set_wrap(true);
                s.set_ellipsize(gtk::pango::EllipsizeMode::End);
                overlay.add_overlay(&s);
                // M / S: which stream this tile decodes, so an operator can tell at a glance.
                let badge = gtk::Label::new(Some(stream.badge()));
                badge.add_css_class("badge");
                badge.set_halign(gtk::Align::End);
                badge.set_valign(gtk::Align::Start);
                overlay.add_overlay(&badge);
                wrapper.set_child(Some(&overlay));
                picture = Some(p);
                status = Some(s);
            }
            PoolKey::Web { source } => {
                let view = if duplicate_web {
                    let v = new_web_view();
                    load_web(&v, source);
                    v
                } else {
                    self.webs.borrow().get(&tile.key).map(|e| e.view.clone()).unwrap_or_else(new_web_view)
                };
                view.set_can_focus(false);
                detach(view.upcast_ref());
                wrapper.set_child(Some(&view));
            }
        }
        let cell = CellWidget { key: tile.key.clone(), wrapper, picture, status, from: tile.rect, to: tile.rect };
        if let Some(e) = self.cameras.borrow().get(&tile.key) {
            apply_status(&cell, e);
        }
        cell
    }

    fn start_animation(self: &Rc<Self>) {
        // -1: "start at the next frame"; a running tick callback picks the restart up.
        let running = self.animation_start.replace(Some(-1)).is_some();
        if running {
            return;
        }
        let k = self.clone();
        let frames = Cell::new(0u32);
        self.stage.add_tick_callback(move |_, clock| {
            let now = clock.frame_time();
            let start = match k.animation_start.get() {
                Some(s) if s >= 0 => s,
                _ => {
                    k.animation_start.set(Some(now));
                    frames.set(0);
                    now
                }
            };
            let t = (now - start) as f64 / ANIMATION.as_micros() as f64;
            k.place_at(ease_out_cubic(t));
            frames.set(frames.get() + 1);
            if t >= 1.0 {
                k.animation_start.set(None);
                tracing::debug!(frames = frames.get(), ms = (now - start) / 1000, "layout animation done");
                glib::ControlFlow::Break
            } else {
                glib::ControlFlow::Continue
            }
        });
    }

    /// Puts every cell at its final rectangle for the current stage size.
    fn place_cells(&self) {
        let (w, h) = self.stage_size();
        self.placed_size.set((w, h));
        let current = self.current.borrow().clone();
        let tiles = layout_tiles(&self.bundle.borrow(), &current, w, h);
        let mut cells = self.cells.borrow_mut();
        // Cells are built in tile order, so the n-th cell is the n-th tile.
        for (c, t) in cells.iter_mut().zip(tiles.iter()) {
            c.from = t.rect;
            c.to = t.rect;
        }
        drop(cells);
        if self.animation_start.get().is_none() {
            self.place_at(1.0);
        }
    }

    fn place_at(&self, t: f64) {
        for c in self.cells.borrow().iter() {
            let r = c.from.lerp(&c.to, t);
            c.wrapper.set_size_request(r.width.max(1), r.height.max(1));
            self.stage.move_(&c.wrapper, f64::from(r.x), f64::from(r.y));
            if c.wrapper.opacity() < 1.0 {
                c.wrapper.set_opacity(t);
            }
        }
    }

    fn start_entry(self: &Rc<Self>, key: &PoolKey) {
        match key {
            PoolKey::Camera { .. } => {
                let Some(spec) = pipeline_spec(&self.bundle.borrow(), key) else { return };
                let PoolKey::Camera { camera, .. } = key else { return };
                let name = self.bundle.borrow().cameras.get(camera).map(|c| c.name.clone()).unwrap_or_default();
                let entry = CameraEntry {
                    name,
                    last_error: None,
                    spec,
                    generation: 0,
                    pipeline: None,
                    sink: None,
                    paintable: None,
                    _bus_watch: None,
                    state: CamState::Connecting,
                    started: Instant::now(),
                    last_frame: Arc::new(AtomicU64::new(0)),
                    backoff: Backoff::default(),
                    retry: None,
                };
                self.cameras.borrow_mut().insert(key.clone(), entry);
                self.build_pipeline(key);
            }
            PoolKey::Web { source } => {
                let view = new_web_view();
                let loaded = Rc::new(Cell::new(false));
                {
                    let loaded = loaded.clone();
                    view.connect_load_changed(move |_, ev| {
                        if ev == webkit6::LoadEvent::Finished {
                            loaded.set(true);
                        }
                    });
                }
                {
                    let source = source.clone();
                    view.connect_load_failed(move |v, _, uri, err| {
                        tracing::warn!(uri, "web tile failed to load: {err}; retrying in 10 s");
                        let v = v.clone();
                        let source = source.clone();
                        glib::timeout_add_local_once(Duration::from_secs(10), move || load_web(&v, &source));
                        false
                    });
                }
                load_web(&view, source);
                self.webs.borrow_mut().insert(key.clone(), WebEntry { view, loaded });
            }
        }
    }

    fn stop_entry(&self, key: &PoolKey) {
        tracing::info!(key = key.label(), "stopping");
        if let Some(mut e) = self.cameras.borrow_mut().remove(key) {
            teardown(&mut e);
            if let PoolKey::Camera { camera, stream } = key {
                let mut sinks = self.shared.sinks.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(v) = sinks.get_mut(camera) {
                    v.retain(|(s, _)| s != stream);
                }
            }
        }
        if let Some(e) = self.webs.borrow_mut().remove(key) {
            e.view.terminate_web_process();
        }
    }

    /// (Re)builds the pipeline of a camera entry: rtspsrc → decodebin → videoconvert → gtk4paintablesink.
    fn build_pipeline(self: &Rc<Self>, key: &PoolKey) {
        let PoolKey::Camera { camera, stream } = key else { return };
        let mut cams = self.cameras.borrow_mut();
        let Some(entry) = cams.get_mut(key) else { return };
        teardown(entry);
        entry.generation += 1;
        entry.state = CamState::Connecting;
        entry.started = Instant::now();
        entry.last_frame.store(0, Ordering::Relaxed);
        let generation = entry.generation;
        match make_pipeline(&entry.spec) {
            Ok((pipeline, sink)) => {
                let paintable = sink.property::<gdk::Paintable>("paintable");
                // Frame arrival, from the streaming thread: stall clock + first-frame event.
                let last = entry.last_frame.clone();
                let epoch = self.epoch;
                let first = Arc::new(AtomicBool::new(false));
                let tx = self.events.clone();
                let k = key.clone();
                if let Some(pad) = sink.static_pad("sink") {
                    pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
                        last.store(epoch.elapsed().as_millis().max(1) as u64, Ordering::Relaxed);
                        if !first.swap(true, Ordering::Relaxed) {
                            let _ = tx.try_send(UiEvent::FirstFrame { key: k.clone(), generation });
                        }
                        gst::PadProbeReturn::Ok
                    });
                }
                let weak = Rc::downgrade(self);
                let k = key.clone();
                let watch = pipeline.bus().and_then(|bus| {
                    bus.add_watch_local(move |_, msg| {
                        let Some(kiosk) = weak.upgrade() else { return glib::ControlFlow::Break };
                        let failure = match msg.view() {
                            gst::MessageView::Error(e) => Some(e.error().to_string()),
                            gst::MessageView::Eos(_) => Some("stream ended".to_owned()),
                            _ => None,
                        };
                        if let Some(why) = failure {
                            kiosk.camera_failed(&k, generation, why);
                        }
                        glib::ControlFlow::Continue
                    })
                    .ok()
                });
                if let Err(e) = pipeline.set_state(gst::State::Playing) {
                    tracing::warn!(key = key.label(), "cannot start pipeline: {e}");
                }
                for cell in self.cells.borrow().iter().filter(|c| &c.key == key) {
                    if let Some(p) = &cell.picture {
                        p.set_paintable(Some(&paintable));
                    }
                }
                {
                    // Replace this stream's sink under one lock, so a snapshot never sees
                    // the camera without it.
                    let mut sinks = self.shared.sinks.lock().unwrap_or_else(|e| e.into_inner());
                    let list = sinks.entry(camera.clone()).or_default();
                    list.retain(|(s, _)| s != stream);
                    list.push((*stream, sink.clone()));
                }
                entry.pipeline = Some(pipeline);
                entry.sink = Some(sink);
                entry.paintable = Some(paintable);
                entry._bus_watch = watch;
            }
            Err(e) => {
                drop(cams);
                self.camera_failed(key, generation, format!("{e:#}"));
                return;
            }
        }
        drop(cams);
        self.refresh_status(key);
    }

    /// A pipeline failed (error, end of stream, stall): show it and retry with backoff.
    fn camera_failed(self: &Rc<Self>, key: &PoolKey, generation: u64, why: String) {
        let mut cams = self.cameras.borrow_mut();
        let Some(e) = cams.get_mut(key) else { return };
        if e.generation != generation || e.retry.is_some() {
            return;
        }
        let delay = e.backoff.next_delay();
        tracing::warn!(key = key.label(), "camera failed: {why}; retrying in {} s", delay.as_secs());
        e.state = CamState::Error(why.clone());
        e.last_error = Some(why);
        if let Some(p) = &e.pipeline {
            let _ = p.set_state(gst::State::Null);
        }
        let k = self.clone();
        let key2 = key.clone();
        e.retry = Some(glib::timeout_add_local_once(delay, move || {
            if let Some(e) = k.cameras.borrow_mut().get_mut(&key2) {
                e.retry = None;
            }
            k.build_pipeline(&key2);
        }));
        drop(cams);
        self.refresh_status(key);
        self.check_ready();
        self.publish_info();
    }

    fn refresh_status(&self, key: &PoolKey) {
        let cams = self.cameras.borrow();
        let Some(e) = cams.get(key) else { return };
        for c in self.cells.borrow().iter().filter(|c| &c.key == key) {
            apply_status(c, e);
        }
    }

    /// `READY=1` once every camera of the first layout has shown a frame or failed once,
    /// so systemd's start does not hang on a camera that is offline at boot.
    fn check_ready(&self) {
        if self.ready_sent.get() || *self.current.borrow() != self.initial_layout {
            if !self.ready_sent.get() && *self.current.borrow() != self.initial_layout {
                // Switched away before settling: the display is up, that is enough.
                self.ready_sent.set(true);
                notify::ready("showing layouts");
            }
            return;
        }
        let cams = self.cameras.borrow();
        let settled = self.cells.borrow().iter().all(|c| match &c.key {
            PoolKey::Camera { .. } => {
                cams.get(&c.key).is_some_and(|e| e.state != CamState::Connecting || e.backoff.failures() > 0)
            }
            PoolKey::Web { .. } => true,
        });
        if settled {
            self.ready_sent.set(true);
            tracing::info!("default layout on screen; notifying systemd");
            notify::ready(&format!("showing {}", self.initial_layout));
        }
    }

    /// Twice a second: cooling expiry, stall detection, idle revert.
    fn tick(self: &Rc<Self>) {
        let now = Instant::now();
        if self.stage_size() != self.placed_size.get() {
            self.place_cells();
        }
        let expired = self.planner.borrow_mut().tick(now);
        for key in &expired.stop {
            self.stop_entry(key);
        }
        let mut stalls = Vec::new();
        for (key, e) in self.cameras.borrow().iter() {
            if e.retry.is_some() {
                continue;
            }
            let ms = e.last_frame.load(Ordering::Relaxed);
            let last = (ms > 0).then(|| self.epoch + Duration::from_millis(ms));
            if stalled(e.started, last, now, STALL_TIMEOUT) {
                stalls.push((key.clone(), e.generation, last.is_some()));
            }
        }
        for (key, generation, had_frames) in stalls {
            let why = if had_frames { "no frame for 15 s" } else { "no frame within 15 s of connecting" };
            self.camera_failed(&key, generation, why.to_owned());
        }
        let (current, default) = (self.current.borrow().clone(), self.bundle.borrow().default_layout.clone());
        if self.idle.borrow().due(now, &current, &default) {
            tracing::info!("idle: back to {default}");
            self.idle.borrow_mut().activity(now);
            self.show_layout(&default, true);
        }
        if !expired.is_empty() {
            self.publish_info();
        }
    }

    /// SIGHUP: load the bundle again; pipelines whose spec did not change keep running.
    fn reload(self: &Rc<Self>) {
        notify::reloading();
        match crate::bundle::load(&self.bundle_path) {
            Ok(new) => {
                let old = self.bundle.replace(new.clone());
                let mut current = self.current.borrow().clone();
                if !new.layouts.contains_key(&current) {
                    current = new.default_layout.clone();
                }
                self.planner.borrow_mut().set_cooling(Duration::from_secs(u64::from(new.cooling_seconds)));
                self.idle.borrow_mut().set_seconds(new.idle_revert_seconds);
                let actions = self.planner.borrow_mut().reload(&old, &new, &current, Instant::now());
                tracing::info!(
                    started = actions.start.len(),
                    restarted = actions.restart.len(),
                    stopped = actions.stop.len(),
                    "bundle reloaded"
                );
                for key in &actions.stop {
                    self.stop_entry(key);
                }
                for key in &actions.restart {
                    if let Some(spec) = pipeline_spec(&new, key) {
                        if let Some(e) = self.cameras.borrow_mut().get_mut(key) {
                            e.spec = spec;
                            if let PoolKey::Camera { camera, .. } = key {
                                e.name = new.cameras.get(camera).map(|c| c.name.clone()).unwrap_or_default();
                            }
                            e.backoff.reset();
                        }
                        self.build_pipeline(key);
                    }
                }
                for key in &actions.start {
                    self.start_entry(key);
                }
                // A renamed camera keeps its pipeline; only its label changes.
                for (key, e) in self.cameras.borrow_mut().iter_mut() {
                    if let PoolKey::Camera { camera, .. } = key {
                        if let Some(c) = new.cameras.get(camera) {
                            e.name.clone_from(&c.name);
                        }
                    }
                }
                *self.current.borrow_mut() = current.clone();
                let (w, h) = self.stage_size();
                let tiles = layout_tiles(&new, &current, w, h);
                self.build_cells(&tiles, false);
                self.publish_info();
            }
            Err(e) => tracing::error!("reload refused, keeping the running bundle: {e}"),
        }
        notify::ready("reloaded");
    }

    fn shutdown(&self) {
        for (_, e) in self.cameras.borrow_mut().iter_mut() {
            teardown(e);
        }
    }

    /// Refreshes the snapshot the API's `GET /local/info` returns.
    fn publish_info(&self) {
        let bundle = self.bundle.borrow();
        let planner = self.planner.borrow();
        let cams = self.cameras.borrow();
        let webs = self.webs.borrow();
        let pool = planner
            .running()
            .map(|(key, temp)| {
                let state = match key {
                    PoolKey::Camera { .. } => match cams.get(key).map(|e| &e.state) {
                        Some(CamState::Connecting) => "connecting".to_owned(),
                        Some(CamState::Playing) => "playing".to_owned(),
                        Some(CamState::Error(e)) => format!("error: {e}"),
                        None => "stopped".to_owned(),
                    },
                    PoolKey::Web { .. } => match webs.get(key) {
                        Some(w) if w.loaded.get() => "loaded".to_owned(),
                        Some(_) => "loading".to_owned(),
                        None => "stopped".to_owned(),
                    },
                };
                PoolEntryInfo { key: key.label(), temperature: temp.name().to_owned(), state }
            })
            .collect();
        let info = Info {
            current_layout: self.current.borrow().clone(),
            default_layout: bundle.default_layout.clone(),
            layouts: bundle.layouts.iter().map(|(id, l)| LayoutInfo { id: id.clone(), name: l.name.clone() }).collect(),
            pool,
            last_switch_ms: self.last_switch_ms.get(),
        };
        *self.shared.info.lock().unwrap_or_else(|e| e.into_inner()) = Some(info);
    }
}

fn apply_status(cell: &CellWidget, e: &CameraEntry) {
    let Some(label) = &cell.status else { return };
    match status_text(e) {
        None => label.set_visible(false),
        Some((text, error)) => {
            label.set_text(&text);
            if error {
                label.add_css_class("error");
            } else {
                label.remove_css_class("error");
            }
            label.set_visible(true);
        }
    }
}

/// Takes a pooled widget out of whatever wrapper holds it (the scrolled window
/// itself, or the viewport it adds for non-scrollable children).
fn detach(widget: &gtk::Widget) {
    let Some(parent) = widget.parent() else { return };
    if let Some(vp) = parent.downcast_ref::<gtk::Viewport>() {
        vp.set_child(None::<&gtk::Widget>);
    } else if let Some(sw) = parent.downcast_ref::<gtk::ScrolledWindow>() {
        sw.set_child(None::<&gtk::Widget>);
    } else {
        widget.unparent();
    }
}

/// A web view whose pages cannot show a pointer: WebKit draws the cursor a page asks
/// for itself, ignoring the window's blank one, so every page and frame gets a
/// user-level `cursor: none` that author CSS cannot override.
fn new_web_view() -> webkit6::WebView {
    let view = webkit6::WebView::new();
    if let Some(ucm) = view.user_content_manager() {
        let sheet = webkit6::UserStyleSheet::new(
            "*, *::before, *::after { cursor: none !important; }",
            webkit6::UserContentInjectedFrames::AllFrames,
            webkit6::UserStyleLevel::User,
            &[],
            &[],
        );
        ucm.add_style_sheet(&sheet);
    }
    view.set_cursor_from_name(Some("none"));
    view
}

fn load_web(view: &webkit6::WebView, source: &WebSource) {
    match source {
        WebSource::Url(u) => view.load_uri(u),
        WebSource::Html(h) => view.load_html(h, None),
        WebSource::File(p) => view.load_uri(&format!("file://{p}")),
    }
}

fn teardown(e: &mut CameraEntry) {
    if let Some(id) = e.retry.take() {
        id.remove();
    }
    e._bus_watch = None;
    if let Some(p) = e.pipeline.take() {
        let _ = p.set_state(gst::State::Null);
    }
    e.sink = None;
}

fn make_pipeline(spec: &PipelineSpec) -> anyhow::Result<(gst::Pipeline, gst::Element)> {
    let pipeline = gst::Pipeline::new();
    let src = gst::ElementFactory::make("rtspsrc")
        .property("location", &spec.url)
        .property("latency", spec.latency_ms)
        // Our own stall detection decides when to give up; keep rtspsrc from waiting minutes.
        .property("tcp-timeout", 10_000_000u64)
        .build()
        .context("rtspsrc (gstreamer1.0-plugins-good)")?;
    src.set_property_from_str(
        "protocols",
        match spec.transport {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        },
    );
    if let Some(user) = &spec.username {
        src.set_property("user-id", user);
    }
    if let Some(file) = &spec.password_file {
        let pw =
            read_password(std::path::Path::new(file)).with_context(|| format!("reading the password file {file}"))?;
        src.set_property("user-pw", pw);
    }
    let decode = gst::ElementFactory::make("decodebin").build().context("decodebin")?;
    let convert = gst::ElementFactory::make("videoconvert").build().context("videoconvert")?;
    let sink = gst::ElementFactory::make("gtk4paintablesink").build().context("gtk4paintablesink")?;
    pipeline.add_many([&src, &decode, &convert, &sink])?;
    convert.link(&sink)?;
    // rtspsrc and decodebin expose pads only once the stream is known: link video, ignore audio.
    let decode_weak = decode.downgrade();
    src.connect_pad_added(move |_, pad| {
        let Some(decode) = decode_weak.upgrade() else { return };
        let is_video = pad
            .current_caps()
            .and_then(|c| c.structure(0).and_then(|s| s.get::<String>("media").ok()))
            .is_none_or(|m| m == "video");
        if let Some(sinkpad) = decode.static_pad("sink") {
            if is_video && !sinkpad.is_linked() {
                let _ = pad.link(&sinkpad);
            }
        }
    });
    let convert_weak = convert.downgrade();
    decode.connect_pad_added(move |_, pad| {
        let Some(convert) = convert_weak.upgrade() else { return };
        let is_video =
            pad.current_caps().and_then(|c| c.structure(0).map(|s| s.name().starts_with("video/"))).unwrap_or(false);
        if let Some(sinkpad) = convert.static_pad("sink") {
            if is_video && !sinkpad.is_linked() {
                let _ = pad.link(&sinkpad);
            }
        }
    });
    Ok((pipeline, sink))
}
