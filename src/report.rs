//! The result of a run — one structure behind the text table, the JSON report and the compare
//! view — and the two ways of printing it.

use crate::exit::Exit;
use crate::i18n::{Lang, Text};
pub use crate::metrics::{Metrics, Num, group_thousands};
use crate::stats::VariantStats;
use crate::stats::{self, Ratio, Summary};
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

/// The result of one run: the JSON report contract of DESIGN.md. Its default is an empty,
/// failed run of no scenario, for building a report field by field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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

    /// The same as [`Report::to_text`], the verdict and insights first: what the report
    /// overlay shows, where the figures may be below the screen's fold.
    pub fn to_text_verdict_first(&self, lang: Lang) -> String {
        let text = [
            self.headline(lang),
            self.findings(lang),
            self.figures(),
            self.processes_table(lang),
        ]
        .concat();
        printable_lines(&text).into_owned()
    }

    fn table(&self, lang: Lang) -> String {
        [
            self.headline(lang),
            self.figures(),
            self.findings(lang),
            self.processes_table(lang),
        ]
        .concat()
    }

    /// The scenario, its parameters and how it ended; the error, if any.
    fn headline(&self, lang: Lang) -> String {
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
        out
    }

    /// Every figure, one a line, names aligned.
    fn figures(&self) -> String {
        let mut out = String::new();
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
        out
    }

    /// The verdict's notes (→) and the insights (!).
    fn findings(&self, lang: Lang) -> String {
        let mut out = String::new();
        for note in self.notes_in(lang) {
            let _ = writeln!(out, "  → {note}");
        }
        for warning in &self.warnings {
            let _ = writeln!(out, "  ! {}", warning.text_in(lang));
        }
        out
    }

    /// The processes the run left a record of, with their exits.
    fn processes_table(&self, lang: Lang) -> String {
        let mut out = String::new();
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
    /// One run of each variant: its only run, or the middle one when it ran several times.
    pub runs: Vec<Report>,
    /// Each variant's statistics when the variants ran more than once (`--runs`); then the
    /// ranking and its verdicts use them. Empty for one run each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<VariantStats>,
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

/// How far apart two variants must be to call one better: a shared machine moves a run's time
/// by a few percent from one run to the next, so a ratio within ±5 % is no clear difference.
/// With repeated runs the whole 95 % interval of the ratio must lie beyond it: the spread of
/// runs made in a row does not show what moves all of them alike (a neighbour's build, the
/// clock's frequency), and a difference smaller than that is not worth a verdict.
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
    /// The same ratio's 95 % interval, when every variant ran more than once.
    interval: Option<Ratio>,
}

impl Place {
    /// `1.93` for one run each, `1.93 ± 0.05` with an interval; `inverse`: the best's over
    /// this one's (a throughput seen from the best).
    fn times(self, inverse: bool) -> String {
        let (ratio, interval) = match inverse {
            false => (self.ratio, self.interval),
            true => (
                1.0 / self.ratio.max(1e-12),
                self.interval.map(|r| r.inverse()),
            ),
        };
        match interval {
            Some(r) => r.shown(),
            None => format!("{ratio:.2}"),
        }
    }

    /// Whether it is within [`NOISE`] of the best: by its interval when the runs repeated.
    fn close(self) -> bool {
        if let Some(interval) = self.interval {
            return !interval.clear_of(NOISE);
        }
        let apart = if self.ratio >= 1.0 {
            self.ratio
        } else {
            1.0 / self.ratio.max(1e-12)
        };
        apart <= 1.0 + NOISE
    }
}

impl Measure {
    /// The figure it ranks by.
    pub fn metric(&self) -> &str {
        match self {
            Measure::WallTime => "wall_ms",
            Measure::Throughput { metric, .. } => metric,
        }
    }
}

impl Comparison {
    /// Variant `i`'s statistics of `name`, when the variants ran more than once.
    pub fn summary_of(&self, i: usize, name: &str) -> Option<Summary> {
        self.variants.get(i)?.metrics.get(name).copied()
    }

    /// How many runs each variant had: `(fewest, most)`; `(1, 1)` for one run each.
    pub fn runs_each(&self) -> (usize, usize) {
        let counts = self.variants.iter().map(|v| v.runs);
        match (counts.clone().min(), counts.max()) {
            (Some(least), Some(most)) => (least, most),
            _ => (1, 1),
        }
    }

    /// `3 runs each`, `3–5 runs each`.
    fn runs_each_words(&self, lang: Lang) -> String {
        let n = match self.runs_each() {
            (least, most) if least == most => least.to_string(),
            (least, most) => format!("{least}–{most}"),
        };
        match lang {
            Lang::En => format!("{n} runs each"),
            Lang::Zh => format!("每种跑了 {n} 次"),
        }
    }

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
    /// Each variant's mean when the runs repeated, else its single run's figure.
    fn ranking(&self, measure: &Measure) -> Vec<Place> {
        let metric = measure.metric();
        let repeated = self.variants.len() == self.runs.len();
        let score = |i: usize| match (repeated, measure) {
            (true, _) => self.summary_of(i, metric).map_or(0.0, |s| s.mean),
            (false, Measure::WallTime) => self.runs[i].wall_ms,
            (false, Measure::Throughput { metric, .. }) => {
                self.runs[i].metrics.get(metric).map_or(0.0, Num::as_f64)
            }
        };
        let mut order: Vec<usize> = (0..self.runs.len()).collect();
        order.sort_by(|a, b| {
            let (a, b) = (score(*a), score(*b));
            match measure {
                Measure::WallTime => a.total_cmp(&b),
                Measure::Throughput { .. } => b.total_cmp(&a),
            }
        });
        let Some(&best) = order.first() else {
            return Vec::new();
        };
        let best_score = score(best);
        order
            .into_iter()
            .map(|run| Place {
                run,
                ratio: score(run) / if best_score == 0.0 { 1e-9 } else { best_score },
                interval: match (self.summary_of(run, metric), self.summary_of(best, metric)) {
                    (Some(this), Some(best)) if repeated => stats::ratio(&this, &best),
                    _ => None,
                },
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
        let (once, each) = match self.runs_each() {
            (1, 1) => ("", String::new()),
            _ => (" ", format!(", {}", self.runs_each_words(Lang::En))),
        };
        let _ = match lang {
            Lang::En => writeln!(
                out,
                "{} — {n} variants of `{}`, run one after another{each}\n",
                self.scenario, self.key
            ),
            Lang::Zh if once.is_empty() => writeln!(
                out,
                "{} —— `{}` 的 {n} 种取值，依次运行\n",
                self.scenario, self.key
            ),
            Lang::Zh => writeln!(
                out,
                "{} —— `{}` 的 {n} 种取值，轮流运行，{}\n",
                self.scenario,
                self.key,
                self.runs_each_words(Lang::Zh)
            ),
        };
        let names = self.metric_names();
        let label_w = names.iter().map(|n| n.len()).max().unwrap_or(8).max(8);
        let rows: Vec<(String, Vec<String>)> = if self.variants.is_empty() {
            names
                .iter()
                .map(|name| (name.clone(), self.single_cells(name)))
                .collect()
        } else {
            names
                .iter()
                .flat_map(|name| {
                    let (figures, ranges) = self.repeated_cells(name);
                    // No range line where every run of every variant agreed.
                    let spread = ranges.iter().any(|r| !r.is_empty());
                    std::iter::once((name.clone(), figures))
                        .chain(spread.then(|| (String::new(), ranges)))
                })
                .collect()
        };
        // One run each keeps its fixed columns; statistics take what they need.
        let widest = rows
            .iter()
            .flat_map(|(_, cells)| cells.iter().map(|c| c.chars().count()))
            .max()
            .unwrap_or(0);
        let col_w = if self.variants.is_empty() {
            22
        } else {
            widest.max(22)
        };
        let mut header = format!("  {:<label_w$}", "");
        for v in &self.values {
            let _ = write!(header, "  {:>col_w$}", format!("{}={v}", self.key));
        }
        let _ = writeln!(out, "{}", header.trim_end());
        for (name, cells) in rows {
            let mut line = format!("  {name:<label_w$}");
            for cell in cells {
                let _ = write!(line, "  {cell:>col_w$}");
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
        let _ = writeln!(out, "\n{}", self.summary(lang));
        for (value, stats) in self.values.iter().zip(&self.variants) {
            for outlier in &stats.outliers {
                let _ = writeln!(out, "  {}={value}: {}", self.key, outlier.describe(lang));
            }
        }
        // Each variant's verdict, then its insights, as `conlab run` lists them.
        for (value, run) in self.values.iter().zip(&self.runs) {
            for note in run.notes_in(lang) {
                let _ = writeln!(out, "  {}={value}: {note}", self.key);
            }
            for warning in &run.warnings {
                let _ = writeln!(out, "  {}={value}: ! {}", self.key, warning.text_in(lang));
            }
        }
        out
    }

    /// `name` in each variant's single run: `2.0 (1.00×)` for time and throughput.
    fn single_cells(&self, name: &str) -> Vec<String> {
        let first = self.runs.first().and_then(|r| Self::value(r, name));
        self.runs
            .iter()
            .map(|run| match Self::value(run, name) {
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
            })
            .collect()
    }

    /// `name` over each variant's runs: `mean ± σ (ratio ± interval)`, and under it `min…max`.
    fn repeated_cells(&self, name: &str) -> (Vec<String>, Vec<String>) {
        (0..self.values.len())
            .map(|i| {
                let Some(s) = self.summary_of(i, name) else {
                    return ("—".to_string(), String::new());
                };
                let mark = if self.wrong_in_some_run(i, name) {
                    " ✗"
                } else {
                    ""
                };
                let ratio = match (i, self.variants[i].ratios.get(name)) {
                    (0, _) if is_ratio_metric(name) => " (1.00×)".to_string(),
                    (_, Some(r)) => format!(" ({})", ratio_with_interval(r)),
                    _ => String::new(),
                };
                // The same in every run: the figure as one run shows it, no spread to give.
                if s.min == s.max
                    && let Some(v) = Self::value(&self.runs[i], name)
                {
                    return (format!("{}{mark}{ratio}", v.human_for(name)), String::new());
                }
                (
                    format!("{}{mark}{ratio}", mean_sigma(&s)),
                    format!(
                        "{}…{}",
                        Num::Float(s.min).human(),
                        Num::Float(s.max).human()
                    ),
                )
            })
            .unzip()
    }

    /// Whether some run of variant `i` had `name` differ from its `expected_` twin.
    fn wrong_in_some_run(&self, i: usize, name: &str) -> bool {
        match (
            self.summary_of(i, name),
            self.summary_of(i, &format!("expected_{name}")),
        ) {
            (Some(actual), Some(expected)) => {
                actual.min != expected.min || actual.max != expected.max || actual.min != actual.max
            }
            _ => false,
        }
    }

    /// One line: `mode=atomic fastest, then lock 1.38× slower, nolock 1.01× slower (no clear
    /// difference) · one run each`; by throughput when the runs lasted a fixed time; with
    /// repeated runs, each ratio with its interval (`1.38 ± 0.04×`).
    pub fn summary_line(&self, lang: Lang) -> String {
        let measure = self.measure();
        let order = self.ranking(&measure);
        let Some(&best) = order.first() else {
            return Text::new("no runs", "没有运行").get(lang).to_string();
        };
        let repeated = order.iter().skip(1).any(|p| p.interval.is_some());
        // Where a difference is called unclear, say why: one run each is all there is.
        let once = match (lang, repeated, order[1..].iter().any(|p| p.close())) {
            (Lang::En, true, _) => format!(" · {}", self.runs_each_words(lang)),
            (Lang::Zh, true, _) => format!("（{}）", self.runs_each_words(lang)),
            (_, false, false) => String::new(),
            (Lang::En, false, true) => " · one run each".to_string(),
            (Lang::Zh, false, true) => "（每种只跑了一次）".to_string(),
        };
        if order.len() > 1 && order.iter().all(|p| p.close()) {
            // No order to give: the variants as they were asked for.
            let names: Vec<&str> = self.values.iter().map(String::as_str).collect();
            let pct = NOISE * 100.0;
            return match (lang, repeated) {
                (Lang::En, false) => format!(
                    "no clear difference between {}={}: all within {pct:.0}% of one another{once}",
                    self.key,
                    english_list(&names)
                ),
                (Lang::En, true) => format!(
                    "no clear difference between {}={}: every interval reaches within {pct:.0}% of the best{once}",
                    self.key,
                    english_list(&names)
                ),
                (Lang::Zh, false) => format!(
                    "{}={} 之间看不出差别：彼此相差不到 {pct:.0}%{once}",
                    self.key,
                    names.join("、")
                ),
                (Lang::Zh, true) => format!(
                    "{}={} 之间看不出差别：每个区间都伸进了与最好者相差 {pct:.0}% 以内{once}",
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
                let times = p.times(false);
                match (&measure, lang) {
                    (Measure::WallTime, Lang::En) => format!("{value} {times}× slower{unclear}"),
                    (Measure::WallTime, Lang::Zh) => {
                        format!("{value} 用时是它的 {times} 倍{unclear}")
                    }
                    (Measure::Throughput { .. }, Lang::En) => {
                        format!("{value} {times}× of that{unclear}")
                    }
                    (Measure::Throughput { .. }, Lang::Zh) => {
                        format!("{value} 是它的 {times} 倍{unclear}")
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
    /// within the noise it says there is no clear difference. With repeated runs, as
    /// hyperfine says it: "1.93 ± 0.05 times faster than mode=lock".
    pub fn summary(&self, lang: Lang) -> String {
        let measure = self.measure();
        let order = self.ranking(&measure);
        let Some(&best) = order.first() else {
            return Text::new("Summary: no runs", "小结：没有运行")
                .get(lang)
                .to_string();
        };
        let repeated = order.iter().skip(1).any(|p| p.interval.is_some());
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
        // `1.93×` for one run each, `1.93 ± 0.05 times` with an interval.
        let times = |place: Place, inverse: bool| match place.interval {
            Some(_) => format!("{} times", place.times(inverse)),
            None => format!("{}×", place.times(inverse)),
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
                    "\n    {:>9} faster than {other}{unclear}",
                    times(place, false)
                ),
                (Measure::WallTime, Lang::Zh) => write!(
                    out,
                    "\n    {other} 用时是它的 {} 倍{unclear}",
                    place.times(false)
                ),
                (Measure::Throughput { metric, .. }, Lang::En) => write!(
                    out,
                    "\n    {:>9} the {metric} of {other}{unclear}",
                    times(place, true)
                ),
                (Measure::Throughput { .. }, Lang::Zh) => {
                    write!(out, "\n    是 {other} 的 {} 倍{unclear}", place.times(true))
                }
            };
        }
        if order.len() > 1 {
            let pct = NOISE * 100.0;
            let each = self.runs_each_words(lang);
            let _ = match (lang, repeated) {
                (Lang::En, false) => write!(
                    out,
                    "\n  (one run each: a difference within ±{pct:.0}% is no clear difference)"
                ),
                (Lang::Zh, false) => write!(
                    out,
                    "\n  （每种只跑了一次：相差在 ±{pct:.0}% 以内算不上差别）"
                ),
                (Lang::En, true) => write!(
                    out,
                    "\n  ({each}, taking turns; ± or (low…high) is the ratio's 95% interval, and one that reaches within ±{pct:.0}% of 1 is no clear difference)"
                ),
                (Lang::Zh, true) => write!(
                    out,
                    "\n  （{each}，轮流运行；± 或（下限…上限）是比值的 95% 区间，区间伸进 1 的 ±{pct:.0}% 以内就算不上差别）"
                ),
            };
        }
        out
    }
}

/// `12.3 ± 0.4`.
pub fn mean_sigma(s: &Summary) -> String {
    format!(
        "{} ± {}",
        Num::Float(s.mean).human(),
        Num::Float(s.stddev).human()
    )
}

/// `2.01 ± 0.06×`, or `6.26 (2.71…14.5)×` for a wide interval.
pub fn ratio_with_interval(r: &Ratio) -> String {
    format!("{}×", r.shown())
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
            ok: true,
            wall_ms: wall,
            metrics,
            ..Report::default()
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
            variants: vec![],
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
            variants: vec![],
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
            variants: vec![],
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
            variants: vec![],
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
    fn repeated_runs_rank_by_their_means_and_judge_by_their_intervals() {
        use crate::repeats::{Repeat, comparison};
        let runs = |walls: &[f64]| -> Vec<Repeat> {
            walls
                .iter()
                .map(|w| Repeat {
                    report: report(*w, 0),
                    others_cores: None,
                })
                .collect()
        };
        let values = || vec!["a".to_string(), "b".to_string()];
        // The middle runs are 10 % apart, but b's runs spread wide: no clear difference.
        let c = comparison(
            "lock",
            "mode",
            values(),
            vec![runs(&[10.0, 10.1, 9.9]), runs(&[7.0, 11.0, 15.0])],
        );
        let line = c.summary_line(Lang::En);
        assert_eq!(
            line,
            "no clear difference between mode=a and b: every interval reaches within 5% of the best · 3 runs each"
        );
        assert!(c.to_text(Lang::En).contains("— no clear difference"));
        // The same two middle runs alone would have been called apart.
        let single = Comparison {
            variants: vec![],
            ..c.clone()
        };
        assert!(
            !single.summary_line(Lang::En).contains("no clear"),
            "{}",
            single.summary_line(Lang::En)
        );
        // Twice the time, tightly: a clear 2×, with its interval, hyperfine's way.
        let c = comparison(
            "lock",
            "mode",
            values(),
            vec![runs(&[10.0, 10.2, 9.8]), runs(&[20.0, 20.4, 19.6])],
        );
        let text = c.to_text(Lang::En);
        assert!(text.contains("mode=a ran"), "{text}");
        // Each mean known to 0.2/√3/10; the ratio to √2 times that; t(4 df) = 2.776.
        assert!(
            text.contains("2.00 ± 0.09 times faster than mode=b\n"),
            "{text}"
        );
        assert!(!text.contains("— no clear difference"), "{text}");
        assert!(text.contains("20.0 ± 0.40 (2.00 ± 0.09×)"), "{text}");
        assert!(text.contains("19.6…20.4"), "{text}");
        assert!(text.contains("3 runs each, taking turns"), "{text}");
        let line = c.summary_line(Lang::En);
        assert_eq!(
            line,
            "mode=a fastest, then b 2.00 ± 0.09× slower · 3 runs each"
        );
        let zh = c.to_text(Lang::Zh);
        assert!(
            zh.contains("用时是它的 2.00 ± 0.09 倍") && zh.contains("每种跑了 3 次"),
            "{zh}"
        );
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
            variants: vec![],
        };
        let text = c.to_text(Lang::En);
        let line = |name: &str| text.lines().find(|l| l.contains(name)).unwrap().to_string();
        assert!(line("child_pid").ends_with(" 29748"), "{text}");
        assert!(line("items").ends_with(" 29,748"), "{text}");
    }
}
