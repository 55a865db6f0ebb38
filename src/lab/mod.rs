//! Instruments that scenarios share: they do the real work and count what happens.

pub mod affinity;
pub mod busy;
pub mod calibrate;
pub mod channel;
pub mod children;
pub mod control;
pub mod counted_mutex;
pub mod cpu_stat;
pub mod crash;
pub mod delayed_echo;
pub mod fair_mutex;
pub mod fd_limit;
pub mod futex;
pub mod gil;
pub mod join;
pub mod latency;
pub mod mqueue;
pub mod per_thread;
pub mod python;
pub mod rounds;
pub mod run_clock;
pub mod sweep;
pub mod ticks;
pub mod turns;
