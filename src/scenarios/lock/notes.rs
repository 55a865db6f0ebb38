//! What a lock run's figures say, in English and Chinese: every sentence is chosen by the
//! figures of that run (a race that lost nothing is not called a race that lost updates).

use super::Mode;
use crate::i18n::Text;
use crate::lab::counted_mutex::LockStats;
use crate::report::group_thousands;
use crate::style::duration_ms;

/// The figures of a run in rounds that the notes read.
#[derive(Debug, Clone)]
pub(super) struct RoundsRun {
    pub mode: Mode,
    pub threads: usize,
    pub iterations: u64,
    pub balance: i64,
    pub lost: u64,
    pub repeats: u64,
    pub repeats_with_lost: u64,
    pub stats: LockStats,
    pub failed_bodies: u64,
    /// Every lock the mode takes was free at the end.
    pub lock_free: bool,
    pub backoffs: u64,
    /// The CPU each pinned thread was pinned to (empty: the scheduler placed them).
    pub pinned: Vec<usize>,
    /// Cores that other programs kept busy during the run, on average.
    pub other_load_cores: f64,
}

/// A deadlock run, as it stood when it was stopped.
#[derive(Debug, Clone)]
pub(super) struct Deadlocked {
    pub threads: usize,
    /// The two threads that deadlocked, if they did.
    pub stuck: Option<Stuck>,
    pub changes: u64,
    pub failed_bodies: u64,
}

/// Two threads each holding the lock the other waits for.
#[derive(Debug, Clone)]
pub(super) struct Stuck {
    /// (thread, the lock it holds, the lock it waits for)
    pub first: (usize, &'static str, &'static str),
    pub second: (usize, &'static str, &'static str),
    pub after_changes: u64,
    /// When the last change was made, in ms since the run began.
    pub after_ms: f64,
    /// How long nothing moved until the run was stopped.
    pub stalled_ms: f64,
}

/// What CPython did with the tutorial's code and the variant that races.
#[derive(Debug, Clone)]
pub(super) struct PythonRun {
    pub version: String,
    pub tutorial: i64,
    pub call: i64,
    pub locked: i64,
}

pub(super) fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

fn n(x: u64) -> String {
    group_thousands(x as i64)
}

/// `once`, or `12,345 times`.
fn how_often(count: u64) -> String {
    if count == 1 {
        "once".to_string()
    } else {
        format!("{} times", n(count))
    }
}

/// Other load worth naming: half a core or more.
const NOTABLE_LOAD: f64 = 0.5;

pub(super) fn rounds(r: &RoundsRun) -> Vec<Text> {
    let mut notes = vec![main_line(r)];
    if r.mode == Mode::NoLock && r.threads > 1 && r.repeats > 1 && r.lost > 0 {
        let clean = r.repeats - r.repeats_with_lost;
        let (en, zh) = if clean == 0 {
            (
                format!("every one of the {} rounds lost updates", n(r.repeats)),
                format!("{} 轮全部丢失了更新", n(r.repeats)),
            )
        } else {
            (
                format!(
                    "updates were lost in {} of {} rounds; {} lost nothing — one short run can \
                     hide the race, because the threads must run at the same moment for it to show",
                    n(r.repeats_with_lost),
                    n(r.repeats),
                    n(clean)
                ),
                format!(
                    "{} 轮中有 {} 轮丢失了更新，{} 轮一次也没丢——只运行一次短程序，竞争可能根本看不出来，\
                     因为两个线程必须在同一时刻运行，问题才会显现",
                    n(r.repeats),
                    n(r.repeats_with_lost),
                    n(clean)
                ),
            )
        };
        notes.push(Text::new(en, zh));
    }
    // Few hand-offs is the mutex being unfair on purpose (the releasing thread usually takes it
    // again): worth saying, because it is why a lock can run faster than no lock at all.
    let s = &r.stats;
    if r.mode == Mode::Lock
        && r.threads > 1
        && s.owner_changes > 0
        && s.owner_changes * 100 < s.acquisitions
    {
        let turn = n(s.acquisitions / (s.owner_changes + 1));
        notes.push(Text::new(
            format!(
                "each thread kept the lock for long stretches (about {turn} changes a turn), so \
                 the balance stayed in one core's cache — why a lock can beat nolock, whose \
                 threads pull the balance from core to core on every change"
            ),
            format!(
                "每个线程都连续持有锁很长一段（每次拿到锁后约连续修改 {turn} 次），余额一直留在同一个核的缓存里——\
                 这就是加锁有时反而比不加锁快的原因：不加锁时每次修改都要把余额在核之间搬来搬去"
            ),
        ));
    }
    if r.mode == Mode::Fair && r.threads > 1 {
        notes.push(fairness(r));
    }
    if !r.pinned.is_empty() {
        notes.push(pinning(r.threads, &r.pinned));
    }
    if r.failed_bodies > 0 {
        notes.push(failed_bodies(r.mode.locks(), r.failed_bodies, r.lock_free));
    }
    if r.other_load_cores >= NOTABLE_LOAD {
        let cores = format!("{:.1}", r.other_load_cores);
        notes.push(Text::new(
            format!("other programs kept about {cores} cores busy during the run"),
            format!("运行期间，其他程序占用了大约 {cores} 个核"),
        ));
    }
    notes
}

/// What the fair lock did: a convoy when most acquisitions handed it over — what fairness
/// promises, and what it costs, every change waiting for a sleeping thread to wake — or, when
/// few did, why the other thread was seldom there to take it.
fn fairness(r: &RoundsRun) -> Text {
    let s = &r.stats;
    if s.owner_changes * 2 >= s.acquisitions.max(1) {
        let wait = duration_ms(s.wait_ns_total as f64 / s.contended.max(1) as f64 / 1e6);
        return Text::new(
            format!(
                "a convoy: each release handed the lock to the thread that had waited longest, \
                 so the threads took turns — and the one that had to wait slept until it was \
                 woken, about {wait} a wait; compare mode=lock, whose holder usually takes it \
                 straight back"
            ),
            format!(
                "这就是“锁护航”（convoy）：每次释放锁，都把锁交给等得最久的线程，线程们轮流拿锁——\
                 等锁的线程要睡眠、再被唤醒，平均每次等待约 {wait}；对比 mode=lock：\
                 释放锁的线程通常马上又把锁拿回去"
            ),
        );
    }
    let handed = format!("{:.1}", pct(s.owner_changes, s.acquisitions));
    let alone = format!("{:.1}", 100.0 - pct(s.contended, s.acquisitions));
    let (then_en, then_zh) = if r.pinned.is_empty() {
        (
            "; with pin=spread each thread runs on a core of its own, and the convoy can form",
            "；加上 pin=spread，让每个线程独占一个核，就能看到锁护航",
        )
    } else {
        ("", "")
    };
    Text::new(
        format!(
            "no convoy: the lock changed hands on only {handed}% of acquisitions — on {alone}% \
             nobody else was waiting, because with changes this short the other thread was \
             seldom running at that moment, and a thread that is not running cannot queue; the \
             lock went round by time slice{then_en}"
        ),
        format!(
            "没有形成锁护航：只有 {handed}% 的获取换了手——{alone}% 的获取时根本没有别的线程在等：\
             每次修改这么短，另一个线程那一刻多半没在运行，而没在运行的线程无法排队，\
             锁就按时间片轮转{then_zh}"
        ),
    )
}

/// Where the pinned threads ran: each on a CPU of its own, or sharing when there were fewer.
fn pinning(threads: usize, cpus: &[usize]) -> Text {
    let list = cpus
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let mut distinct = cpus.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() == cpus.len() && cpus.len() == threads {
        Text::new(
            format!("each thread was pinned to a CPU of its own (CPUs {list}, in thread order)"),
            format!("每个线程都被绑定到独占的 CPU 上（按线程顺序依次为 CPU {list}）"),
        )
    } else {
        let (pinned, shared) = (cpus.len(), distinct.len());
        let (crowded_en, crowded_zh) = if shared < pinned {
            (": some shared a CPU", "：有的线程共用一个 CPU")
        } else {
            ("", "")
        };
        Text::new(
            format!("{pinned} of {threads} threads were pinned, to CPUs {list}{crowded_en}"),
            format!("{threads} 个线程中有 {pinned} 个被绑定，依次在 CPU {list}{crowded_zh}"),
        )
    }
}

fn main_line(r: &RoundsRun) -> Text {
    let b = group_thousands(r.balance);
    let s = &r.stats;
    let (acq, waited, p, handoffs) = (
        n(s.acquisitions),
        n(s.contended),
        pct(s.contended, s.acquisitions),
        n(s.owner_changes),
    );
    match r.mode {
        Mode::NoLock if r.threads == 1 => Text::new(
            "one thread cannot race with itself: no update lost, balance 0",
            "只有一个线程，无从竞争：没有丢失更新，余额为 0",
        ),
        Mode::NoLock if r.lost == 0 && r.repeats == 0 => Text::new(
            "stopped before the first round ended, with no update lost yet",
            "第一轮还没结束就被停止了，这时还没有丢失更新",
        ),
        Mode::NoLock if r.lost == 0 => {
            let busy = r.other_load_cores >= NOTABLE_LOAD;
            Text::new(
                format!(
                    "no update was lost in {} round{} of {} changes per thread: the threads never \
                     ran at the same moment{}",
                    n(r.repeats),
                    if r.repeats == 1 { "" } else { "s" },
                    n(r.iterations),
                    if busy {
                        " — the machine was busy with other work"
                    } else {
                        "; give it more seconds"
                    }
                ),
                format!(
                    "{} 轮（每个线程每轮修改 {} 次）都没有丢失更新：两个线程从未在同一时刻运行{}",
                    n(r.repeats),
                    n(r.iterations),
                    if busy {
                        "——机器正忙于其他工作"
                    } else {
                        "；把 seconds 调大再试"
                    }
                ),
            )
        }
        Mode::NoLock if r.balance == 0 => Text::new(
            format!(
                "{} updates were lost: a thread read the balance, another wrote in between, and \
                 the first overwrote that write; the losses happened to cancel out and the \
                 balance ended at 0 — by luck, not by design",
                n(r.lost)
            ),
            format!(
                "丢失了 {} 次更新：一个线程读了余额，另一个线程在它写回之前写入，前者又覆盖了这次写入；\
                 这些丢失恰好互相抵消，余额最后是 0——这是巧合，不是正确",
                n(r.lost)
            ),
        ),
        Mode::NoLock => Text::new(
            format!(
                "{} updates were lost: a thread read the balance, another wrote in between, and \
                 the first overwrote that write; balance ended at {b}, not 0",
                n(r.lost)
            ),
            format!(
                "丢失了 {} 次更新：一个线程读了余额，另一个线程在它写回之前写入，前者又覆盖了这次写入；\
                 余额最后是 {b}，而不是 0",
                n(r.lost)
            ),
        ),
        _ if r.balance != 0 || !r.lock_free => Text::new(
            format!(
                "balance ended at {b}{}: the {} failed — a bug in the lab itself",
                if r.lock_free {
                    ", not 0"
                } else {
                    " and a lock was still held"
                },
                if r.mode == Mode::Atomic {
                    "atomic operations"
                } else {
                    "lock"
                }
            ),
            format!(
                "余额最后是 {b}{}：{}没有起作用——这是本实验自身的错误",
                if r.lock_free {
                    "，不是 0"
                } else {
                    "，而且锁仍被占用"
                },
                if r.mode == Mode::Atomic {
                    "原子操作"
                } else {
                    "锁"
                }
            ),
        ),
        Mode::Lock => Text::new(
            format!(
                "balance stayed 0: each change ran alone; {waited} of {acq} acquisitions \
                 ({p:.1}%) had to wait, and the lock changed hands {often} ({h:.1}%)",
                often = how_often(s.owner_changes),
                h = pct(s.owner_changes, s.acquisitions)
            ),
            format!(
                "余额保持为 0：每次修改都独自完成；{acq} 次加锁中有 {waited} 次（{p:.1}%）需要等待，\
                 锁在线程之间易手 {handoffs} 次（{h:.1}%）",
                h = pct(s.owner_changes, s.acquisitions)
            ),
        ),
        Mode::Fair => Text::new(
            format!(
                "balance stayed 0: the fair lock let each change run alone and served the \
                 threads in the order they came; {waited} of {acq} acquisitions ({p:.1}%) had \
                 to wait, and the lock changed hands {often} ({h:.1}%)",
                often = how_often(s.owner_changes),
                h = pct(s.owner_changes, s.acquisitions)
            ),
            format!(
                "余额保持为 0：公平锁让每次修改独自完成，并按到达顺序把锁交给各线程；{acq} 次加锁中有 \
                 {waited} 次（{p:.1}%）需要等待，锁在线程之间易手 {handoffs} 次（{h:.1}%）",
                h = pct(s.owner_changes, s.acquisitions)
            ),
        ),
        Mode::Atomic => Text::new(
            "balance stayed 0 without any lock: fetch_add and fetch_sub are each one \
             indivisible read-modify-write",
            "不用锁，余额也保持为 0：fetch_add 和 fetch_sub 各自是一次不可分割的“读-改-写”",
        ),
        Mode::Ordered => Text::new(
            format!(
                "accounts A and B stayed 0 and nothing deadlocked: every thread took A before B, \
                 so no thread ever held B while it waited for A; {waited} of {acq} acquisitions \
                 had to wait"
            ),
            format!(
                "账户 A 和 B 都保持为 0，也没有死锁：每个线程都先拿 A 再拿 B，\
                 所以不会有线程拿着 B 去等 A；{acq} 次加锁中有 {waited} 次需要等待"
            ),
        ),
        Mode::TryLock => Text::new(
            format!(
                "accounts A and B stayed 0 and nothing deadlocked: a thread that found its \
                 second lock taken let go of its first and tried again a moment later — {} times",
                n(r.backoffs)
            ),
            format!(
                "账户 A 和 B 都保持为 0，也没有死锁：线程发现第二把锁已被占用时，\
                 先放开手里的第一把锁，稍后再试——共 {} 次",
                n(r.backoffs)
            ),
        ),
        Mode::Deadlock | Mode::Python => unreachable!("these modes do not run in rounds"),
    }
}

/// Bodies that failed: inside a lock (released each time, or not) or with no lock at all.
fn failed_bodies(locked: bool, failed: u64, lock_free: bool) -> Text {
    let f = n(failed);
    match (locked, lock_free) {
        (true, true) => Text::new(
            format!(
                "{f} changes failed inside the lock (a panic, caught) before writing anything; \
                 each time the guard's drop released the lock — Rust's try…finally — so the \
                 other threads went on, and the lock was free at the end"
            ),
            format!(
                "有 {f} 次修改在锁内失败（panic 被捕获），失败时还什么都没写；每次 guard 被 drop 时都\
                 释放了锁——这就是 Rust 的 try...finally——所以其他线程照常继续，结束时锁是空闲的"
            ),
        ),
        (true, false) => Text::new(
            format!("{f} changes failed inside the lock, and a lock was still held at the end"),
            format!("有 {f} 次修改在锁内失败，结束时仍有锁被占用"),
        ),
        (false, _) => Text::new(
            format!(
                "{f} changes failed (a panic, caught) and wrote nothing; there was no lock to release"
            ),
            format!("有 {f} 次修改失败（panic 被捕获），什么都没写；这种模式没有锁需要释放"),
        ),
    }
}

pub(super) fn deadlock(d: &Deadlocked) -> Vec<Text> {
    let changes = n(d.changes);
    let mut notes = vec![match &d.stuck {
        Some(s) => {
            let ((i, held_i, wants_i), (j, held_j, wants_j)) = (s.first, s.second);
            let (at, still) = (duration_ms(s.after_ms), duration_ms(s.stalled_ms));
            let after = n(s.after_changes);
            Text::new(
                format!(
                    "deadlock after {after} changes, {at} into the run: changer-{i} held \
                     {held_i} and waited for {wants_i}, while changer-{j} held {held_j} and \
                     waited for {wants_j}; neither moved for {still}, until the run was stopped, \
                     and the threads ended only with the process — as the tutorial says, only \
                     the operating system can end them"
                ),
                format!(
                    "运行 {at} 后、完成 {after} 次修改时发生死锁：changer-{i} 持有 {held_i}、\
                     等待 {wants_i}，changer-{j} 持有 {held_j}、等待 {wants_j}；此后 {still} 内\
                     两者都没再动过，直到运行被停止，线程随进程一起结束——正如教程所说，只能靠操作系统强制终止"
                ),
            )
        }
        None if d.threads == 1 => Text::new(
            format!(
                "one thread takes both locks in one order and cannot deadlock with itself: \
                 {changes} changes until the run was stopped"
            ),
            format!(
                "只有一个线程，总按同一顺序拿两把锁，不会和自己死锁：被停止前完成了 {changes} 次修改"
            ),
        ),
        None => Text::new(
            format!("stopped after {changes} changes, before the threads deadlocked"),
            format!("完成 {changes} 次修改后被停止，这时线程还没有死锁"),
        ),
    }];
    if d.stuck.is_some() {
        notes.push(Text::new(
            "the fix: mode=ordered (every thread takes A before B) or mode=trylock (let go of \
             the first lock when the second is taken, and try again) does the same work and ends",
            "解决办法：mode=ordered（所有线程都先拿 A 再拿 B）或 mode=trylock（拿不到第二把锁就先放开\
             第一把，稍后再试），做同样的事，并且能正常结束",
        ));
    }
    if d.failed_bodies > 0 {
        notes.push(failed_bodies(true, d.failed_bodies, true));
    }
    notes
}

pub(super) fn python(p: &PythonRun) -> Vec<Text> {
    let v = &p.version;
    let tutorial = if p.tutorial == 0 {
        Text::new(
            format!(
                "the tutorial's code as written: balance 0 on CPython {v}. Since 3.10 CPython \
                 switches threads only where it checks for a pending switch — entering a \
                 function, jumping back in a loop, after some calls — and `balance = balance + n` \
                 has no such point between its read and its write, so no update was lost; the \
                 tutorial's non-zero output came from an older Python"
            ),
            format!(
                "按教程原样运行：在 CPython {v} 上余额为 0。从 3.10 起，CPython 只在检查是否该切换的地方\
                 切换线程——进入函数、循环跳回、某些调用之后——而 `balance = balance + n` 的读和写之间\
                 没有这样的点，所以没有丢失更新；教程里非零的输出来自更早的 Python"
            ),
        )
    } else {
        Text::new(
            format!(
                "the tutorial's code as written: balance {} on CPython {v} — this interpreter \
                 switched threads between a read and its write",
                group_thousands(p.tutorial)
            ),
            format!(
                "按教程原样运行：在 CPython {v} 上余额为 {}——这个解释器在读和写之间切换了线程",
                group_thousands(p.tutorial)
            ),
        )
    };
    let call = if p.call != 0 {
        Text::new(
            format!(
                "with a function call between the read and the write \
                 (`balance = plus(balance, n)`): balance {} — entering `plus` is a point where \
                 CPython may switch threads, so updates were lost",
                group_thousands(p.call)
            ),
            format!(
                "在读和写之间调用一个函数（`balance = plus(balance, n)`）：余额为 {}——进入 `plus` 时\
                 CPython 可能切换线程，于是丢失了更新",
                group_thousands(p.call)
            ),
        )
    } else {
        Text::new(
            "with a function call between the read and the write (`balance = plus(balance, n)`): \
             balance 0 this time — no switch fell between a read and its write; run it again",
            "在读和写之间调用一个函数（`balance = plus(balance, n)`）：这次余额为 0——恰好没有在读和写\
             之间切换线程；再运行一次试试",
        )
    };
    let locked = if p.locked == 0 {
        Text::new(
            "the same variant with the lock, taken and released in try…finally: balance 0 — the \
             lock makes each read and its write one step",
            "同样的变体加上锁，用 try...finally 获取和释放：余额为 0——锁让每次读和写成为一步",
        )
    } else {
        Text::new(
            format!(
                "the same variant with the lock: balance {} — the lock failed, a bug",
                group_thousands(p.locked)
            ),
            format!(
                "同样的变体加上锁：余额为 {}——锁没有起作用，这是错误",
                group_thousands(p.locked)
            ),
        )
    };
    vec![tutorial, call, locked]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nolock(lost: u64, balance: i64, repeats: u64, with_lost: u64) -> RoundsRun {
        RoundsRun {
            mode: Mode::NoLock,
            threads: 2,
            iterations: 1_000_000,
            balance,
            lost,
            repeats,
            repeats_with_lost: with_lost,
            stats: LockStats::default(),
            failed_bodies: 0,
            lock_free: true,
            backoffs: 0,
            pinned: Vec::new(),
            other_load_cores: 0.0,
        }
    }

    fn en(notes: &[Text]) -> String {
        notes
            .iter()
            .map(|t| t.en.as_str())
            .collect::<Vec<_>>()
            .join(" | ")
    }

    #[test]
    fn every_note_is_in_both_languages() {
        let mut all = rounds(&nolock(10, 4, 9, 3));
        all.extend(rounds(&nolock(0, 0, 1, 0)));
        all.extend(python(&PythonRun {
            version: "3.11.7".into(),
            tutorial: 0,
            call: 31,
            locked: 0,
        }));
        all.extend(deadlock(&Deadlocked {
            threads: 2,
            stuck: Some(Stuck {
                first: (0, "A", "B"),
                second: (1, "B", "A"),
                after_changes: 1234,
                after_ms: 12.0,
                stalled_ms: 3000.0,
            }),
            changes: 1234,
            failed_bodies: 2,
        }));
        for note in all {
            assert!(!note.en.is_empty() && !note.zh.is_empty(), "{note:?}");
            assert!(
                note.zh.chars().any(|c| c > '\u{2e80}'),
                "not Chinese: {note:?}"
            );
        }
    }

    #[test]
    fn a_race_that_lost_nothing_is_not_called_lost_updates() {
        let notes = en(&rounds(&nolock(0, 0, 3, 0)));
        assert!(notes.contains("no update was lost in 3 rounds"), "{notes}");
        assert!(!notes.contains("updates were lost"), "{notes}");

        let notes = en(&rounds(&nolock(0, 0, 0, 0)));
        assert!(notes.contains("stopped before the first round"), "{notes}");

        let notes = en(&rounds(&nolock(41, -63, 20, 20)));
        assert!(notes.contains("41 updates were lost"), "{notes}");
        assert!(notes.contains("every one of the 20 rounds"), "{notes}");
        assert!(notes.contains("ended at -63, not 0"), "{notes}");

        let notes = en(&rounds(&nolock(41, 0, 20, 12)));
        assert!(
            notes.contains("by luck"),
            "a balance of 0 after losses: {notes}"
        );
        assert!(
            notes.contains("in 12 of 20 rounds; 8 lost nothing"),
            "{notes}"
        );
    }

    #[test]
    fn a_busy_machine_is_named_when_the_race_hid() {
        let mut quiet = nolock(0, 0, 5, 0);
        quiet.other_load_cores = 1.4;
        let notes = en(&rounds(&quiet));
        assert!(notes.contains("busy with other work"), "{notes}");
        assert!(notes.contains("about 1.4 cores"), "{notes}");
    }

    #[test]
    fn a_lock_kept_for_long_stretches_is_explained() {
        let mut r = nolock(0, 0, 1, 0);
        r.mode = Mode::Lock;
        r.stats = LockStats {
            acquisitions: 2_000_000,
            contended: 2,
            owner_changes: 3,
            ..LockStats::default()
        };
        let notes = rounds(&r);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[1].en.contains("about 500,000 changes a turn"));
        // Passed back and forth often: nothing more to explain.
        r.stats.owner_changes = 130_349;
        assert_eq!(rounds(&r).len(), 1);
    }

    #[test]
    fn a_fair_lock_that_changed_hands_on_most_acquisitions_is_called_a_convoy() {
        let mut r = nolock(0, 0, 1, 0);
        r.mode = Mode::Fair;
        r.stats = LockStats {
            acquisitions: 100_000,
            contended: 99_000,
            wait_ns_total: 99_000 * 20_000,
            wait_ns_max: 900_000,
            owner_changes: 99_000,
        };
        let notes = en(&rounds(&r));
        assert!(
            notes.contains("changed hands 99,000 times (99.0%)"),
            "{notes}"
        );
        assert!(notes.contains("a convoy"), "{notes}");
        assert!(notes.contains("about 20.0 µs a wait"), "{notes}");
        // One thread alone never hands it over: no convoy to speak of.
        r.threads = 1;
        r.stats.owner_changes = 0;
        assert!(!en(&rounds(&r)).contains("convoy"));
    }

    #[test]
    fn a_fair_lock_that_seldom_changed_hands_says_why_and_how_to_see_the_convoy() {
        let mut r = nolock(0, 0, 1, 0);
        r.mode = Mode::Fair;
        r.stats = LockStats {
            acquisitions: 1_000_000,
            contended: 60_000,
            wait_ns_total: 60_000 * 20_000,
            wait_ns_max: 900_000,
            owner_changes: 70_000,
        };
        let notes = en(&rounds(&r));
        assert!(notes.contains("no convoy"), "{notes}");
        assert!(notes.contains("only 7.0% of acquisitions"), "{notes}");
        assert!(
            notes.contains("on 94.0% nobody else was waiting"),
            "{notes}"
        );
        assert!(notes.contains("with pin=spread"), "{notes}");
        // Already pinned: the hint would be no news.
        r.pinned = vec![0, 1];
        let notes = en(&rounds(&r));
        assert!(
            notes.contains("no convoy") && !notes.contains("with pin=spread"),
            "{notes}"
        );
        assert!(
            notes.contains("each thread was pinned to a CPU of its own (CPUs 0, 1"),
            "{notes}"
        );
    }

    #[test]
    fn a_lock_that_changed_hands_once_says_once_and_every_share_is_given() {
        let mut r = nolock(0, 0, 1, 0);
        r.mode = Mode::Lock;
        r.stats = LockStats {
            acquisitions: 40_000,
            owner_changes: 1,
            ..LockStats::default()
        };
        let notes = en(&rounds(&r));
        assert!(notes.contains("changed hands once (0.0%)"), "{notes}");
        r.stats.owner_changes = 4_000;
        let notes = en(&rounds(&r));
        assert!(
            notes.contains("changed hands 4,000 times (10.0%)"),
            "{notes}"
        );
    }

    #[test]
    fn threads_pinned_to_fewer_cpus_than_threads_are_said_to_share() {
        let shared = pinning(3, &[0, 1, 0]);
        assert_eq!(
            shared.en,
            "3 of 3 threads were pinned, to CPUs 0, 1, 0: some shared a CPU"
        );
        assert_eq!(pinning(2, &[1]).en, "1 of 2 threads were pinned, to CPUs 1");
    }

    #[test]
    fn a_wrong_balance_or_a_held_lock_is_called_a_bug() {
        for mode in [
            Mode::Lock,
            Mode::Fair,
            Mode::Atomic,
            Mode::Ordered,
            Mode::TryLock,
        ] {
            let mut r = nolock(0, 7, 1, 0);
            r.mode = mode;
            assert!(en(&rounds(&r)).contains("a bug in the lab"), "{mode:?}");
            r.balance = 0;
            r.lock_free = false;
            assert!(en(&rounds(&r)).contains("still held"), "{mode:?}");
        }
    }

    #[test]
    fn failed_bodies_are_counted_and_the_release_said() {
        let mut r = nolock(0, 0, 1, 0);
        r.mode = Mode::Lock;
        r.failed_bodies = 1000;
        let notes = en(&rounds(&r));
        assert!(
            notes.contains("1,000 changes failed inside the lock"),
            "{notes}"
        );
        assert!(notes.contains("free at the end"), "{notes}");
    }

    #[test]
    fn python_notes_follow_the_balances() {
        let p = |tutorial, call| PythonRun {
            version: "3.11.7".into(),
            tutorial,
            call,
            locked: 0,
        };
        let notes = en(&python(&p(0, 40)));
        assert!(notes.contains("balance 0 on CPython 3.11.7"), "{notes}");
        assert!(notes.contains("older Python"), "{notes}");
        assert!(notes.contains("balance 40"), "{notes}");
        let notes = en(&python(&p(-13, 0)));
        assert!(notes.contains("switched threads between a read"), "{notes}");
        assert!(notes.contains("balance 0 this time"), "{notes}");
        assert!(!notes.contains("older Python"), "{notes}");
    }

    #[test]
    fn a_deadlock_names_who_holds_and_waits_and_the_fix() {
        let notes = en(&deadlock(&Deadlocked {
            threads: 2,
            stuck: Some(Stuck {
                first: (0, "A", "B"),
                second: (1, "B", "A"),
                after_changes: 1234,
                after_ms: 12.0,
                stalled_ms: 3000.0,
            }),
            changes: 1234,
            failed_bodies: 0,
        }));
        assert!(
            notes.contains("changer-0 held A and waited for B"),
            "{notes}"
        );
        assert!(
            notes.contains("changer-1 held B and waited for A"),
            "{notes}"
        );
        assert!(notes.contains("mode=ordered"), "{notes}");
        let notes = en(&deadlock(&Deadlocked {
            threads: 2,
            stuck: None,
            changes: 10,
            failed_bodies: 0,
        }));
        assert!(notes.contains("before the threads deadlocked"), "{notes}");
    }
}
