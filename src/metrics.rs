//! Named numbers: what a run measures, carried in live snapshots and in the report.

use serde::{Deserialize, Serialize};

/// A metric's value: integers stay integers in JSON (`"balance": -63`, not `-63.0`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Num {
    Int(i64),
    Float(f64),
}

/// Read by the number's own JSON type: `untagged` would try an integer first and build an
/// error for every float, which made decoding live events three times slower.
impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Num, D::Error> {
        struct NumVisitor;
        impl serde::de::Visitor<'_> for NumVisitor {
            type Value = Num;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E>(self, n: i64) -> Result<Num, E> {
                Ok(Num::Int(n))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Num, E> {
                i64::try_from(n).map(Num::Int).or(Ok(Num::Float(n as f64)))
            }
            fn visit_f64<E>(self, x: f64) -> Result<Num, E> {
                Ok(Num::Float(x))
            }
            /// JSON has no NaN or infinity: serde_json writes them as null.
            fn visit_unit<E>(self) -> Result<Num, E> {
                Ok(Num::Float(f64::NAN))
            }
        }
        d.deserialize_any(NumVisitor)
    }
}

impl Num {
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(n) => n as f64,
            Num::Float(x) => x,
        }
    }

    /// How a metric named `name` reads: ids (`_tid`, `_pid`) as they are, other integers with
    /// thousands separated.
    pub fn human_for(self, name: &str) -> String {
        match self {
            Num::Int(n) if name.ends_with("tid") || name.ends_with("pid") => n.to_string(),
            other => other.human(),
        }
    }

    /// Human form: thousands separated for integers, 3 significant-ish digits for floats.
    pub fn human(self) -> String {
        match self {
            Num::Int(n) => group_thousands(n),
            Num::Float(x) if x.abs() >= 1000.0 => group_thousands(x.round() as i64),
            Num::Float(x) if x.abs() >= 10.0 => format!("{x:.1}"),
            Num::Float(x) => format!("{x:.2}"),
        }
    }
}

impl From<i64> for Num {
    fn from(n: i64) -> Num {
        Num::Int(n)
    }
}
impl From<u64> for Num {
    fn from(n: u64) -> Num {
        Num::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}
impl From<f64> for Num {
    fn from(x: f64) -> Num {
        Num::Float(x)
    }
}

/// `1234567` → `1,234,567`.
pub fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Named numbers in a stable order; serialized as a JSON object. Every name lives in one
/// string, so building, cloning or decoding a snapshot costs two allocations, not one per
/// name; look-ups are linear, which beats hashing for the tens of names a run has.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    names: String,
    /// Each entry's name as the byte range `start..end` of `names`, and its value.
    entries: Vec<(u32, u32, Num)>,
}

impl Metrics {
    /// Room for `entries` metrics whose names take `name_bytes` bytes in all.
    pub fn with_capacity(entries: usize, name_bytes: usize) -> Metrics {
        Metrics {
            names: String::with_capacity(name_bytes),
            entries: Vec::with_capacity(entries),
        }
    }

    /// Sets `name`, in place if it is there already, else at the end.
    pub fn set(&mut self, name: &str, value: impl Into<Num>) {
        let value = value.into();
        match self.position(name) {
            Some(i) => self.entries[i].2 = value,
            None => self.push(name, value),
        }
    }

    /// Appends without looking for `name` first: for decoders, whose input already names
    /// each metric once.
    pub fn push(&mut self, name: &str, value: Num) {
        let start = self.names.len();
        self.names.push_str(name);
        self.end_entry(start, value);
    }

    /// Records the names' tail from `start` as the name of a new entry.
    fn end_entry(&mut self, start: usize, value: Num) {
        let offset = |n: usize| u32::try_from(n).expect("metric names under 4 GiB");
        self.entries
            .push((offset(start), offset(self.names.len()), value));
    }

    pub fn get(&self, name: &str) -> Option<Num> {
        self.position(name).map(|i| self.entries[i].2)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, Num)> {
        self.entries
            .iter()
            .map(|&(start, end, value)| (&self.names[start as usize..end as usize], value))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.iter().position(|(k, _)| k == name)
    }
}

/// Equal when the same names hold the same values in the same order, however the names
/// happen to be laid out.
impl PartialEq for Metrics {
    fn eq(&self, other: &Metrics) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Serialize for Metrics {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, &v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Metrics {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Metrics, D::Error> {
        use serde::de::{DeserializeSeed, MapAccess, Visitor};
        use std::fmt;

        /// Copies each key straight into the names string: no `String` per key.
        struct NameInto<'a>(&'a mut String);
        impl<'de> DeserializeSeed<'de> for NameInto<'_> {
            type Value = ();
            fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_str(self)
            }
        }
        impl Visitor<'_> for NameInto<'_> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a metric name")
            }
            fn visit_str<E>(self, name: &str) -> Result<(), E> {
                self.0.push_str(name);
                Ok(())
            }
        }

        struct MetricsVisitor;
        impl<'de> Visitor<'de> for MetricsVisitor {
            type Value = Metrics;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of named numbers")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Metrics, A::Error> {
                let mut out = Metrics::with_capacity(map.size_hint().unwrap_or(16), 256);
                loop {
                    let start = out.names.len();
                    if map.next_key_seed(NameInto(&mut out.names))?.is_none() {
                        return Ok(out);
                    }
                    let value: Num = map.next_value()?;
                    out.end_entry(start, value);
                }
            }
        }
        d.deserialize_map(MetricsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands() {
        assert_eq!(group_thousands(1234567), "1,234,567");
        assert_eq!(group_thousands(-1000), "-1,000");
        assert_eq!(group_thousands(999), "999");
    }

    #[test]
    fn set_replaces_in_place_and_push_appends() {
        let mut m = Metrics::default();
        m.set("a", 1i64);
        m.set("bb", 2.5);
        m.set("a", 3i64);
        assert_eq!(m.get("a"), Some(Num::Int(3)));
        assert_eq!(m.get("b"), None);
        let names: Vec<&str> = m.iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["a", "bb"]);
    }

    #[test]
    fn json_round_trip_keeps_order_escapes_and_number_kinds() {
        let mut m = Metrics::default();
        m.set("zeta", -63i64);
        m.set("odd \"name\"", 1.5);
        m.set("alpha", u64::MAX);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(
            json,
            r#"{"zeta":-63,"odd \"name\"":1.5,"alpha":9223372036854775807}"#
        );
        let back: Metrics = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.get("odd \"name\""), Some(Num::Float(1.5)));
    }
}
