//! The result of a run — one structure behind the text table, the JSON report and the compare
//! view — and the two ways of printing it.

use crate::exit::Exit;
use crate::i18n::{Lang, Text};
pub use crate::metrics::{Metrics, Num, group_thousands};
use crate::text_safe::printable_lines;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// One process that took part in a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessRecord {
    pub pid: u32,
    pub ppid: u32,
    pub role: String,
    /// `"code 0"`, `"signal 9 (SIGKILL)"`, or null while it still runs.
    pub exit: Option<Exit>,
}

/// The result of one run: the JSON report contract of DESIGN.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub scenario: String,
    pub params: serde_json::Map<String, serde_json::Value>,
    pub ok: bool,
    pub wall_ms: f64,
    pub metrics: Metrics,
    /// What the run shows, in a sentence or two each (the verdicts), in English.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The same notes in Chinese, one for one (an empty one was not translated).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes_zh: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cancelled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default)]
    pub processes: Vec<ProcessRecord>,
    /// What the run's figures, trace and processes suggest beyond its verdict (`insights`):
    /// filled in by whoever reaped the runner, absent when there is nothing to say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

/// One insight about a run: which lint found it, the lesson that explains it, one sentence
/// with the figures that triggered it (English in `text`, Chinese in `text_zh`), and those
/// figures by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    pub id: String,
    /// The scenario whose lesson explains it.
    pub lesson: String,
    pub text: String,
    #[serde(default)]
    pub text_zh: String,
    pub figures: Metrics,
}

impl Warning {
    /// The sentence in `lang`, in English where there is no translation.
    pub fn text_in(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh if !self.text_zh.is_empty() => &self.text_zh,
            _ => &self.text,
        }
    }
}

impl Report {
    /// The notes in `lang`: the Chinese one where there is one, else the English.
    pub fn notes_in(&self, lang: Lang) -> Vec<&str> {
        self.notes
            .iter()
            .enumerate()
            .map(|(i, en)| match (lang, self.notes_zh.get(i)) {
                (Lang::Zh, Some(zh)) if !zh.is_empty() => zh.as_str(),
                _ => en.as_str(),
            })
            .collect()
    }

    /// The notes in both languages, as a scenario made them (a parent passing on its child's).
    pub fn note_texts(&self) -> Vec<Text> {
        self.notes
            .iter()
            .enumerate()
            .map(|(i, en)| {
                Text::new(
                    en.clone(),
                    self.notes_zh.get(i).cloned().unwrap_or_default(),
                )
            })
            .collect()
    }

    /// The readable table that `conlab run` prints, in `lang`, safe for a terminal: parameters,
    /// notes and errors may carry anything a user typed or a child printed. Names and figures
    /// are the same in both languages.
    pub fn to_text(&self, lang: Lang) -> String {
        printable_lines(&self.table(lang)).into_owned()
    }

    fn table(&self, lang: Lang) -> String {
        let mut out = String::new();
        let params: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| format!("{k}={}", plain(v)))
            .collect();
        let status = match (self.ok, self.cancelled) {
            (_, true) => Text::new("cancelled", "已取消"),
            (true, false) => Text::new("ok", "完成"),
            (false, false) => Text::new("FAILED", "失败"),
        };
        let _ = writeln!(
            out,
            "{}  {}  [{}]",
            self.scenario,
            params.join(" "),
            status.get(lang)
        );
        if let Some(error) = &self.error {
            let _ = writeln!(out, "{} {error}", Text::new("error:", "错误：").get(lang));
        }
        let width = self
            .metrics
            .iter()
            .map(|(k, _)| k.len())
            .max()
            .unwrap_or(0)
            .max(7);
        let _ = writeln!(
            out,
            "  {:<width$}  {:>14}",
            "wall_ms",
            Num::Float(self.wall_ms).human()
        );
        for (name, value) in self.metrics.iter().filter(|(k, _)| *k != "wall_ms") {
            let _ = writeln!(out, "  {name:<width$}  {:>14}", value.human_for(name));
        }
        for note in self.notes_in(lang) {
            let _ = writeln!(out, "  → {note}");
        }
        for warning in &self.warnings {
            let _ = writeln!(out, "  ! {}", warning.text_in(lang));
        }
        if !self.processes.is_empty() {
            let _ = writeln!(out, "  {}", Text::new("processes:", "进程：").get(lang));
            for p in &self.processes {
                let exit = p.exit.map_or_else(
                    || Text::new("running", "仍在运行").get(lang).to_string(),
                    |e| e.to_string(),
                );
                let _ = writeln!(
                    out,
                    "    pid {:<8} ppid {:<8} {:<8} {exit}",
                    p.pid, p.ppid, p.role
                );
            }
        }
        out
    }
}

/// A JSON value without quotes around strings.
fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Several runs of one scenario that differ in one parameter, for `conlab compare`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    pub scenario: String,
    pub key: String,
    pub values: Vec<String>,
    pub runs: Vec<Report>,
}

/// A metric whose ratio against the first column is worth printing (time or throughput).
pub fn is_ratio_metric(name: &str) -> bool {
    name == "wall_ms" || name == "cpu_ms" || name.ends_with("_per_sec")
}

/// `x / first` as `1.00×`, or an empty string when it means nothing.
pub fn ratio(value: f64, first: f64) -> String {
    if first.abs() < f64::EPSILON || !value.is_finite() {
        String::new()
    } else {
        format!("{:.2}×", value / first)
    }
}

/// How far apart two single runs must be to call one better: a shared machine moves a run's
/// time by a few percent from one run to the next, so a ratio within ±5 % is no clear difference.
pub const NOISE: f64 = 0.05;

/// Parameters that fix how long a run lasts whatever it does (multicore's `seconds`): runs that
/// share one are ranked by how much they did, not by how long they took.
const DURATION_PARAMS: &[&str] = &["seconds"];

/// What a comparison ranks its runs by.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    /// Every run did the same work: the shortest wall time is the best.
    WallTime,
    /// Every run lasted the same time (the parameter and its value): the highest value of the
    /// throughput metric is the best.
    Throughput {
        metric: String,
        lasted: (String, String),
    },
}

/// One run's place in the ranking: how it compares with the best run.
#[derive(Debug, Clone, Copy)]
struct Place {
    run: usize,
    /// Its wall time over the best's (≥ 1), or its throughput over the best's (≤ 1).
    ratio: f64,
}

impl Place {
    /// Whether it is within [`NOISE`] of the best.
    fn close(self) -> bool {
        let apart = if self.ratio >= 1.0 {
            self.ratio
        } else {
            1.0 / self.ratio.max(1e-12)
        };
        apart <= 1.0 + NOISE
    }
}

impl Comparison {
    /// Metric names in first-seen order across all runs, `wall_ms` first.
    pub fn metric_names(&self) -> Vec<String> {
        let mut names = vec!["wall_ms".to_string()];
        for run in &self.runs {
            for (name, _) in run.metrics.iter() {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_string());
                }
            }
        }
        names
    }

    /// The value of `name` in `run`, treating `wall_ms` as a metric.
    pub fn value(run: &Report, name: &str) -> Option<Num> {
        if name == "wall_ms" {
            Some(Num::Float(run.wall_ms))
        } else {
            run.metrics.get(name)
        }
    }

    /// Throughput when every run lasted the same fixed time and reports one (ranking those by
    /// wall time would only rank the noise of their ends); wall time otherwise.
    pub fn measure(&self) -> Measure {
        let first = match self.runs.first() {
            Some(first) if self.runs.len() > 1 => first,
            _ => return Measure::WallTime,
        };
        let lasted = DURATION_PARAMS.iter().find_map(|key| {
            let value = first.params.get(*key)?;
            self.runs
                .iter()
                .all(|r| r.params.get(*key) == Some(value))
                .then(|| (key.to_string(), plain(value)))
        });
        let metric = self.metric_names().into_iter().find(|name| {
            name.ends_with("_per_sec") && self.runs.iter().all(|r| r.metrics.get(name).is_some())
        });
        match (lasted, metric) {
            (Some(lasted), Some(metric)) => Measure::Throughput { metric, lasted },
            _ => Measure::WallTime,
        }
    }

    /// Every run, best first, by [`Comparison::measure`].
    fn ranking(&self, measure: &Measure) -> Vec<Place> {
        let score = |run: &Report| match measure {
            Measure::WallTime => run.wall_ms,
            Measure::Throughput { metric, .. } => run.metrics.get(metric).map_or(0.0, Num::as_f64),
        };
        let mut order: Vec<usize> = (0..self.runs.len()).collect();
        order.sort_by(|a, b| {
            let (a, b) = (score(&self.runs[*a]), score(&self.runs[*b]));
            match measure {
                Measure::WallTime => a.total_cmp(&b),
                Measure::Throughput { .. } => b.total_cmp(&a),
            }
        });
        let best = order.first().map_or(1.0, |&i| score(&self.runs[i]));
        order
            .into_iter()
            .map(|run| Place {
                run,
                ratio: score(&self.runs[run]) / if best == 0.0 { 1e-9 } else { best },
            })
            .collect()
    }

    /// `mode=atomic`.
    fn variant(&self, place: Place) -> String {
        format!("{}={}", self.key, self.values[place.run])
    }

    /// A side-by-side table, ratios against the first column for time and throughput,
    /// then a hyperfine-style summary of which variant did best; safe for a terminal, as
    /// [`Report::to_text`].
    pub fn to_text(&self, lang: Lang) -> String {
        printable_lines(&self.table(lang)).into_owned()
    }

    fn table(&self, lang: Lang) -> String {
        let mut out = String::new();
        let n = self.runs.len();
        let _ = match lang {
            Lang::En => writeln!(
                out,
                "{} — {n} variants of `{}`, run one after another\n",
                self.scenario, self.key
            ),
            Lang::Zh => writeln!(
                out,
                "{} —— `{}` 的 {n} 种取值，依次运行\n",
                self.scenario, self.key
            ),
        };
        let names = self.metric_names();
        let label_w = names.iter().map(|n| n.len()).max().unwrap_or(8).max(8);
        let col_w = 22;
        let mut header = format!("  {:<label_w$}", "");
        for v in &self.values {
            let _ = write!(header, "  {:>col_w$}", format!("{}={v}", self.key));
        }
        let _ = writeln!(out, "{}", header.trim_end());
        for name in &names {
            let mut line = format!("  {name:<label_w$}");
            let first = self.runs.first().and_then(|r| Self::value(r, name));
            for run in &self.runs {
                let cell = match Self::value(run, name) {
                    None => "—".to_string(),
                    Some(v) => {
                        let mark = if mark_wrong(run, name) { " ✗" } else { "" };
                        match first.filter(|_| is_ratio_metric(name)) {
                            Some(f) => {
                                format!("{}{mark} ({})", v.human(), ratio(v.as_f64(), f.as_f64()))
                            }
                            None => format!("{}{mark}", v.human_for(name)),
                        }
                    }
                };
                let _ = write!(line, "  {cell:>col_w$}");
            }
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out, "\n{}", self.summary(lang));
        for (value, run) in self.values.iter().zip(&self.runs) {
            for note in run.notes_in(lang) {
                let _ = writeln!(out, "  {}={value}: {note}", self.key);
            }
        }
        out
    }

    /// One line: `mode=atomic fastest, then lock 1.38× slower, nolock 1.01× slower (no clear
    /// difference) · one run each`; by throughput when the runs lasted a fixed time.
    pub fn summary_line(&self, lang: Lang) -> String {
        let measure = self.measure();
        let order = self.ranking(&measure);
        let Some(&best) = order.first() else {
            return Text::new("no runs", "没有运行").get(lang).to_string();
        };
        // Where a difference is called unclear, say why: one run each is all there is.
        let once = match (lang, order[1..].iter().any(|p| p.close())) {
            (_, false) => "",
            (Lang::En, true) => " · one run each",
            (Lang::Zh, true) => "（每种只跑了一次）",
        };
        if order.len() > 1 && order.iter().all(|p| p.close()) {
            // No order to give: the variants as they were asked for.
            let names: Vec<&str> = self.values.iter().map(String::as_str).collect();
            let pct = NOISE * 100.0;
            return match lang {
                Lang::En => format!(
                    "no clear difference between {}={}: all within {pct:.0}% of one another{once}",
                    self.key,
                    english_list(&names)
                ),
                Lang::Zh => format!(
                    "{}={} 之间看不出差别：彼此相差不到 {pct:.0}%{once}",
                    self.key,
                    names.join("、")
                ),
            };
        }
        let rest: Vec<String> = order[1..]
            .iter()
            .map(|&p| {
                let value = &self.values[p.run];
                let unclear = match (lang, p.close()) {
                    (_, false) => "",
                    (Lang::En, true) => " (no clear difference)",
                    (Lang::Zh, true) => "（差别不明显）",
                };
                match (&measure, lang) {
                    (Measure::WallTime, Lang::En) => {
                        format!("{value} {:.2}× slower{unclear}", p.ratio)
                    }
                    (Measure::WallTime, Lang::Zh) => {
                        format!("{value} 用时是它的 {:.2} 倍{unclear}", p.ratio)
                    }
                    (Measure::Throughput { .. }, Lang::En) => {
                        format!("{value} {:.2}× of that{unclear}", p.ratio)
                    }
                    (Measure::Throughput { .. }, Lang::Zh) => {
                        format!("{value} 是它的 {:.2} 倍{unclear}", p.ratio)
                    }
                }
            })
            .collect();
        let best = self.variant(best);
        let head = match (&measure, lang) {
            (Measure::WallTime, Lang::En) => format!("{best} fastest"),
            (Measure::WallTime, Lang::Zh) => format!("{best} 最快"),
            (Measure::Throughput { metric, .. }, Lang::En) => {
                format!("{best} did the most {}", per_second(metric))
            }
            (Measure::Throughput { metric, .. }, Lang::Zh) => {
                format!("{best} 的 {} 最高", per_second(metric))
            }
        };
        match (rest.is_empty(), lang) {
            (true, _) => head,
            (false, Lang::En) => format!("{head}, then {}{once}", rest.join(", ")),
            (false, Lang::Zh) => format!("{head}；{}{once}", rest.join("，")),
        }
    }

    /// "mode=atomic ran 3.10× faster than mode=lock" by wall time, or "mode=threads did the
    /// most ops_per_sec: 2.00× the ops_per_sec of mode=gil" when the runs lasted a fixed time;
    /// within the noise it says there is no clear difference.
    pub fn summary(&self, lang: Lang) -> String {
        let measure = self.measure();
        let order = self.ranking(&measure);
        let Some(&best) = order.first() else {
            return Text::new("Summary: no runs", "小结：没有运行")
                .get(lang)
                .to_string();
        };
        let mut out = match lang {
            Lang::En => "Summary".to_string(),
            Lang::Zh => "小结".to_string(),
        };
        let best_name = self.variant(best);
        let _ = match (&measure, lang) {
            (Measure::WallTime, Lang::En) => write!(out, "\n  {best_name} ran"),
            (Measure::WallTime, Lang::Zh) => write!(out, "\n  {best_name} 最快"),
            (Measure::Throughput { metric, lasted }, Lang::En) => write!(
                out,
                "\n  {best_name} did the most {metric} (every run lasted {}={})",
                lasted.0, lasted.1
            ),
            (Measure::Throughput { metric, lasted }, Lang::Zh) => write!(
                out,
                "\n  {best_name} 的 {metric} 最高（每次运行的时长相同：{}={}）",
                lasted.0, lasted.1
            ),
        };
        for &place in &order[1..] {
            let other = self.variant(place);
            let unclear = match (lang, place.close()) {
                (_, false) => "",
                (Lang::En, true) => " — no clear difference",
                (Lang::Zh, true) => "——差别不明显",
            };
            let _ = match (&measure, lang) {
                (Measure::WallTime, Lang::En) => write!(
                    out,
                    "\n    {:>8.2}× faster than {other}{unclear}",
                    place.ratio
                ),
                (Measure::WallTime, Lang::Zh) => write!(
                    out,
                    "\n    {other} 用时是它的 {:.2} 倍{unclear}",
                    place.ratio
                ),
                (Measure::Throughput { metric, .. }, Lang::En) => write!(
                    out,
                    "\n    {:>8.2}× the {metric} of {other}{unclear}",
                    1.0 / place.ratio.max(1e-12)
                ),
                (Measure::Throughput { .. }, Lang::Zh) => write!(
                    out,
                    "\n    是 {other} 的 {:.2} 倍{unclear}",
                    1.0 / place.ratio.max(1e-12)
                ),
            };
        }
        if order.len() > 1 {
            let pct = NOISE * 100.0;
            let _ = match lang {
                Lang::En => write!(
                    out,
                    "\n  (one run each: a difference within ±{pct:.0}% is no clear difference)"
                ),
                Lang::Zh => write!(
                    out,
                    "\n  （每种只跑了一次：相差在 ±{pct:.0}% 以内算不上差别）"
                ),
            };
        }
        out
    }
}

/// `ops_per_sec` → `ops/s`.
fn per_second(metric: &str) -> String {
    match metric.strip_suffix("_per_sec") {
        Some(what) => format!("{}/s", what.replace('_', " ")),
        None => metric.to_string(),
    }
}

/// `a`, `a and b`, `a, b and c`.
fn english_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// A metric that has an `expected_<name>` twin and differs from it is wrong: mark it.
pub fn mark_wrong(run: &Report, name: &str) -> bool {
    match (
        run.metrics.get(name),
        run.metrics.get(&format!("expected_{name}")),
    ) {
        (Some(actual), Some(expected)) => actual != expected,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(wall: f64, balance: i64) -> Report {
        let mut metrics = Metrics::default();
        metrics.set("balance", balance);
        metrics.set("expected_balance", 0i64);
        metrics.set("ops_per_sec", 1000.0 / wall);
        Report {
            scenario: "lock".into(),
            params: serde_json::Map::new(),
            ok: true,
            wall_ms: wall,
            metrics,
            notes: vec![],
            notes_zh: vec![],
            cancelled: false,
            error: None,
            processes: vec![],
            warnings: vec![],
        }
    }

    #[test]
    fn integers_stay_integers_in_json() {
        let json = serde_json::to_string(&report(3.0, -63)).unwrap();
        assert!(json.contains("\"balance\":-63,"), "{json}");
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back.metrics.get("balance"), Some(Num::Int(-63)));
    }

    #[test]
    fn compare_marks_wrong_and_ranks() {
        let c = Comparison {
            scenario: "lock".into(),
            key: "mode".into(),
            values: vec!["nolock".into(), "lock".into()],
            runs: vec![report(2.0, 13), report(8.0, 0)],
        };
        let text = c.to_text(Lang::En);
        assert!(text.contains("13 ✗"), "{text}");
        assert!(text.contains("4.00×"), "{text}");
        assert!(text.contains("mode=nolock ran"), "{text}");
        assert!(text.contains("4.00× faster than mode=lock"), "{text}");
    }

    /// A thread name typed as `a<ESC>[2Jb` must not clear the screen of whoever reads the table.
    #[test]
    fn text_tables_show_control_characters_without_obeying_them() {
        let mut r = report(2.0, 0);
        r.params.insert("name".into(), "a\u{1b}[2Jb".into());
        r.notes.push("said \u{1b}]0;title\u{7} then \r over".into());
        r.error = Some("child printed \u{9b}31m".into());
        r.metrics.set("odd\u{1b}name", 1i64);
        let c = Comparison {
            scenario: "lock".into(),
            key: "name".into(),
            values: vec!["x\u{1b}[H".into(), "y".into()],
            runs: vec![r.clone(), report(3.0, 0)],
        };
        for text in [r.to_text(Lang::En), c.to_text(Lang::En)] {
            assert!(
                !text.contains(|c: char| c.is_control() && c != '\n'),
                "{text:?}"
            );
            assert!(text.contains("·[2Jb") || text.contains("x·[H"), "{text}");
            assert!(text.contains("said ·]0;title· then · over"), "{text}");
        }
    }

    /// A multicore-like run: it lasts `seconds` whatever it does; `ops_per_sec` is what it did.
    fn timed(seconds: i64, wall: f64, ops_per_sec: f64) -> Report {
        let mut r = report(wall, 0);
        r.scenario = "multicore".into();
        r.params.insert("seconds".into(), seconds.into());
        r.metrics.set("ops_per_sec", ops_per_sec);
        r
    }

    fn modes(runs: Vec<Report>) -> Comparison {
        Comparison {
            scenario: runs[0].scenario.clone(),
            key: "mode".into(),
            values: ["threads", "gil", "processes"][..runs.len()]
                .iter()
                .map(|v| v.to_string())
                .collect(),
            runs,
        }
    }

    #[test]
    fn runs_of_a_fixed_duration_rank_by_throughput() {
        // gil's wall time is the shortest by a hair, but threads did twice the work.
        let c = modes(vec![timed(2, 2001.0, 200.0), timed(2, 2000.0, 100.0)]);
        let line = c.summary_line(Lang::En);
        assert!(
            line.starts_with("mode=threads did the most ops/s"),
            "{line}"
        );
        assert!(line.contains("gil 0.50×"), "{line}");
        assert!(
            !line.contains("faster") && !line.contains("fastest"),
            "{line}"
        );
        let text = c.to_text(Lang::En);
        assert!(
            text.contains("mode=threads did the most ops_per_sec"),
            "{text}"
        );
        assert!(text.contains("2.00× the ops_per_sec of mode=gil"), "{text}");
        assert!(!text.contains("faster than"), "{text}");
    }

    #[test]
    fn differences_within_the_noise_are_no_clear_difference() {
        // 1.02× apart, one run each: no winner.
        let c = modes(vec![timed(2, 2000.0, 102.0), timed(2, 2000.0, 100.0)]);
        let line = c.summary_line(Lang::En);
        assert!(line.contains("no clear difference"), "{line}");
        assert!(line.contains("one run each"), "{line}");
        let text = c.to_text(Lang::En);
        assert!(
            text.contains("1.02× the ops_per_sec of mode=gil — no clear difference"),
            "{text}"
        );
        assert!(text.contains("one run each"), "{text}");
        // Work-bound runs too: 1.04× the time is within the noise, 1.38× is not.
        let c = Comparison {
            scenario: "lock".into(),
            key: "mode".into(),
            values: vec!["nolock".into(), "lock".into(), "atomic".into()],
            runs: vec![report(10.4, 0), report(13.8, 0), report(10.0, 0)],
        };
        let line = c.summary_line(Lang::En);
        assert!(line.starts_with("mode=atomic fastest"), "{line}");
        assert!(
            line.contains("nolock 1.04× slower (no clear difference)"),
            "{line}"
        );
        assert!(
            line.contains("lock 1.38× slower,") || line.contains("lock 1.38× slower "),
            "{line}"
        );
        assert!(!line.contains("1.38× slower (no clear"), "{line}");
        let text = c.to_text(Lang::En);
        assert!(
            text.contains("1.04× faster than mode=nolock — no clear difference"),
            "{text}"
        );
        // Every run within the noise of the best: nobody is called fastest.
        let c = modes(vec![
            timed(2, 2000.0, 100.0),
            timed(2, 2000.0, 98.0),
            timed(2, 2000.0, 99.0),
        ]);
        let line = c.summary_line(Lang::En);
        assert!(
            line.starts_with("no clear difference between mode=threads, gil and processes"),
            "{line}"
        );
    }

    #[test]
    fn reports_and_comparisons_print_in_either_language() {
        let mut r = timed(2, 2000.0, 200.0);
        r.notes = vec!["used 1.93 of 2 cores".into(), "untranslated".into()];
        r.notes_zh = vec!["用了 2 个核中的 1.93 个".into(), String::new()];
        let zh = r.to_text(Lang::Zh);
        assert!(
            zh.contains("[完成]") && zh.contains("→ 用了 2 个核中的 1.93 个"),
            "{zh}"
        );
        assert!(zh.contains("→ untranslated"), "{zh}");
        // Names and figures stay as they are.
        assert!(zh.contains("ops_per_sec") && zh.contains("wall_ms"), "{zh}");
        let en = r.to_text(Lang::En);
        assert!(
            en.contains("[ok]") && en.contains("→ used 1.93 of 2 cores"),
            "{en}"
        );

        let c = modes(vec![r, timed(2, 2000.0, 100.0)]);
        let line = c.summary_line(Lang::Zh);
        assert!(line.starts_with("mode=threads 的 ops/s 最高"), "{line}");
        assert!(line.contains("gil 是它的 0.50 倍"), "{line}");
        let text = c.to_text(Lang::Zh);
        assert!(
            text.contains("小结") && text.contains("是 mode=gil 的 2.00 倍"),
            "{text}"
        );
        assert!(
            text.contains("mode=threads: 用了 2 个核中的 1.93 个"),
            "{text}"
        );
        let close = modes(vec![timed(2, 2000.0, 101.0), timed(2, 2000.0, 100.0)]);
        let line = close.summary_line(Lang::Zh);
        assert!(
            line.contains("看不出差别") && line.contains("每种只跑了一次"),
            "{line}"
        );
        // A clear difference needs no excuse.
        assert!(!c.summary_line(Lang::En).contains("one run each"));
    }

    #[test]
    fn compare_prints_ids_as_they_are() {
        let mut with_pid = report(2.0, 0);
        with_pid.metrics.set("child_pid", 29748i64);
        with_pid.metrics.set("items", 29748i64);
        let c = Comparison {
            scenario: "lock".into(),
            key: "mode".into(),
            values: vec!["a".into()],
            runs: vec![with_pid],
        };
        let text = c.to_text(Lang::En);
        let line = |name: &str| text.lines().find(|l| l.contains(name)).unwrap().to_string();
        assert!(line("child_pid").ends_with(" 29748"), "{text}");
        assert!(line("items").ends_with(" 29,748"), "{text}");
    }
}
