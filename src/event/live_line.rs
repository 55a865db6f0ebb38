//! The live snapshot's line, written and read by hand. Live events are most of the stream
//! (ten a second per run, tens of metrics each), and serde spent most of its time on
//! generic machinery: this path writes exactly what serde_json writes, and reads exactly that
//! shape back without allocating a string per name. Anything else — another kind, a name that
//! needs escaping, whitespace, another key order — is left to serde, so both paths accept
//! the same lines and agree on what they mean.

use super::{Body, EVENT_VERSION, Event};
use crate::metrics::{Metrics, Num};
use serde_json::ser::{CompactFormatter, Formatter};

const KIND_AND_METRICS: &[u8] = br#","kind":"live","metrics":{"#;

/// Writes a live event's line (without its newline) into `out`, byte for byte as serde_json
/// would; `false` (with `out` unchanged) when a metric name needs escaping.
pub(super) fn encode(t_ms: f64, pid: u32, metrics: &Metrics, out: &mut Vec<u8>) -> bool {
    let start = out.len();
    out.extend_from_slice(br#"{"v":"#);
    write_num(out, Num::Int(i64::from(EVENT_VERSION)));
    out.extend_from_slice(br#","t_ms":"#);
    write_num(out, Num::Float(t_ms));
    out.extend_from_slice(br#","pid":"#);
    write_num(out, Num::Int(i64::from(pid)));
    out.extend_from_slice(KIND_AND_METRICS);
    for (i, (name, value)) in metrics.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if first_escaped(name.as_bytes()).is_some() {
            out.truncate(start);
            return false;
        }
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        write_num(out, value);
    }
    out.extend_from_slice(b"}}");
    true
}

/// What serde_json escapes inside a string: control characters, quote and backslash.
fn needs_escape(b: u8) -> bool {
    ESCAPED[usize::from(b)]
}

/// One look-up per byte instead of three comparisons: names are most of a line's bytes.
static ESCAPED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

fn write_num(out: &mut Vec<u8>, value: Num) {
    let mut f = CompactFormatter;
    // Writing into a Vec cannot fail.
    let _ = match value {
        Num::Int(n) => f.write_i64(out, n),
        Num::Float(x) if x.is_finite() => f.write_f64(out, x),
        // serde_json writes NaN and infinities as null.
        Num::Float(_) => f.write_null(out),
    };
}

/// Reads a line in exactly the shape [`encode`] writes (a trailing newline allowed);
/// `None` for anything else, which the caller hands to serde.
pub(super) fn decode(line: &[u8]) -> Option<Event> {
    // A live line ends as its metrics object closes; log, process and part lines end in a
    // string, so they go to serde without an attempt here.
    if !line.strip_suffix(b"\n").unwrap_or(line).ends_with(b"}}") {
        return None;
    }
    // One check of the whole line; every cut below is at an ASCII byte, so names stay str.
    let mut r = Reader {
        text: std::str::from_utf8(line).ok()?,
        pos: 0,
    };
    r.expect(br#"{"v":"#)?;
    let v = u32::try_from(r.integer()?).ok()?;
    if v != EVENT_VERSION {
        return None;
    }
    r.expect(br#","t_ms":"#)?;
    let t_ms = r.number()?.as_f64();
    r.expect(br#","pid":"#)?;
    let pid = u32::try_from(r.integer()?).ok()?;
    r.expect(KIND_AND_METRICS)?;
    let mut metrics = Metrics::with_capacity(16, line.len());
    if !r.eat(b'}') {
        loop {
            r.eat(b'"').then_some(())?;
            let name = r.name()?;
            r.eat(b':').then_some(())?;
            metrics.push(name, r.metric_value()?);
            if !r.eat(b',') {
                r.eat(b'}').then_some(())?;
                break;
            }
        }
    }
    r.eat(b'}').then_some(())?;
    r.eat(b'\n');
    (r.pos == line.len()).then(|| Event::new(t_ms, pid, Body::Live { metrics }))
}

/// A cursor over the line.
struct Reader<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// Steps over `byte` if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        self.pos += usize::from(next);
        next
    }

    fn expect(&mut self, literal: &[u8]) -> Option<()> {
        let rest = self.text.as_bytes().get(self.pos..)?;
        rest.starts_with(literal).then(|| self.pos += literal.len())
    }

    /// The text up to the closing quote, which must come before anything escaped.
    fn name(&mut self) -> Option<&'a str> {
        let start = self.pos;
        self.pos += first_escaped(&self.text.as_bytes()[start..])?;
        let name = self.text.get(start..self.pos)?;
        self.eat(b'"').then_some(name)
    }

    /// A metric's value: a number, or null for a NaN or an infinity (as [`Num`] reads it).
    fn metric_value(&mut self) -> Option<Num> {
        if self.peek() == Some(b'n') {
            return self.expect(b"null").map(|()| Num::Float(f64::NAN));
        }
        self.number()
    }

    fn integer(&mut self) -> Option<i64> {
        match self.number()? {
            Num::Int(n) => Some(n),
            Num::Float(_) => None,
        }
    }

    /// A JSON number, read as serde_json reads it into a [`Num`]: no fraction or exponent
    /// makes an integer. Left to serde: integers of 19 digits or more (they may not fit),
    /// `-0` (serde reads a float), and floats beyond f64's range (serde refuses them).
    fn number(&mut self) -> Option<Num> {
        let text = self.text.get(self.pos..)?;
        let bytes = text.as_bytes();
        let digits_from = |at: usize| {
            let n = bytes
                .get(at..)
                .map_or(0, |b| b.iter().take_while(|d| d.is_ascii_digit()).count());
            (n > 0).then_some(at + n)
        };
        let negative = bytes.first() == Some(&b'-');
        let int_start = usize::from(negative);
        // The integer part's value is gathered while its digits are found; it cannot
        // overflow before the 18-digit check below.
        let mut end = int_start;
        let mut magnitude = 0u64;
        while let Some(digit) = bytes
            .get(end)
            .map(|b| b.wrapping_sub(b'0'))
            .filter(|&d| d < 10)
        {
            magnitude = magnitude.wrapping_mul(10).wrapping_add(u64::from(digit));
            end += 1;
        }
        let int_digits = end - int_start;
        // JSON forbids leading zeros ("01") and an empty integer part.
        if int_digits == 0 || (int_digits > 1 && bytes[int_start] == b'0') {
            return None;
        }
        let mut is_float = false;
        if bytes.get(end) == Some(&b'.') {
            end = digits_from(end + 1)?;
            is_float = true;
        }
        if matches!(bytes.get(end), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(bytes.get(end + 1), Some(b'+' | b'-')));
            end = digits_from(end + 1 + sign)?;
            is_float = true;
        }
        let value = if is_float {
            Num::Float(
                text.get(..end)?
                    .parse()
                    .ok()
                    .filter(|x: &f64| x.is_finite())?,
            )
        } else if int_digits <= 18 && !(negative && magnitude == 0) {
            let magnitude = magnitude as i64; // < 10^18
            Num::Int(if negative { -magnitude } else { magnitude })
        } else {
            return None;
        };
        self.pos += end;
        Some(value)
    }
}

/// Where the first byte that JSON would escape (quote, backslash, control) is, eight bytes
/// at a time: names are most of a live line.
fn first_escaped(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // High bit of each byte under n (n ≤ 128). Bits above the lowest may be false (borrows),
    // the lowest is exact: that is all we read.
    let below = |v: u64, n: u8| v.wrapping_sub(ONES * u64::from(n)) & !v & HIGHS;
    let equal = |v: u64, b: u8| below(v ^ (ONES * u64::from(b)), 1);
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let w = u64::from_le_bytes(chunk.try_into().ok()?);
        let found = equal(w, b'"') | equal(w, b'\\') | below(w, 0x20);
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    let rest = bytes[at..].iter().position(|&b| needs_escape(b))?;
    Some(at + rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_line(event: &Event) -> Vec<u8> {
        serde_json::to_vec(event).unwrap()
    }

    fn live(metrics: &[(&str, Num)]) -> Event {
        let mut m = Metrics::default();
        for &(name, value) in metrics {
            m.set(name, value);
        }
        Event::new(312.456, 123_456, Body::Live { metrics: m })
    }

    fn encoded(event: &Event) -> Option<Vec<u8>> {
        let Body::Live { metrics } = &event.body else {
            unreachable!()
        };
        let mut out = Vec::new();
        encode(event.t_ms, event.pid, metrics, &mut out).then_some(out)
    }

    #[test]
    fn writes_what_serde_writes_and_reads_it_back() {
        let cases = [
            live(&[]),
            live(&[("balance", Num::Int(-63))]),
            live(&[
                ("iterations_done", Num::Int(1_234_567)),
                ("big", Num::Int(999_999_999_999_999_999)),
                ("small", Num::Int(-999_999_999_999_999_999)),
                ("zero", Num::Int(0)),
                ("ops_per_sec", Num::Float(41_152_233.333_333_336)),
                ("tiny", Num::Float(1.5e-12)),
                ("huge", Num::Float(3.2e300)),
                ("negative", Num::Float(-0.25)),
                ("whole", Num::Float(2.0)),
                ("ünïcode_name", Num::Int(7)),
            ]),
        ];
        for event in cases {
            let line = encoded(&event).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&line),
                String::from_utf8_lossy(&serde_line(&event))
            );
            assert_eq!(decode(&line), Some(event.clone()));
            let mut with_newline = line.clone();
            with_newline.push(b'\n');
            assert_eq!(decode(&with_newline), Some(event));
        }
    }

    #[test]
    fn finds_the_first_byte_to_escape_in_any_position() {
        for len in 0..40 {
            for at in 0..len {
                for special in [b'"', b'\\', 0x00, 0x1f] {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = special;
                    // Bytes just past the special ones must not be taken for them.
                    if at + 1 < len {
                        bytes[at + 1] = 0x21;
                    }
                    assert_eq!(first_escaped(&bytes), Some(at), "{bytes:?}");
                }
            }
            let plain: Vec<u8> = (0..len).map(|i| 0x20 + (i * 37 % 0x5f) as u8).collect();
            let plain: Vec<u8> = plain.into_iter().filter(|&b| !needs_escape(b)).collect();
            assert_eq!(first_escaped(&plain), None, "{plain:?}");
            assert_eq!(first_escaped("ünï€😀".repeat(3).as_bytes()), None);
        }
    }

    #[test]
    fn non_finite_floats_travel_as_null_and_come_back_as_nan() {
        for x in [f64::NAN, f64::INFINITY] {
            let event = live(&[("rate", Num::Float(x))]);
            let line = encoded(&event).unwrap();
            assert_eq!(line, serde_line(&event));
            for back in [
                decode(&line).unwrap(),
                serde_json::from_slice(&line).unwrap(),
            ] {
                let Body::Live { metrics } = back.body else {
                    panic!("{back:?}")
                };
                assert!(metrics.get("rate").unwrap().as_f64().is_nan());
            }
        }
    }

    #[test]
    fn names_that_need_escaping_are_left_to_serde() {
        let event = live(&[("say \"hi\"", Num::Int(1))]);
        assert_eq!(encoded(&event), None);
        assert_eq!(decode(&serde_line(&event)), None);
    }

    #[test]
    fn anything_but_the_exact_shape_is_left_to_serde() {
        let good = br#"{"v":2,"t_ms":5,"pid":9,"kind":"live","metrics":{"a":1,"b":2.5}}"#;
        assert!(decode(good).is_some());
        for line in [
            &br#"{"v":1,"t_ms":5,"pid":9,"kind":"live","metrics":{"a":1}}"#[..],
            br#"{"v":2,"t_ms":5,"pid":9,"kind":"log","text":"hi"}"#,
            br#"{"v":2, "t_ms":5,"pid":9,"kind":"live","metrics":{"a":1}}"#,
            br#"{"v":2,"t_ms":5,"pid":9,"kind":"live","metrics":{"a":01}}"#,
            br#"{"v":2,"t_ms":5,"pid":9,"kind":"live","metrics":{"a":1.}}"#,
            br#"{"v":2,"t_ms":5,"pid":9,"kind":"live","metrics":{"a":1e}}"#,
            br#"{"v":2,"t_ms":5,"pid":9,"kind":"live","metrics":{"a":-}}"#,
            br#"{"v":2,"t_ms":5,"pid":9,"kind":"live","metrics":{"a":nul}}"#,
            br#"{"v":2,"t_ms":5,"pid":9,"kind":"live","metrics":{"a":1,}}"#,
            br#"{"v":2,"t_ms":5,"pid":9,"kind":"live","metrics":{"a":1}} "#,
            br#"{"v":2,"t_ms":5,"pid":9,"kind":"live","metrics":{"a":1}}x"#,
            br#"{"v":2,"t_ms":5,"pid":9,"kind":"live","metrics":{"a":1000000000000000000}}"#,
            br#"{"v":2,"t_ms":5,"pid":-9,"kind":"live","metrics":{}}"#,
            br#"{"v":2,"t_ms":null,"pid":9,"kind":"live","metrics":{}}"#,
            br#"{"v":2,"t_ms":5,"pid":-0,"kind":"live","metrics":{}}"#,
            br#"{"v":2,"t_ms":-0,"pid":9,"kind":"live","metrics":{}}"#,
            br#"{"v":2,"t_ms":5,"pid":9,"kind":"live","metrics":{"a":-0}}"#,
            br#"{"v":2,"t_ms":5,"pid":9,"kind":"live","metrics":{"a":1e400}}"#,
            br#"{"v":2,"t_ms":5,"pid":9,"kind":"live","metrics":{"a":-1.8e308}}"#,
            br#"{"v":2,"t_ms":5,"pid":9,"kind":"live","metrics":{"a\u0041":1}}"#,
            b"{\"v\":1,\"t_ms\":5,\"pid\":9,\"kind\":\"live\",\"metrics\":{\"\xff\":1}}",
            br#"{"v":2,"t_ms":5,"pid":9,"kind":"live","metrics":{"a":1}"#,
        ] {
            assert_eq!(decode(line), None, "{}", String::from_utf8_lossy(line));
        }
    }

    proptest::proptest! {
        /// Both readers accept the same lines and agree on what they mean: a live line with a
        /// few bytes changed is either left to serde, or read exactly as serde reads it.
        #[test]
        fn the_hand_reader_agrees_with_serde_on_damaged_lines(
            values in proptest::collection::vec(proptest::prelude::any::<i64>(), 0..6),
            t_ms in 0.0..1e7f64,
            damage in proptest::collection::vec(
                (proptest::prelude::any::<proptest::sample::Index>(), b' '..=b'~'),
                1..4,
            ),
        ) {
            let metrics: Vec<(String, Num)> = values
                .iter()
                .enumerate()
                .map(|(i, &n)| (format!("m{i}"), if i % 2 == 0 { Num::Int(n) } else { Num::Float(n as f64 / 7.0) }))
                .collect();
            let named: Vec<(&str, Num)> = metrics.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            let mut event = live(&named);
            event.t_ms = t_ms;
            let mut line = encoded(&event).unwrap();
            for (at, byte) in &damage {
                let at = at.index(line.len());
                line[at] = *byte;
            }
            if let Some(hand) = decode(&line) {
                let serde: Result<Event, _> = serde_json::from_slice(&line);
                proptest::prop_assert_eq!(
                    Some(hand),
                    serde.ok(),
                    "{}",
                    String::from_utf8_lossy(&line)
                );
            }
        }
    }

    #[test]
    fn a_long_random_run_round_trips_exactly() {
        // A small xorshift: reproducible numbers of every size and sign.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2_000 {
            let mut m = Metrics::default();
            for i in 0..(next() % 12) {
                let bits = next();
                let value = match bits % 3 {
                    0 => Num::Int((bits >> 2) as i64 >> (next() % 63)),
                    1 => Num::Int(-((bits >> 3) as i64 >> (next() % 63))),
                    _ => Num::Float(f64::from_bits(next())),
                };
                let value = match value {
                    Num::Float(x) if !x.is_finite() => Num::Float(0.5),
                    other => other,
                };
                m.set(&format!("metric_{i}"), value);
            }
            let event = Event::new(
                f64::from(next() as u32) / 7.0,
                next() as u32,
                Body::Live { metrics: m },
            );
            let line = encoded(&event).unwrap();
            assert_eq!(line, serde_line(&event));
            // Integers of 19 digits go to serde; everything else comes back exactly.
            match decode(&line) {
                Some(back) => assert_eq!(back, event),
                None => {
                    let text = String::from_utf8_lossy(&line);
                    let longest = text.split(|c: char| !c.is_ascii_digit()).map(str::len);
                    assert!(longest.max() >= Some(19), "{text}");
                    assert_eq!(Event::decode(&line).unwrap(), event);
                }
            }
        }
    }
}
