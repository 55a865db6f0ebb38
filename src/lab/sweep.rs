//! A sweep as the trace shows it: a scenario measures one point at a time — the figures of one
//! series at one value `x` of a swept parameter (a task count, a worker count) — and says so
//! with a [`Body::Point`] as each point is done. [`Points`] keeps them: the same points for the
//! runner's report (one row per point) and for the dashboard's Sweep panel.
//!
//! - each point is one `point` event: its series (the writer's word), its `x`, its figures;
//! - while it runs, a sweep publishes how many points it plans and the first and last `x`
//!   ([`PLANNED`], [`X_FIRST`], [`X_LAST`]), so a panel can lay out its axis before the
//!   points arrive;
//! - the report has one row per point, in the order they were measured: `point_<i>_series`
//!   (the series' number, in the order the series first appeared), `point_<i>_<x name>` and
//!   `point_<i>_<figure>` for each figure.

use crate::event::{Body, Event};
use crate::probe::Probe;
use crate::report::{Metrics, Num};

/// How many points the sweep means to measure (live, and in the report).
pub const PLANNED: &str = "sweep_points_planned";
/// How many it has measured.
pub const DONE: &str = "sweep_points_done";
/// The first and the last value of the swept parameter.
pub const X_FIRST: &str = "sweep_x_first";
pub const X_LAST: &str = "sweep_x_last";

/// One measured point.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub series: String,
    pub x: f64,
    pub figures: Metrics,
}

impl Point {
    pub fn figure(&self, name: &str) -> Option<f64> {
        self.figures.get(name).map(Num::as_f64)
    }
}

/// The points of a sweep, in the order they were measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Points {
    pub points: Vec<Point>,
    /// Series words in the order they first appeared.
    pub series: Vec<String>,
}

impl Points {
    /// Takes in one event; true if it was a point.
    pub fn observe(&mut self, event: &Event) -> bool {
        match &event.body {
            Body::Point { series, x, figures } => {
                self.add(Point {
                    series: series.clone(),
                    x: *x,
                    figures: figures.clone(),
                });
                true
            }
            _ => false,
        }
    }

    pub fn add(&mut self, point: Point) {
        if !self.series.contains(&point.series) {
            self.series.push(point.series.clone());
        }
        self.points.push(point);
    }

    /// Traces a point that was just measured, and keeps it.
    pub fn record(&mut self, probe: &Probe, point: Point) {
        probe.emit(Body::Point {
            series: point.series.clone(),
            x: point.x,
            figures: point.figures.clone(),
        });
        self.add(point);
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The points of one series, by `x`.
    pub fn of_series(&self, series: &str) -> Vec<&Point> {
        let mut of: Vec<&Point> = self.points.iter().filter(|p| p.series == series).collect();
        of.sort_by(|a, b| a.x.total_cmp(&b.x));
        of
    }

    /// The highest `figure` of any point.
    pub fn best(&self, figure: &str) -> Option<f64> {
        self.points
            .iter()
            .filter_map(|p| p.figure(figure))
            .reduce(f64::max)
    }

    /// The point of `series` with the fewest `x` whose `figure` comes within `within` (0.1:
    /// 10 %) of the series' best: where more of the swept thing stops paying. Measured on a
    /// noisy machine, the highest point alone would pick among equals at random.
    pub fn knee(&self, series: &str, figure: &str, within: f64) -> Option<&Point> {
        let of = self.of_series(series);
        let best = of
            .iter()
            .filter_map(|p| p.figure(figure))
            .reduce(f64::max)?;
        of.into_iter()
            .find(|p| p.figure(figure).is_some_and(|v| v >= best * (1.0 - within)))
    }

    /// The report's rows: `point_<i>_series`, `point_<i>_<x_name>`, then each figure.
    pub fn add_to(&self, m: &mut Metrics, x_name: &str) {
        for (i, p) in self.points.iter().enumerate() {
            let series = self.series.iter().position(|s| *s == p.series).unwrap_or(0);
            m.set(&format!("point_{i}_series"), series as u64);
            m.set(&format!("point_{i}_{x_name}"), whole(p.x));
            for (name, value) in p.figures.iter() {
                m.set(&format!("point_{i}_{name}"), value);
            }
        }
        m.set(DONE, self.points.len() as u64);
    }
}

/// 1, 2, 4 … up to `max`, and `max` itself when it is no power of two: the values a count
/// (of tasks, of workers) is swept over, evenly spaced on a logarithmic axis.
pub fn doubling(max: usize) -> Vec<usize> {
    let mut values: Vec<usize> = std::iter::successors(Some(1usize), |n| n.checked_mul(2))
        .take_while(|n| *n <= max)
        .collect();
    if values.last() != Some(&max) && max > 0 {
        values.push(max);
    }
    values
}

/// What a sweep plans, for its live figures and its report.
pub fn plan(m: &mut Metrics, planned: usize, x_first: f64, x_last: f64) {
    m.set(PLANNED, planned as u64);
    m.set(X_FIRST, whole(x_first));
    m.set(X_LAST, whole(x_last));
}

/// `x` as an integer when it is one (a task count reads `64`, not `64.0`).
fn whole(x: f64) -> Num {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        Num::Int(x as i64)
    } else {
        Num::Float(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(series: &str, x: f64, y: f64) -> Point {
        let mut figures = Metrics::default();
        figures.set("rate", y);
        Point {
            series: series.into(),
            x,
            figures,
        }
    }

    #[test]
    fn points_come_back_by_series_and_x_and_become_report_rows() {
        let mut p = Points::default();
        for event in [
            point("b", 4.0, 1.0),
            point("a", 2.0, 5.0),
            point("b", 1.0, 3.0),
        ] {
            let e = Event::new(
                1.0,
                1,
                Body::Point {
                    series: event.series,
                    x: event.x,
                    figures: event.figures,
                },
            );
            assert!(p.observe(&e));
        }
        assert_eq!(p.series, ["b", "a"]);
        let xs: Vec<f64> = p.of_series("b").iter().map(|p| p.x).collect();
        assert_eq!(xs, [1.0, 4.0]);
        assert_eq!(p.best("rate"), Some(5.0));
        let mut m = Metrics::default();
        p.add_to(&mut m, "tasks");
        assert_eq!(m.get("point_1_series"), Some(Num::Int(1)));
        assert_eq!(m.get("point_1_tasks"), Some(Num::Int(2)));
        assert_eq!(m.get("point_2_rate"), Some(Num::Float(3.0)));
        assert_eq!(m.get(DONE), Some(Num::Int(3)));
    }

    #[test]
    fn counts_double_up_to_the_most() {
        assert_eq!(doubling(1), [1]);
        assert_eq!(doubling(8), [1, 2, 4, 8]);
        assert_eq!(doubling(6), [1, 2, 4, 6]);
        assert_eq!(doubling(1024).len(), 11);
    }

    #[test]
    fn the_knee_is_the_fewest_x_near_the_best() {
        let mut p = Points::default();
        for (x, y) in [(1.0, 50.0), (2.0, 97.0), (4.0, 100.0), (8.0, 99.0)] {
            p.add(point("cpu", x, y));
        }
        assert_eq!(p.knee("cpu", "rate", 0.05).map(|p| p.x), Some(2.0));
        assert_eq!(p.knee("cpu", "rate", 0.0).map(|p| p.x), Some(4.0));
        assert!(p.knee("io", "rate", 0.05).is_none());
    }
}
