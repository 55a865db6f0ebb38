//! The compare view's state: one scenario, one parameter, several values, one run each —
//! one after another (each gets the whole machine) or all at once (a visible race).

use crate::params::Params;
use crate::runner::RunId;
use crate::scenarios::Scenario;

#[derive(Debug, Clone)]
pub struct Compare {
    pub scenario: &'static Scenario,
    pub key: &'static str,
    pub values: Vec<String>,
    /// The parameters every variant shares (the scenario's current ones).
    pub base: Params,
    /// The run of each variant, once started.
    pub runs: Vec<Option<RunId>>,
    /// All variants at the same time instead of one after another.
    pub simultaneous: bool,
    /// The user stopped the comparison: start no further variants.
    pub stopped: bool,
}

impl Compare {
    /// The scenario's natural comparison, or None when it has none.
    pub fn new(scenario: &'static Scenario, base: Params, simultaneous: bool) -> Option<Compare> {
        let natural = scenario.compare()?;
        let values: Vec<String> = natural.values.iter().map(|v| v.to_string()).collect();
        Some(Compare {
            scenario,
            key: natural.key,
            runs: vec![None; values.len()],
            values,
            base,
            simultaneous,
            stopped: false,
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

    /// The variant to start next when running one after another.
    pub fn next_waiting(&self) -> Option<usize> {
        if self.stopped {
            None
        } else {
            self.runs.iter().position(Option::is_none)
        }
    }

    pub fn variant_of(&self, run: RunId) -> Option<usize> {
        self.runs.iter().position(|r| *r == Some(run))
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
        assert!(Compare::new(&WITHOUT, Params::defaults(&[]), false).is_none());
        let lock = crate::scenarios::find("lock").unwrap();
        let c = Compare::new(lock, Params::defaults(lock.params), false).unwrap();
        assert_eq!((c.key, c.values.len(), c.runs.len()), ("mode", 3, 3));
    }
}
