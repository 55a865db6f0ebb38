//! The embedded master against peers that do not play by its rules: a wrong key either way
//! (a fake master learns nothing it could use), an empty key, frames over the limits, a task
//! that keeps killing its workers, and a flood of junk and slow clients that must not slow
//! the workers down. Driven through the library, on loopback, bounded in count and time.

mod common;

use common::Conlab;
use conlab::dist::frame::{self, AFTER_AUTH};
use conlab::dist::handshake::{self, AuthKey};
use conlab::dist::master::{Happening, Master, Plan, Stats, Watcher};
use conlab::dist::wire::{self, FromMaster, FromWorker};
use conlab::dist::worker::{self, Hooks};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Quiet;
impl Watcher for Quiet {
    fn saw(&self, _: Happening) {}
}

struct Mute;
impl Hooks for Mute {
    fn started(&mut self, _: u64, _: i64) {}
    fn finished(&mut self, _: u64, _: &str) {}
}

fn key(k: &str) -> AuthKey {
    AuthKey::new(k).unwrap()
}

fn master(tasks: usize, max_attempts: u32) -> Master {
    let plan = Plan {
        numbers: (0..tasks as i64).collect(),
        work_ms: 0,
        lease: Duration::from_secs(30),
        max_attempts,
    };
    Master::start("127.0.0.1:0", key("abc"), plan, Arc::new(Quiet)).unwrap()
}

/// Waits (bounded) until the master's counts satisfy `done`.
fn wait_stats(m: &Master, what: &str, done: impl Fn(&Stats) -> bool) -> Stats {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let s = m.view().stats;
        if done(&s) {
            return s;
        }
        assert!(Instant::now() < until, "{what}: {s:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether the peer closed `s` within `within` (reads until end of file).
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut sink = [0u8; 1024];
    loop {
        match s.read(&mut sink) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// A worker authenticated with the master at `addr`.
fn authenticated(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    handshake::join(&s, &key("abc"), handshake::DEADLINE).unwrap();
    s
}

fn ask(s: &TcpStream, message: &FromWorker) -> FromMaster {
    wire::send(s, message).unwrap();
    wire::recv(&mut &*s).unwrap()
}

#[test]
fn a_worker_with_the_wrong_key_is_refused_and_told_so() {
    let m = master(1, 3);
    let e = worker::run(&m.addr().to_string(), &key("abd"), &mut Mute).unwrap_err();
    assert!(e.contains("refused this worker: wrong key"), "{e}");
    wait_stats(&m, "refused", |s| s.refused_wrong_key == 1);
    assert_eq!(m.view().stats.accepted, 0);
}

/// A fake master that listens where a worker expects its master: it sees only a nonce and a
/// MAC, never the key, and a worker that does not get a valid proof back sends nothing more.
#[test]
fn a_fake_master_harvests_no_key_and_gets_nothing_after_its_bad_proof() {
    let secret = "the-real-key-0123456789";
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let fake = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let challenge = format!(r#"{{"nonce":"{}"}}"#, "ab".repeat(32));
        frame::write_frame(&mut s, challenge.as_bytes()).unwrap();
        let proof = frame::read_frame(&mut s, 256).unwrap();
        // It claims to hold the key, with a proof it cannot make.
        let accepted = format!(r#"{{"accepted":{{"mac":"{}"}}}}"#, "00".repeat(32));
        frame::write_frame(&mut s, accepted.as_bytes()).unwrap();
        let mut after = Vec::new();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = s.read_to_end(&mut after);
        (proof, after)
    });
    let e = worker::run(&addr, &key(secret), &mut Mute).unwrap_err();
    assert!(e.contains("did not prove it holds the key"), "{e}");
    let (proof, after) = fake.join().unwrap();
    let proof = String::from_utf8(proof).unwrap();
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    assert!(!proof.contains(secret) && !proof.contains(&hex), "{proof}");
    assert!(after.is_empty(), "the worker went on talking: {after:?}");
}

#[test]
fn an_empty_key_is_refused_by_both_commands() {
    let conlab = Conlab {
        deadline: Duration::from_secs(20),
        orphans: common::Orphans::Ignored,
    };
    let dir = std::env::temp_dir().join(common::new_mark("emptykey"));
    std::fs::write(&dir, b"\n").unwrap();
    let file = dir.to_str().unwrap();
    conlab.assert_usage_error(
        &["worker", "--connect", "127.0.0.1:9", "--authkey-file", file],
        &["authkey is empty"],
    );
    conlab.assert_usage_error(
        &["master", "--bind", "127.0.0.1:0", "--authkey-file", file],
        &["authkey is empty"],
    );
    std::fs::remove_file(&dir).unwrap();
    // And without any key at all, the message names both places one can come from.
    let out = conlab.invoke_env(&["worker", "--connect", "127.0.0.1:9"], &[]);
    assert!(
        out.code == Some(2) || std::env::var_os(handshake::KEY_VAR).is_some(),
        "{out:?}"
    );
}

#[test]
fn an_oversize_frame_closes_only_that_connection_before_and_after_authentication() {
    let m = master(3, 3);
    // Before: a header claiming 4 GiB, after the master's challenge.
    let mut s = TcpStream::connect(m.addr()).unwrap();
    let _challenge = frame::read_frame(&mut s, 256).unwrap();
    s.write_all(&u32::MAX.to_be_bytes()).unwrap();
    assert!(closed_within(&mut s, Duration::from_secs(5)));
    wait_stats(&m, "oversize before", |s| s.refused_oversize == 1);
    // After: one byte over 64 KiB, from a worker that holds the key.
    let good = authenticated(m.addr());
    let mut bad = authenticated(m.addr());
    bad.write_all(&(AFTER_AUTH + 1).to_be_bytes()).unwrap();
    assert!(closed_within(&mut bad, Duration::from_secs(5)));
    wait_stats(&m, "oversize after", |s| s.bad_messages == 1);
    // The other worker is served as before.
    let reply = ask(&good, &FromWorker::Get);
    assert!(matches!(reply, FromMaster::Task { .. }), "{reply:?}");
    drop(m);
}

/// A task whose workers keep dying is set aside after `max_attempts`, not retried for ever,
/// and the rest still finish.
#[test]
fn a_task_that_keeps_killing_workers_goes_to_the_dead_letters() {
    let m = master(2, 2);
    for _ in 0..2 {
        let s = authenticated(m.addr());
        let reply = ask(&s, &FromWorker::Get);
        assert!(
            matches!(reply, FromMaster::Task { task: 0, .. }),
            "{reply:?}"
        );
        drop(s); // dies holding task 0
        wait_stats(&m, "lost", |_| m.view().leased == 0);
    }
    let done = worker::run(&m.addr().to_string(), &key("abc"), &mut Mute).unwrap();
    assert_eq!(done, 1);
    assert!(m.finished());
    let outcome = m.shut_down();
    assert_eq!(outcome.dead, [0]);
    assert_eq!(outcome.results.len(), 1);
    assert_eq!(outcome.stats.leases_lost, 2);
    assert_eq!(outcome.stats.retried, 1);
}

/// A worker holds the task it works on and the next one; killed holding both, it loses
/// neither: both go back to the queue and are done by whoever comes next.
#[test]
fn a_worker_killed_holding_two_tasks_loses_neither() {
    let m = master(3, 3);
    let doomed = authenticated(m.addr());
    let mut held = Vec::new();
    for _ in 0..2 {
        match ask(&doomed, &FromWorker::Get) {
            FromMaster::Task { task, .. } => held.push(task),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(held, [0, 1]);
    assert_eq!(m.view().workers[0].holding, held);
    drop(doomed); // dies holding both
    let s = wait_stats(&m, "both leases lost", |s| s.leases_lost == 2);
    assert_eq!(s.retried, 2, "{s:?}");
    assert_eq!(m.view().leased, 0);
    let done = worker::run(&m.addr().to_string(), &key("abc"), &mut Mute).unwrap();
    assert_eq!(done, 3);
    let outcome = m.shut_down();
    assert_eq!(outcome.results.len(), 3);
    assert!(outcome.dead.is_empty());
    assert_eq!(outcome.stats.duplicates, 0);
}

/// Round trips of one worker (result in, next task out), in milliseconds, sorted.
fn round_trips(s: &TcpStream, count: usize) -> Vec<f64> {
    let mut times = Vec::with_capacity(count);
    let mut task = match ask(s, &FromWorker::Get) {
        FromMaster::Task { task, .. } => task,
        other => panic!("{other:?}"),
    };
    for _ in 0..count {
        let t = Instant::now();
        let reply = ask(
            s,
            &FromWorker::Result {
                task,
                value: String::new(),
            },
        );
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        task = match reply {
            FromMaster::Task { task, .. } => task,
            other => panic!("{other:?}"),
        };
    }
    times.sort_by(f64::total_cmp);
    times
}

/// 1,000 junk connections and 50 clients sending a byte at a time leave a worker's round
/// trips within their normal latency, and a new worker can still join.
#[test]
fn a_flood_of_junk_and_slow_clients_does_not_slow_the_workers() {
    let m = master(1_000_000, 3);
    let addr = m.addr();
    let worker = authenticated(addr);
    let normal = round_trips(&worker, 300);
    let normal_median = normal[normal.len() / 2];

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let slow: Vec<_> = (0..50)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let Ok(mut s) = TcpStream::connect(addr) else {
                    return;
                };
                // A frame of 64 bytes announced, then one byte at a time, until the master
                // hangs up or the test ends.
                let bytes = [0u8, 0, 0, 64].into_iter().chain(std::iter::repeat(b'x'));
                for byte in bytes.take(100) {
                    if stop.load(std::sync::atomic::Ordering::Relaxed)
                        || s.write_all(&[byte]).is_err()
                    {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        })
        .collect();
    let junk: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                for j in 0..250 {
                    if let Ok(mut s) = TcpStream::connect(addr) {
                        let bytes: &[u8] = match (i + j) % 3 {
                            0 => b"GET / HTTP/1.1\r\n\r\n",
                            1 => &[0xff; 8],
                            _ => b"\0\0\0\x03{}x",
                        };
                        let _ = s.write_all(bytes);
                        let _ = closed_within(&mut s, Duration::from_secs(5));
                    }
                }
            })
        })
        .collect();
    // Measured while the flood goes on; a second chance for a noisy moment on 2 cores.
    let bound = (normal_median * 5.0).max(normal_median + 5.0);
    let mut during = round_trips(&worker, 300);
    if during[during.len() / 2] > bound {
        during = round_trips(&worker, 300);
    }
    let newcomer = authenticated(addr);
    let joined = ask(&newcomer, &FromWorker::Get);
    for t in junk {
        t.join().unwrap();
    }
    // The slow clients go on until the master hangs up on them, however soon the round
    // trips were done: stopped earlier, they would be closed connections, not timed out.
    let s = wait_stats(&m, "all refused", |s| {
        s.refused_oversize + s.refused_garbage + s.refused_busy >= 1000 && s.timed_out >= 50
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in slow {
        t.join().unwrap();
    }
    let median = during[during.len() / 2];
    assert!(
        median <= bound,
        "median round trip {median:.3} ms during the flood, {normal_median:.3} ms before"
    );
    assert!(matches!(joined, FromMaster::Task { .. }), "{joined:?}");
    assert_eq!(s.accepted, 2, "{s:?}");
}
