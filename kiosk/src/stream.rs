//! Which of a camera's streams a cell decodes.

use crate::bundle::{BundleCamera, StreamChoice};

/// A cell covering at least this share of the screen gets the main stream under `auto`.
pub const MAIN_STREAM_MIN_FRACTION: f64 = 0.20;

/// One of a camera's two RTSP streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamKind {
    Main,
    Sub,
}

impl StreamKind {
    /// The one-letter badge drawn on a tile: M or S.
    pub fn badge(self) -> &'static str {
        match self {
            StreamKind::Main => "M",
            StreamKind::Sub => "S",
        }
    }

    pub fn url(self, camera: &BundleCamera) -> Option<&str> {
        match self {
            StreamKind::Main => camera.main.as_deref(),
            StreamKind::Sub => camera.sub.as_deref(),
        }
    }
}

/// The stream a cell shows: an explicit `main`/`sub` wins; `auto` takes main for a cell
/// covering ≥ 20 % of the screen, else sub. When the wanted stream does not exist the
/// other one is used; `None` only for a camera with no stream at all.
pub fn choose_stream(choice: StreamChoice, camera: &BundleCamera, fraction: f64) -> Option<StreamKind> {
    let wanted = match choice {
        StreamChoice::Main => StreamKind::Main,
        StreamChoice::Sub => StreamKind::Sub,
        StreamChoice::Auto if fraction >= MAIN_STREAM_MIN_FRACTION => StreamKind::Main,
        StreamChoice::Auto => StreamKind::Sub,
    };
    let other = match wanted {
        StreamKind::Main => StreamKind::Sub,
        StreamKind::Sub => StreamKind::Main,
    };
    [wanted, other].into_iter().find(|k| k.url(camera).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::Transport;
    use proptest::prelude::*;

    fn cam(main: bool, sub: bool) -> BundleCamera {
        BundleCamera {
            name: "c".into(),
            main: main.then(|| "rtsp://h/main".into()),
            sub: sub.then(|| "rtsp://h/sub".into()),
            username: None,
            password_file: None,
            transport: Transport::Tcp,
            latency_ms: 0,
        }
    }

    #[test]
    fn explicit_choice_wins_over_size() {
        assert_eq!(choose_stream(StreamChoice::Sub, &cam(true, true), 1.0), Some(StreamKind::Sub));
        assert_eq!(choose_stream(StreamChoice::Main, &cam(true, true), 0.01), Some(StreamKind::Main));
    }

    #[test]
    fn auto_switches_at_twenty_percent() {
        let c = cam(true, true);
        assert_eq!(choose_stream(StreamChoice::Auto, &c, 0.20), Some(StreamKind::Main));
        assert_eq!(choose_stream(StreamChoice::Auto, &c, 0.1999), Some(StreamKind::Sub));
        // 1 of 4 cells is 25 %: main. 1 of 9 is 11 %: sub.
        assert_eq!(choose_stream(StreamChoice::Auto, &c, 1.0 / 4.0), Some(StreamKind::Main));
        assert_eq!(choose_stream(StreamChoice::Auto, &c, 1.0 / 9.0), Some(StreamKind::Sub));
    }

    #[test]
    fn falls_back_to_the_stream_that_exists() {
        assert_eq!(choose_stream(StreamChoice::Sub, &cam(true, false), 0.1), Some(StreamKind::Main));
        assert_eq!(choose_stream(StreamChoice::Main, &cam(false, true), 0.9), Some(StreamKind::Sub));
        assert_eq!(choose_stream(StreamChoice::Auto, &cam(false, false), 0.9), None);
    }

    proptest! {
        #[test]
        fn always_picks_an_existing_stream(main: bool, sub: bool, f in 0.0f64..=1.0, c in 0usize..3) {
            let choice = [StreamChoice::Auto, StreamChoice::Main, StreamChoice::Sub][c];
            let camera = cam(main, sub);
            match choose_stream(choice, &camera, f) {
                Some(k) => prop_assert!(k.url(&camera).is_some()),
                None => prop_assert!(!main && !sub),
            }
        }
    }
}
