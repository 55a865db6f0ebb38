//! The tutorial's distributed processes, done safely: a master that serves tasks over TCP to
//! workers that prove they hold the authkey (and make the master prove it too), tasks leased
//! so a worker that dies, hangs or leaves loses nothing, and results kept once per task.

pub mod commands;
pub mod frame;
pub mod handshake;
pub mod master;
pub mod redis_backend;
pub mod wire;
pub mod worker;
