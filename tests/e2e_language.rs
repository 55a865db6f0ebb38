//! End to end, the dashboard's two languages: the locale chooses the one it starts in, and `L`
//! switches a live dashboard, the help open or not, a run going or done. The real `conlab`
//! binary in a pseudo-terminal, read back through a vt100 screen model; every test ends with
//! a clean exit, the terminal given back and nothing left behind (`tests/common/pty.rs`).

mod common;

use common::pty::{ENTER, Tui, serial};

/// On screen while the help is open, in each language.
const HELP_EN: &str = "Any key closes this help.";
const HELP_ZH: &str = "任意键 关闭本帮助。";
/// The scenario panel's footer, in each language.
const FOOTER_EN: &str = "l lesson · r report · v events · e edit · c compare";
const FOOTER_ZH: &str = "l 课程 · r 报告 · v 事件 · e 编辑 · c 比较";

#[test]
fn the_language_key_switches_a_live_dashboard() {
    let _serial = serial();
    let mut tui = Tui::start("lock", 80, 24);
    tui.wait_for("English words", |t| {
        t.contains("concurrency lab · idle") && t.contains(FOOTER_EN) && t.contains("L 中文")
    });
    tui.send("?");
    tui.wait_for("the help in English", |t| t.contains(HELP_EN));
    // The help stays open, in the other language; and back.
    tui.send("L");
    let zh = tui.wait_for("the help in Chinese", |t| t.contains(HELP_ZH));
    assert!(
        zh.contains(" 按键 ") && zh.contains("切换语言：中文 ⇄ English") && !zh.contains(HELP_EN),
        "{}",
        tui.dump()
    );
    tui.send("L");
    tui.wait_for("the help in English again", |t| {
        t.contains(HELP_EN) && !t.contains(HELP_ZH)
    });
    tui.send_esc();
    tui.wait_for("the help closed", |t| !t.contains(HELP_EN));
    // A run, its status and the footers in Chinese.
    tui.send("L");
    tui.wait_for("the dashboard in Chinese", |t| {
        t.contains("并发实验室 · 空闲") && t.contains(FOOTER_ZH) && t.contains("L English")
    });
    tui.send(ENTER);
    let done = tui.wait_for("the run done, in Chinese", |t| t.contains("✓ 完成，用时"));
    assert!(
        done.contains("丢失的更新") && done.contains("进程 · ") && !done.contains(FOOTER_EN),
        "{}",
        tui.dump()
    );
    tui.send("L");
    tui.wait_for("the finished run in English", |t| {
        t.contains("✓ done in") && t.contains("lost updates") && t.contains(FOOTER_EN)
    });
    tui.send("q");
    tui.finish(true, false);
}

#[test]
fn a_chinese_locale_starts_the_dashboard_in_chinese() {
    let _serial = serial();
    let mut tui = Tui::start_with("pool", 80, 24, &[("LANG", "zh_CN.UTF-8")]);
    let first = tui.wait_for("the dashboard in Chinese", |t| {
        t.contains("并发实验室") && t.contains(FOOTER_ZH)
    });
    for words in [
        "多进程",
        "多线程",
        "L English",
        "CPU · ",
        "进程 · 0 个在运行",
    ] {
        assert!(first.contains(words), "no `{words}`\n{}", tui.dump());
    }
    assert!(!first.contains("concurrency lab"), "{}", tui.dump());
    tui.send(ENTER);
    tui.wait_for("the pool's run done, in Chinese", |t| {
        t.contains("✓ 完成，用时") && t.contains("时间线 · ") && t.contains("等待空闲的工作进程")
    });
    tui.send("?");
    tui.wait_for("the help in Chinese", |t| t.contains(HELP_ZH));
    tui.send("q");
    tui.finish(true, false);
}
