//! Instruments that scenarios share: they do the real work and count what happens.

pub mod counted_mutex;
pub mod start_gate;
