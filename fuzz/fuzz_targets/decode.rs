//! Bytes as a runner's stdout, read the way the dashboard and the CLI read it: split into
//! lines, each decoded and fed to a reassembler of long events. Nothing may panic, and an
//! event that decodes must travel again and come back the same.
#![no_main]

use conlab::event::{Event, Reassembler};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut joiner = Reassembler::default();
    for line in data.split_inclusive(|&b| b == b'\n') {
        if let Ok(Some(event)) = joiner.feed_line(line) {
            comes_back(&event);
        }
    }
});

/// Encoded again, `event` decodes to itself (compared as JSON: a NaN metric is not equal to
/// itself, but both sides write it as null).
fn comes_back(event: &Event) {
    let lines = event.encode_lines().expect("a decoded event encodes");
    let mut joiner = Reassembler::default();
    let back: Vec<Event> = lines
        .iter()
        .filter_map(|line| joiner.feed_line(line).expect("an encoded event decodes"))
        .collect();
    let json = |e: &Event| serde_json::to_string(e).expect("events serialize");
    assert_eq!(back.len(), 1, "{event:?} came back as {back:?}");
    assert_eq!(json(&back[0]), json(event));
}
