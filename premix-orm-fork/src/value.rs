//! Values the query builder binds: a small closed set that every backend
//! can encode, so a filter never needs to know the backend.

/// A value bound to a query parameter. Built with `From`/`Into` from Rust
/// integers, floats, booleans, strings, bytes, `Option`s of those, and JSON
/// scalars.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum BindValue {
    /// SQL `NULL`. In `filter_eq` / `filter_ne` it becomes `IS NULL` /
    /// `IS NOT NULL`, since `col = NULL` is never true.
    Null,
    /// A boolean.
    Bool(bool),
    /// Any integer, bound as a 64-bit integer.
    Int(i64),
    /// Any float, bound as a 64-bit float.
    Float(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Bytes(Vec<u8>),
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for BindValue {
            fn from(v: $t) -> Self {
                Self::Int(i64::from(v))
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<bool> for BindValue {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

impl From<f32> for BindValue {
    fn from(v: f32) -> Self {
        Self::Float(f64::from(v))
    }
}

impl From<f64> for BindValue {
    fn from(v: f64) -> Self {
        Self::Float(v)
    }
}

impl From<String> for BindValue {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

impl From<&str> for BindValue {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}

impl From<&String> for BindValue {
    fn from(v: &String) -> Self {
        Self::Text(v.clone())
    }
}

impl From<Vec<u8>> for BindValue {
    fn from(v: Vec<u8>) -> Self {
        Self::Bytes(v)
    }
}

impl From<&[u8]> for BindValue {
    fn from(v: &[u8]) -> Self {
        Self::Bytes(v.to_vec())
    }
}

impl<T: Into<Self>> From<Option<T>> for BindValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

impl BindValue {
    /// Converts a JSON value; arrays and objects have no column type, so
    /// they are `None`.
    #[must_use]
    pub fn from_json(value: &serde_json::Value) -> Option<Self> {
        use serde_json::Value;
        Some(match value {
            Value::Null => Self::Null,
            Value::Bool(b) => Self::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Self::Int(i),
                None => Self::Float(n.as_f64()?),
            },
            Value::String(s) => Self::Text(s.clone()),
            Value::Array(_) | Value::Object(_) => return None,
        })
    }

    pub(crate) const fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        let cases: [(BindValue, BindValue); 8] = [
            (5_i32.into(), BindValue::Int(5)),
            (5_u32.into(), BindValue::Int(5)),
            (true.into(), BindValue::Bool(true)),
            ("a".into(), BindValue::Text("a".into())),
            (Some(2_i64).into(), BindValue::Int(2)),
            (None::<i64>.into(), BindValue::Null),
            (1.5_f32.into(), BindValue::Float(1.5)),
            (vec![1_u8].into(), BindValue::Bytes(vec![1])),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn json_scalars_only() {
        use serde_json::json;
        assert_eq!(BindValue::from_json(&json!(3)), Some(BindValue::Int(3)));
        assert_eq!(
            BindValue::from_json(&json!(2.5)),
            Some(BindValue::Float(2.5))
        );
        assert_eq!(
            BindValue::from_json(&json!("x")),
            Some(BindValue::Text("x".into()))
        );
        assert_eq!(BindValue::from_json(&json!(null)), Some(BindValue::Null));
        assert_eq!(BindValue::from_json(&json!([1])), None);
        assert_eq!(BindValue::from_json(&json!({"a": 1})), None);
    }
}
