//! The result of a run — one structure behind the text table, the JSON report and the compare
//! view — and the two ways of printing it.

use crate::exit::Exit;
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
}

impl Report {
    /// The notes in `lang`: the Chinese one where there is one, else the English.
    pub fn notes_in(&self, lang: crate::i18n::Lang) -> Vec<&str> {
        self.notes
            .iter()
            .enumerate()
            .map(|(i, en)| match (lang, self.notes_zh.get(i)) {
                (crate::i18n::Lang::Zh, Some(zh)) if !zh.is_empty() => zh.as_str(),
                _ => en.as_str(),
            })
            .collect()
    }

    /// The readable table that `conlab run` prints, its notes in `lang`, safe for a terminal:
    /// parameters, notes and errors may carry anything a user typed or a child printed.
    pub fn to_text(&self, lang: crate::i18n::Lang) -> String {
        printable_lines(&self.table(lang)).into_owned()
    }

    fn table(&self, lang: crate::i18n::Lang) -> String {
        let mut out = String::new();
        let params: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| format!("{k}={}", plain(v)))
            .collect();
        let status = match (self.ok, self.cancelled) {
            (_, true) => "cancelled",
            (true, false) => "ok",
            (false, false) => "FAILED",
        };
        let _ = writeln!(out, "{}  {}  [{status}]", self.scenario, params.join(" "));
        if let Some(error) = &self.error {
            let _ = writeln!(out, "error: {error}");
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
        if !self.processes.is_empty() {
            let _ = writeln!(out, "  processes:");
            for p in &self.processes {
                let exit = p.exit.map_or("running".to_string(), |e| e.to_string());
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

    /// A side-by-side table, ratios against the first column for time and throughput,
    /// then a hyperfine-style summary of which variant was fastest; safe for a terminal, as
    /// [`Report::to_text`]; the notes in `lang`.
    pub fn to_text(&self, lang: crate::i18n::Lang) -> String {
        printable_lines(&self.table(lang)).into_owned()
    }

    fn table(&self, lang: crate::i18n::Lang) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} — {} variants of `{}`, run one after another\n",
            self.scenario,
            self.runs.len(),
            self.key
        );
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
        let _ = writeln!(out, "\n{}", self.summary());
        for (value, run) in self.values.iter().zip(&self.runs) {
            for note in run.notes_in(lang) {
                let _ = writeln!(out, "  {}={value}: {note}", self.key);
            }
        }
        out
    }

    /// Variants from fastest to slowest by wall time.
    fn ranking(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.runs.len()).collect();
        order.sort_by(|a, b| self.runs[*a].wall_ms.total_cmp(&self.runs[*b].wall_ms));
        order
    }

    /// One line: `mode=atomic fastest, then nolock 1.01× slower, lock 1.38× slower`.
    pub fn summary_line(&self) -> String {
        let order = self.ranking();
        let Some(&fastest) = order.first() else {
            return "no runs".to_string();
        };
        let base = self.runs[fastest].wall_ms.max(1e-9);
        let slower: Vec<String> = order[1..]
            .iter()
            .map(|&i| {
                format!(
                    "{} {:.2}× slower",
                    self.values[i],
                    self.runs[i].wall_ms / base
                )
            })
            .collect();
        match slower.is_empty() {
            true => format!("{}={} fastest", self.key, self.values[fastest]),
            false => format!(
                "{}={} fastest, then {}",
                self.key,
                self.values[fastest],
                slower.join(", ")
            ),
        }
    }

    /// "mode=atomic ran 3.10× faster than mode=lock", ranked by wall time.
    pub fn summary(&self) -> String {
        let order = self.ranking();
        let Some(&fastest) = order.first() else {
            return "Summary: no runs".to_string();
        };
        let mut out = format!("Summary\n  {}={} ran", self.key, self.values[fastest]);
        let base = self.runs[fastest].wall_ms.max(1e-9);
        for &i in &order[1..] {
            let _ = write!(
                out,
                "\n    {:>8.2}× faster than {}={}",
                self.runs[i].wall_ms / base,
                self.key,
                self.values[i]
            );
        }
        out
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
        let text = c.to_text(crate::i18n::Lang::En);
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
        for text in [
            r.to_text(crate::i18n::Lang::En),
            c.to_text(crate::i18n::Lang::En),
        ] {
            assert!(
                !text.contains(|c: char| c.is_control() && c != '\n'),
                "{text:?}"
            );
            assert!(text.contains("·[2Jb") || text.contains("x·[H"), "{text}");
            assert!(text.contains("said ·]0;title· then · over"), "{text}");
        }
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
        let text = c.to_text(crate::i18n::Lang::En);
        let line = |name: &str| text.lines().find(|l| l.contains(name)).unwrap().to_string();
        assert!(line("child_pid").ends_with(" 29748"), "{text}");
        assert!(line("items").ends_with(" 29,748"), "{text}");
    }
}
