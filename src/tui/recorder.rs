//! What the dashboard keeps of a session when asked to record it (`conlab --record FILE`):
//! each run as it starts (its scenario and parameters), every message of its runner that a
//! recording holds, and every sample (CPU and processes). Nothing is written when no
//! recording was asked for.

use crate::event::record::Recorder;
use crate::params::Params;
use crate::runner::{RunId, RunnerUpdate};
use crate::sampler::Sample;
use std::io;

pub struct SessionRecorder(Option<Recorder>);

impl SessionRecorder {
    pub fn new(recorder: Option<Recorder>) -> SessionRecorder {
        SessionRecorder(recorder)
    }

    /// Run `run` was just started.
    pub fn run_started(&mut self, run: RunId, scenario: &str, params: &Params) {
        if let Some(recorder) = &mut self.0 {
            recorder.run_started(run, scenario, params.to_json());
        }
    }

    pub fn runner(&mut self, update: &RunnerUpdate) {
        if let Some(recorder) = &mut self.0 {
            update.msg.record_to(update.run, recorder);
        }
    }

    pub fn sample(&mut self, sample: &Sample) {
        if let Some(recorder) = &mut self.0 {
            recorder.sample(sample);
        }
    }

    /// Writes what is buffered; why the recording stopped, if it did.
    pub fn finish(self) -> io::Result<()> {
        self.0.map_or(Ok(()), Recorder::finish)
    }
}
