//! The values operations carry: a small EDN-shaped data model that JSON and EDN both map
//! onto, so one checker serves every input format.

use std::fmt;

/// A value read or written by an operation, or a key.
///
/// Sets and maps are kept sorted so that two values that are equal as data compare and
/// hash equal, whatever order the history printed them in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    /// `nil` / `null`: also the state of a register nobody has written.
    Nil,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// Any other number, kept as written (floats are not `Eq`, and a checker should not
    /// round what a database returned).
    Number(String),
    /// A string.
    Str(String),
    /// An EDN keyword, without its colon.
    Keyword(String),
    /// An EDN symbol, or a character literal as written.
    Symbol(String),
    /// A vector or list.
    Vector(Vec<Value>),
    /// A set, sorted.
    Set(Vec<Value>),
    /// A map, sorted by key.
    Map(Vec<(Value, Value)>),
}

impl Value {
    /// A set from elements in any order.
    pub fn set(mut items: Vec<Value>) -> Value {
        items.sort();
        items.dedup();
        Value::Set(items)
    }

    /// A map from entries in any order; a repeated key keeps its last value, as EDN
    /// readers and JSON parsers do.
    pub fn map(entries: Vec<(Value, Value)>) -> Value {
        let mut sorted: Vec<(Value, Value)> = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            match sorted.iter_mut().find(|(k2, _)| *k2 == k) {
                Some(slot) => slot.1 = v,
                None => sorted.push((k, v)),
            }
        }
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        Value::Map(sorted)
    }

    /// The value under `key` when this is a map.
    pub fn get(&self, key: &Value) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The two elements of a two-element vector.
    pub fn as_pair(&self) -> Option<(&Value, &Value)> {
        match self {
            Value::Vector(items) if items.len() == 2 => Some((&items[0], &items[1])),
            _ => None,
        }
    }

    /// Converts parsed JSON, keeping integers exact and other numbers as written.
    pub fn from_json(json: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match json {
            J::Null => Value::Nil,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Number(n.to_string()),
            },
            J::String(s) => Value::Str(s.clone()),
            J::Array(items) => Value::Vector(items.iter().map(Value::from_json).collect()),
            J::Object(map) => Value::map(
                map.iter()
                    .map(|(k, v)| (Value::Str(k.clone()), Value::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// Printed as EDN, the notation Jepsen users read histories in.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn seq(
            f: &mut fmt::Formatter<'_>,
            open: &str,
            items: &[Value],
            close: &str,
        ) -> fmt::Result {
            f.write_str(open)?;
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{v}")?;
            }
            f.write_str(close)
        }
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Number(s) | Value::Symbol(s) => f.write_str(s),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Keyword(k) => write!(f, ":{k}"),
            Value::Vector(items) => seq(f, "[", items, "]"),
            Value::Set(items) => seq(f, "#{", items, "}"),
            Value::Map(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}
