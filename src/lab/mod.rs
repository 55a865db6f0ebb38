//! Instruments that scenarios share: they do the real work and count what happens.

pub mod channel;
pub mod children;
pub mod control;
pub mod counted_mutex;
pub mod cpu_stat;
pub mod gil;
pub mod join;
pub mod latency;
pub mod mqueue;
pub mod per_thread;
pub mod run_clock;
pub mod start_gate;
pub mod sweep;
pub mod ticks;
