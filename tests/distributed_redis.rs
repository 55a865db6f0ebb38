//! The distributed scenario through a real Redis: a `redis-server` of this test's own, on a
//! free loopback port, in a directory of its own, stopped at the end. The same faults as the
//! embedded master's where they apply; every result arrives exactly once.

mod common;

use common::{Conlab, Orphans, int};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CONLAB: Conlab = Conlab {
    deadline: Duration::from_secs(60),
    orphans: Orphans::Reaped,
};

/// A redis-server of the test's own; stopped and its directory removed when dropped.
struct Redis {
    child: Child,
    dir: PathBuf,
    url: String,
}

impl Redis {
    fn start() -> Redis {
        let dir = std::env::temp_dir().join(common::new_mark("redis"));
        std::fs::create_dir_all(&dir).unwrap();
        // A free port: taken from the kernel, then let go for the server.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(&dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is not installed (Debian: apt-get install redis-server; .ci/run installs it)");
        let redis = Redis {
            child,
            dir,
            url: format!("redis://127.0.0.1:{port}/"),
        };
        let until = Instant::now() + Duration::from_secs(10);
        while !redis.pongs(port) {
            assert!(
                Instant::now() < until,
                "redis-server did not answer on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        redis
    }

    fn pongs(&self, port: u16) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
            return false;
        };
        let mut reply = [0u8; 7];
        s.write_all(b"PING\r\n").is_ok()
            && s.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(redis: &Redis, fault: &str) -> Value {
    let url = format!("redis={}", redis.url);
    let fault = format!("fault={fault}");
    let sets = [
        "backend=redis",
        url.as_str(),
        fault.as_str(),
        "tasks=10",
        "workers=2",
        "work_ms=300",
        "lease_ms=1000",
    ];
    let (report, outcome) = CONLAB.run_json("distributed", &sets);
    outcome.assert_success(&format!("distributed {sets:?}"));
    assert_eq!(int(&report, "results"), 10, "{report}");
    assert_eq!(int(&report, "results_correct"), 10, "{report}");
    assert_eq!(int(&report, "dead_letters"), 0, "{report}");
    report
}

#[test]
fn through_redis_every_result_arrives_once_whatever_befalls_a_worker() {
    let redis = Redis::start();
    let r = run(&redis, "none");
    assert_eq!(int(&r, "tasks_retried"), 0, "{r}");
    assert_eq!(int(&r, "duplicates_dropped"), 0, "{r}");
    // Killed: its entry stays pending, unacknowledged, until another worker claims it.
    let r = run(&redis, "kill-worker");
    assert!(int(&r, "leases_expired") >= 1, "{r}");
    assert!(int(&r, "tasks_retried") >= 1, "{r}");
    // Stopped: the same, and its late result, when it is let go, is a duplicate.
    let r = run(&redis, "stop-worker");
    assert!(int(&r, "leases_expired") >= 1, "{r}");
    assert!(int(&r, "duplicates_dropped") >= 1, "{r}");
}

#[test]
fn with_no_redis_there_the_error_names_the_url_tried() {
    // A port nothing listens on: taken from the kernel and let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis=redis://127.0.0.1:{port}/");
    let said = format!("cannot reach Redis at redis://127.0.0.1:{port}/");
    CONLAB.run_refused("distributed", &["backend=redis", &url], &said);
}

#[test]
fn faults_of_conlabs_own_master_are_refused_with_redis() {
    CONLAB.run_refused(
        "distributed",
        &["backend=redis", "fault=garbage"],
        "fault=none, kill-worker or stop-worker",
    );
}
