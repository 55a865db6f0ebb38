//! The compare view's state: one scenario, one parameter, several values, one run each — or
//! several, for statistics — one after another (each gets the whole machine) or all at once
//! (a visible race). Repeated runs go in rounds, every variant once per round, so what changes
//! on the machine meanwhile falls on all of them.

use super::run::Run;
use crate::params::Params;
use crate::repeats::{self, Repeat};
use crate::runner::RunId;
use crate::sampler::Sample;
use crate::scenarios::Scenario;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Compare {
    pub scenario: &'static Scenario,
    pub key: &'static str,
    pub values: Vec<String>,
    /// The parameters every variant shares (the scenario's current ones).
    pub base: Params,
    /// Each variant's runs so far, in the order they started.
    pub runs: Vec<Vec<RunId>>,
    /// All variants at the same time instead of one after another.
    pub simultaneous: bool,
    /// Several runs of each variant, for statistics.
    pub repeated: bool,
    /// Runs of each variant: 1 unless repeated; None until the first round has shown how long
    /// a round takes (see [`repeats::runs_for`]).
    pub wanted: Option<usize>,
    /// The user stopped the comparison: start no further variants.
    pub stopped: bool,
    /// Other programs' load the sampler saw while each run went: cores summed, samples.
    others: BTreeMap<RunId, (f64, u32)>,
}

impl Compare {
    /// The scenario's natural comparison, or None when it has none.
    pub fn new(
        scenario: &'static Scenario,
        base: Params,
        simultaneous: bool,
        repeated: bool,
    ) -> Option<Compare> {
        let natural = scenario.compare()?;
        let values: Vec<String> = natural.values.iter().map(|v| v.to_string()).collect();
        Some(Compare {
            scenario,
            key: natural.key,
            runs: vec![Vec::new(); values.len()],
            values,
            base,
            simultaneous,
            repeated,
            wanted: if repeated { None } else { Some(1) },
            stopped: false,
            others: BTreeMap::new(),
        })
    }

    /// The parameters of variant `i`.
    pub fn params_for(&self, i: usize) -> Params {
        let mut params = self.base.clone();
        params
            .set(self.scenario.params, self.key, &self.values[i])
            .expect("compare values are checked by the registry test");
        params
    }

    /// The round under way or next: how many runs every variant has started.
    fn round(&self) -> usize {
        self.runs.iter().map(Vec::len).min().unwrap_or(0)
    }

    /// Whether a round may start after `round` rounds: not when stopped, all wanted made, or
    /// the count still to be chosen from the first round.
    fn more_after(&self, round: usize) -> bool {
        !self.stopped && round < self.wanted.unwrap_or(1)
    }

    /// The variant to start next when running one after another: each in turn, round by round.
    pub fn next_waiting(&self) -> Option<usize> {
        let round = self.round();
        if !self.more_after(round) {
            return None;
        }
        self.runs.iter().position(|r| r.len() == round)
    }

    /// The variants to start at once in a race: every one, a round at a time, once the last
    /// round has ended (`idle`).
    pub fn next_race(&self, idle: bool) -> Vec<usize> {
        let round = self.round();
        if !idle || !self.more_after(round) {
            return Vec::new();
        }
        (0..self.values.len())
            .filter(|i| self.runs[*i].len() == round)
            .collect()
    }

    /// Once the first round has ended, how many runs to make of each, from how long it took:
    /// one after another its runs' times add up, in a race the longest counts.
    pub fn choose_runs(&mut self, all: &BTreeMap<RunId, Run>) {
        if self.wanted.is_some() || self.round() == 0 {
            return;
        }
        let firsts: Option<Vec<f64>> = self
            .runs
            .iter()
            .map(|r| {
                all.get(&r[0])
                    .filter(|run| !run.is_active())
                    .map(|run| run.t_ms)
            })
            .collect();
        let Some(times) = firsts else {
            return;
        };
        let ms = if self.simultaneous {
            times.iter().copied().fold(0.0, f64::max)
        } else {
            times.iter().sum()
        };
        self.wanted = Some(repeats::runs_for(Duration::from_secs_f64(
            ms.max(0.0) / 1000.0,
        )));
    }

    pub fn variant_of(&self, run: RunId) -> Option<usize> {
        self.runs.iter().position(|r| r.contains(&run))
    }

    /// Each variant's latest run.
    pub fn latest(&self) -> Vec<Option<RunId>> {
        self.runs.iter().map(|r| r.last().copied()).collect()
    }

    /// Every run of every variant.
    pub fn all_runs(&self) -> impl Iterator<Item = RunId> + '_ {
        self.runs.iter().flatten().copied()
    }

    /// Records what the sampler saw while `active` compare runs went: the cores busy beyond
    /// what conlab's own processes (every runner and its descendants, and the dashboard)
    /// used are other programs'.
    pub fn sampled(&mut self, sample: &Sample, active: &[RunId]) {
        if active.is_empty() {
            return;
        }
        let busy = f64::from(sample.total) / 100.0 * sample.cores.len() as f64;
        let ours: f64 = sample
            .processes
            .iter()
            .map(|p| f64::from(p.cpu_pct))
            .sum::<f64>()
            / 100.0
            + f64::from(sample.self_cpu_pct) / 100.0;
        let others = (busy - ours).max(0.0);
        for id in active {
            let seen = self.others.entry(*id).or_insert((0.0, 0));
            seen.0 += others;
            seen.1 += 1;
        }
    }

    /// Other programs' load during `run`, in cores, if the sampler looked while it went.
    pub fn others_cores(&self, run: RunId) -> Option<f64> {
        self.others
            .get(&run)
            .filter(|(_, n)| *n > 0)
            .map(|(sum, n)| sum / f64::from(*n))
    }

    /// Each variant's finished runs (not stopped ones), for the statistics.
    pub fn repeats(&self, all: &BTreeMap<RunId, Run>) -> Vec<Vec<Repeat>> {
        self.runs
            .iter()
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| {
                        let report = all.get(id)?.report.clone()?;
                        (!report.cancelled).then(|| Repeat {
                            report,
                            others_cores: self.others_cores(*id),
                        })
                    })
                    .collect()
            })
            .collect()
    }

    /// `mode=nolock` for column headers.
    pub fn label(&self, i: usize) -> String {
        format!("{}={}", self.key, self.values[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios::{Findings, Group};

    fn nothing(_: &crate::probe::Probe) -> Result<Findings, String> {
        Ok(Findings::default())
    }

    static WITHOUT: Scenario = Scenario::lesson("x", Group::Models, "X", "x", "x", &[], nothing);

    #[test]
    fn a_lesson_without_a_comparison_opens_none() {
        assert!(Compare::new(&WITHOUT, Params::defaults(&[]), false, false).is_none());
        let lock = crate::scenarios::find("lock").unwrap();
        let c = Compare::new(lock, Params::defaults(lock.params), false, false).unwrap();
        assert_eq!((c.key, c.values.len(), c.runs.len()), ("mode", 3, 3));
    }

    #[test]
    fn repeated_runs_go_round_by_round() {
        let lock = crate::scenarios::find("lock").unwrap();
        let mut c = Compare::new(lock, Params::defaults(lock.params), false, true).unwrap();
        c.runs = vec![vec![1], vec![2], vec![]];
        assert_eq!(c.next_waiting(), Some(2));
        c.runs[2].push(3);
        // The first round is done; how many more waits for its times.
        assert_eq!(c.next_waiting(), None);
        c.wanted = Some(3);
        assert_eq!(c.next_waiting(), Some(0));
        c.runs[0].push(4);
        assert_eq!(c.next_waiting(), Some(1), "every variant once per round");
        c.stopped = true;
        assert_eq!(c.next_waiting(), None);
        // A race starts a whole round, and only when the last has ended.
        c.stopped = false;
        c.runs = vec![vec![1], vec![2], vec![3]];
        assert!(c.next_race(false).is_empty());
        assert_eq!(c.next_race(true), vec![0, 1, 2]);
        c.wanted = Some(1);
        assert!(c.next_race(true).is_empty());
    }
}
