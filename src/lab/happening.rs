//! What the pool's and the queue's processes say happened, as log lines that people read and
//! the dashboard parses back into a timeline: `task 3 started at 512.346 ms`, `put A at 3.2 ms`.
//! The time is on the run's clock ([`super::run_clock::RunClock`]), whichever process wrote it.
//! A queue's lines may end with the depth the process read right after its put or get:
//! `put A at 3.214 ms (depth 1)`.

#[derive(Debug, Clone, PartialEq)]
pub enum Happening {
    /// The runner accepted task N (apply_async); it waits until a worker is free.
    Queued(u32),
    /// A worker began task N.
    Started(u32),
    /// A worker finished task N.
    Done(u32),
    /// The writer put an item on the queue.
    Put(String),
    /// The reader got an item from the queue.
    Got(String),
}

impl Happening {
    /// The log line, e.g. `task 4 queued at 0.213 ms`.
    pub fn line(&self, at_ms: f64) -> String {
        let what = match self {
            Happening::Queued(n) => format!("task {n} queued"),
            Happening::Started(n) => format!("task {n} started"),
            Happening::Done(n) => format!("task {n} done"),
            Happening::Put(item) => format!("put {item}"),
            Happening::Got(item) => format!("got {item}"),
        };
        format!("{what} at {at_ms:.3} ms")
    }

    /// The line with the queue's depth as read just after this put or get.
    pub fn line_with_depth(&self, at_ms: f64, depth: u64) -> String {
        format!("{} (depth {depth})", self.line(at_ms))
    }

    /// The happening and its time, if `line` is one of these lines.
    pub fn parse(line: &str) -> Option<(Happening, f64)> {
        Said::parse(line).map(|s| (s.happening, s.at_ms))
    }
}

/// A parsed line: what happened, when, and the queue's depth if the line says it.
#[derive(Debug, Clone, PartialEq)]
pub struct Said {
    pub happening: Happening,
    pub at_ms: f64,
    pub depth: Option<u64>,
}

impl Said {
    pub fn parse(line: &str) -> Option<Said> {
        let (what, at) = line.rsplit_once(" at ")?;
        let (at, depth) = match at.strip_suffix(')').and_then(|a| a.split_once(" (depth ")) {
            Some((at, depth)) => (at, Some(depth.parse::<u64>().ok()?)),
            None => (at, None),
        };
        let at_ms: f64 = at.strip_suffix(" ms")?.parse().ok()?;
        if !at_ms.is_finite() {
            return None;
        }
        let happening = if let Some(rest) = what.strip_prefix("task ") {
            let (n, verb) = rest.split_once(' ')?;
            let n: u32 = n.parse().ok()?;
            match verb {
                "queued" => Happening::Queued(n),
                "started" => Happening::Started(n),
                "done" => Happening::Done(n),
                _ => return None,
            }
        } else if let Some(item) = what.strip_prefix("put ") {
            Happening::Put(item.to_string())
        } else if let Some(item) = what.strip_prefix("got ") {
            Happening::Got(item.to_string())
        } else {
            return None;
        };
        Some(Said {
            happening,
            at_ms,
            depth,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        for h in [
            Happening::Queued(4),
            Happening::Started(0),
            Happening::Done(12),
            Happening::Put("A".into()),
            Happening::Got("meet at noon".into()),
        ] {
            let line = h.line(512.3456);
            assert!(line.ends_with(" at 512.346 ms"), "{line}");
            assert_eq!(Happening::parse(&line), Some((h, 512.346)));
        }
    }

    #[test]
    fn queue_lines_may_carry_the_depth() {
        let line = Happening::Put("A".into()).line_with_depth(3.2, 1);
        assert_eq!(line, "put A at 3.200 ms (depth 1)");
        let said = Said::parse(&line).unwrap();
        assert_eq!(
            (said.happening, said.at_ms, said.depth),
            (Happening::Put("A".into()), 3.2, Some(1))
        );
        assert_eq!(Said::parse("got B at 4.000 ms").unwrap().depth, None);
        assert_eq!(Said::parse("got B at 4.000 ms (depth x)"), None);
    }

    #[test]
    fn other_lines_are_not_happenings() {
        for line in [
            "pool of 4 worker processes",
            "task x started at 1 ms",
            "task 3 exploded at 1 ms",
            "put A at soon",
            "got A at 3 s",
        ] {
            assert_eq!(Happening::parse(line), None, "{line}");
        }
    }
}
