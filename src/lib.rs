//! concurrency-lab (`conlab`): a terminal lab that makes processes and threads visible.
//!
//! - [`cli`] parses the command line: the dashboard, `list`, `run`, `compare`, runner mode.
//! - [`scenarios`] holds every lesson that runs; [`lab`] the instruments they share; [`probe`]
//!   is how scenario code reports; [`params`] types and validates their parameters
//!   ([`shell_words`] splits the command lines some of them take).
//! - [`runner`] starts scenarios in child processes and reads their [`event`] streams;
//!   [`report`] is the result of a run, printed as text or JSON; [`repeats`] sums up the runs
//!   of a comparison that ran each variant more than once; [`insights`] are small lints over a
//!   finished run that add what its figures suggest to it.
//! - The dashboard: [`tui`] owns the terminal and the event loop, [`app`] the model,
//!   [`view`] draws it, [`keymap`] is the one table of keys both read, [`sampler`]
//!   measures CPU and processes, [`signals`] turns signals into messages; [`lifeline`]
//!   makes every child die with its parent.
//! - [`style`] holds the colours and number formats every drawing shares; [`markdown`] draws
//!   the lessons, written in Markdown, as styled text.
//! - [`exit`] says how a process ended, in the words every output uses; [`stats`] is the
//!   arithmetic of repeated runs (mean, σ, the interval of a ratio, outliers).
//! - [`text_safe`] is how every text output shows what came from outside: control characters
//!   visible, never obeyed, and quoted input cut short.

pub mod app;
pub mod cli;
pub mod dist;
pub mod event;
pub mod exit;
pub mod i18n;
pub mod insights;
pub mod keymap;
pub mod lab;
pub mod lifeline;
pub mod line_break;
pub mod markdown;
pub mod metrics;
pub mod panels;
pub mod params;
pub mod probe;
pub mod procfs;
pub mod repeats;
pub mod report;
pub mod runner;
pub mod rusage;
pub mod sampler;
pub mod scenarios;
pub mod shell_words;
pub mod signals;
pub mod stats;
pub mod style;
pub mod text_safe;
pub mod tui;
pub mod view;
pub mod watch;
