//! Grid geometry: where each cell of a layout lands on a screen of a given size.
//!
//! Grid lines are placed at `i * width / columns` (integer division, rounded down), so
//! neighbouring cells share an edge exactly: no one-pixel gaps and no overlaps whatever
//! the screen size, and the cells of a fully covered grid tile the whole screen.

use crate::bundle::{BundleCell, BundleLayout};

/// A rectangle in screen pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Rect {
    pub x: i32,
    pub y: i32,
    pub width: i32,
    pub height: i32,
}

impl Rect {
    pub fn area(&self) -> i64 {
        i64::from(self.width.max(0)) * i64::from(self.height.max(0))
    }

    pub fn right(&self) -> i32 {
        self.x + self.width
    }

    pub fn bottom(&self) -> i32 {
        self.y + self.height
    }

    pub fn intersects(&self, other: &Rect) -> bool {
        self.x < other.right() && other.x < self.right() && self.y < other.bottom() && other.y < self.bottom()
    }

    /// The point-wise interpolation between `self` (t = 0) and `to` (t = 1).
    pub fn lerp(&self, to: &Rect, t: f64) -> Rect {
        let t = t.clamp(0.0, 1.0);
        let mix = |a: i32, b: i32| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as i32;
        let x = mix(self.x, to.x);
        let y = mix(self.y, to.y);
        // Interpolate the far edges too so shared edges stay shared mid-animation.
        Rect { x, y, width: mix(self.right(), to.right()) - x, height: mix(self.bottom(), to.bottom()) - y }
    }
}

/// The layout animation's progress curve: quick start, gentle landing; 0 → 0, 1 → 1.
pub fn ease_out_cubic(t: f64) -> f64 {
    let t = t.clamp(0.0, 1.0);
    1.0 - (1.0 - t).powi(3)
}

/// The position of grid line `i` of `n` over `extent` pixels.
fn line(i: u32, n: u32, extent: u32) -> i32 {
    (u64::from(i) * u64::from(extent) / u64::from(n.max(1))) as i32
}

/// The rectangle a cell covers on a `screen_w` x `screen_h` screen.
pub fn cell_rect(layout: &BundleLayout, cell: &BundleCell, screen_w: u32, screen_h: u32) -> Rect {
    let x0 = line(cell.col, layout.columns, screen_w);
    let x1 = line(cell.col + cell.col_span, layout.columns, screen_w);
    let y0 = line(cell.row, layout.rows, screen_h);
    let y1 = line(cell.row + cell.row_span, layout.rows, screen_h);
    Rect { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }
}

/// The fraction of the screen a cell covers (0..=1); independent of the screen size
/// so the stream choice does not flip when the output resolution changes.
pub fn cell_fraction(layout: &BundleLayout, cell: &BundleCell) -> f64 {
    let cells = f64::from(layout.columns) * f64::from(layout.rows);
    if cells == 0.0 { 0.0 } else { f64::from(cell.col_span) * f64::from(cell.row_span) / cells }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{BundleContent, Fit, Priority};
    use proptest::prelude::*;

    fn cell(col: u32, row: u32, col_span: u32, row_span: u32) -> BundleCell {
        BundleCell {
            col,
            row,
            col_span,
            row_span,
            fit: Fit::Cover,
            content: BundleContent::Html { html: String::new() },
        }
    }

    fn layout(columns: u32, rows: u32, cells: Vec<BundleCell>) -> BundleLayout {
        BundleLayout { name: "t".into(), columns, rows, priority: Priority::Normal, cells }
    }

    #[test]
    fn a_3x2_grid_on_1080p() {
        let l = layout(3, 2, vec![]);
        assert_eq!(cell_rect(&l, &cell(0, 0, 2, 2), 1920, 1080), Rect { x: 0, y: 0, width: 1280, height: 1080 });
        assert_eq!(cell_rect(&l, &cell(2, 1, 1, 1), 1920, 1080), Rect { x: 1280, y: 540, width: 640, height: 540 });
    }

    #[test]
    fn uneven_division_leaves_no_gap() {
        let l = layout(3, 1, vec![]);
        let rects: Vec<_> = (0..3).map(|c| cell_rect(&l, &cell(c, 0, 1, 1), 1000, 10)).collect();
        assert_eq!(rects[0].right(), rects[1].x);
        assert_eq!(rects[1].right(), rects[2].x);
        assert_eq!(rects[2].right(), 1000);
    }

    #[test]
    fn lerp_ends_and_middle() {
        let a = Rect { x: 0, y: 0, width: 100, height: 100 };
        let b = Rect { x: 100, y: 50, width: 300, height: 50 };
        assert_eq!(a.lerp(&b, 0.0), a);
        assert_eq!(a.lerp(&b, 1.0), b);
        assert_eq!(a.lerp(&b, 0.5), Rect { x: 50, y: 25, width: 200, height: 75 });
    }

    #[test]
    fn easing_is_monotonic_and_pinned() {
        assert_eq!(ease_out_cubic(0.0), 0.0);
        assert_eq!(ease_out_cubic(1.0), 1.0);
        assert_eq!(ease_out_cubic(-1.0), 0.0);
        assert_eq!(ease_out_cubic(2.0), 1.0);
        assert!(ease_out_cubic(0.5) > 0.5, "ease-out is ahead of linear");
        let samples: Vec<f64> = (0..=100).map(|i| ease_out_cubic(f64::from(i) / 100.0)).collect();
        assert!(samples.windows(2).all(|w| w[0] <= w[1]));
    }

    /// A random grid partitioned into non-overlapping cells by greedy placement.
    fn arb_partition() -> impl Strategy<Value = (BundleLayout, u32, u32)> {
        (1u32..=12, 1u32..=12, prop::collection::vec((1u32..=4, 1u32..=4), 1..40), 1u32..=7680, 1u32..=4320).prop_map(
            |(columns, rows, spans, w, h)| {
                let mut taken = vec![false; (columns * rows) as usize];
                let mut cells = Vec::new();
                let mut spans = spans.into_iter().cycle();
                for r in 0..rows {
                    for c in 0..columns {
                        if taken[(r * columns + c) as usize] {
                            continue;
                        }
                        let (cs, rs) = spans.next().unwrap();
                        // Shrink the span until it fits and covers only free slots.
                        let mut cs = cs.min(columns - c);
                        let rs = rs.min(rows - r);
                        while (c..c + cs).any(|cc| taken[(r * columns + cc) as usize]) {
                            cs -= 1;
                        }
                        for rr in r..r + rs {
                            for cc in c..c + cs {
                                taken[(rr * columns + cc) as usize] = true;
                            }
                        }
                        cells.push(cell(c, r, cs, rs));
                    }
                }
                (layout(columns, rows, cells), w, h)
            },
        )
    }

    proptest! {
        #[test]
        fn cells_tile_the_screen_exactly((l, w, h) in arb_partition()) {
            let rects: Vec<Rect> = l.cells.iter().map(|c| cell_rect(&l, c, w, h)).collect();
            for r in &rects {
                prop_assert!(r.x >= 0 && r.y >= 0 && r.right() <= w as i32 && r.bottom() <= h as i32);
                prop_assert!(r.width >= 0 && r.height >= 0);
            }
            for (i, a) in rects.iter().enumerate() {
                for b in &rects[i + 1..] {
                    prop_assert!(!a.intersects(b), "{a:?} overlaps {b:?}");
                }
            }
            prop_assert_eq!(rects.iter().map(Rect::area).sum::<i64>(), i64::from(w) * i64::from(h));
        }

        #[test]
        fn fraction_is_the_share_of_cells(columns in 1u32..=64, rows in 1u32..=64, cs in 1u32..=64, rs in 1u32..=64) {
            let cs = cs.min(columns);
            let rs = rs.min(rows);
            let l = layout(columns, rows, vec![]);
            let f = cell_fraction(&l, &cell(0, 0, cs, rs));
            prop_assert!(f > 0.0 && f <= 1.0);
            // On a screen that divides evenly the pixel share equals the cell share.
            let r = cell_rect(&l, &cell(0, 0, cs, rs), columns * 10, rows * 10);
            let px = r.area() as f64 / f64::from(columns * 10 * rows * 10);
            prop_assert!((px - f).abs() < 1e-9);
        }

        #[test]
        fn lerp_stays_between(ax in -2000i32..2000, ay in -2000i32..2000, aw in 0i32..2000, ah in 0i32..2000,
                              bx in -2000i32..2000, by in -2000i32..2000, bw in 0i32..2000, bh in 0i32..2000, t in 0.0f64..=1.0) {
            let a = Rect { x: ax, y: ay, width: aw, height: ah };
            let b = Rect { x: bx, y: by, width: bw, height: bh };
            let m = a.lerp(&b, t);
            prop_assert!(m.x >= ax.min(bx) && m.x <= ax.max(bx));
            prop_assert!(m.right() >= a.right().min(b.right()) && m.right() <= a.right().max(b.right()));
            prop_assert!(m.bottom() >= a.bottom().min(b.bottom()) && m.bottom() <= a.bottom().max(b.bottom()));
        }
    }
}
