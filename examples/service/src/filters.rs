//! A list request's query string, read into filters, paging and includes,
//! then handed to the ORM's query builder.
//!
//! Who checks what? The service reads what it must to bind a value with the
//! right type: paging numbers, integers for integer columns, known filter
//! suffixes; a request it cannot read is answered 400 before any ORM call.
//! Column and relation *names* are the ORM's to check: an unknown one is
//! passed through and refused by the builder (one failed `select`, also
//! 400), exactly as a premix app relies on it.

use premix_orm::{BindValue, Model, QueryBuilder, SqlDialect};

use crate::error::ApiError;
use crate::models::Resource;

/// Rows a list returns when `limit` is not given.
pub const DEFAULT_LIMIT: i32 = 50;
/// The most rows one list may ask for.
pub const MAX_LIMIT: i32 = 500;

/// A comparison a filter makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// `col=v`
    Eq,
    /// `col__ne=v`
    Ne,
    /// `col__gt=v`
    Gt,
    /// `col__gte=v`
    Gte,
    /// `col__lt=v`
    Lt,
    /// `col__lte=v`
    Lte,
    /// `col__like=pattern` (text columns)
    Like,
    /// `col__in=a,b,c`
    In,
}

impl Comparison {
    const SUFFIXES: [(&'static str, Self); 7] = [
        ("ne", Self::Ne),
        ("gt", Self::Gt),
        ("gte", Self::Gte),
        ("lt", Self::Lt),
        ("lte", Self::Lte),
        ("like", Self::Like),
        ("in", Self::In),
    ];
}

/// One filter: a column, a comparison and its values.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    /// The column name as given (the ORM checks it).
    pub column: String,
    /// The comparison.
    pub comparison: Comparison,
    /// One value, or the list of `__in`.
    pub values: Vec<BindValue>,
}

/// A list request, read.
#[derive(Clone, Debug, PartialEq)]
pub struct ListQuery {
    /// Filters, ANDed.
    pub filters: Vec<Filter>,
    /// Rows at most.
    pub limit: i32,
    /// Rows skipped, when given.
    pub offset: Option<i32>,
    /// Relations to load with the rows.
    pub includes: Vec<String>,
}

fn number(key: &str, text: &str, range: std::ops::RangeInclusive<i32>) -> Result<i32, ApiError> {
    text.parse::<i32>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "`{key}` takes a whole number from {} to {}, got `{text}`",
                range.start(),
                range.end()
            ))
        })
}

impl ListQuery {
    /// Reads the query string of `GET /{M::PATH}`.
    ///
    /// # Errors
    /// A paging number out of range, an unknown filter suffix, a value an
    /// integer column cannot take, or `__like` on an integer column.
    pub fn parse<M: Resource>(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let mut query = Self {
            filters: Vec::new(),
            limit: DEFAULT_LIMIT,
            offset: None,
            includes: Vec::new(),
        };
        for (key, value) in pairs {
            match key.as_str() {
                "limit" => query.limit = number(key, value, 1..=MAX_LIMIT)?,
                "offset" => query.offset = Some(number(key, value, 0..=i32::MAX)?),
                "include" => query.includes.extend(
                    value
                        .split(',')
                        .filter(|r| !r.is_empty())
                        .map(str::to_owned),
                ),
                _ => query.filters.push(filter::<M>(key, value)?),
            }
        }
        Ok(query)
    }

    /// The builder with these filters, paging and includes.
    pub fn apply<'a, T: Model<DB>, DB: SqlDialect>(
        self,
        mut builder: QueryBuilder<'a, T, DB>,
    ) -> QueryBuilder<'a, T, DB> {
        for Filter {
            column,
            comparison,
            mut values,
        } in self.filters
        {
            if comparison == Comparison::In {
                builder = builder.filter_in(&column, values);
                continue;
            }
            let value = values.pop().unwrap_or(BindValue::Null);
            builder = match comparison {
                Comparison::Eq => builder.filter_eq(&column, value),
                Comparison::Ne => builder.filter_ne(&column, value),
                Comparison::Gt => builder.filter_gt(&column, value),
                Comparison::Gte => builder.filter_gte(&column, value),
                Comparison::Lt => builder.filter_lt(&column, value),
                Comparison::Lte => builder.filter_lte(&column, value),
                Comparison::Like | Comparison::In => builder.filter_like(&column, value),
            };
        }
        builder = builder.limit(self.limit);
        if let Some(offset) = self.offset {
            builder = builder.offset(offset);
        }
        for relation in self.includes {
            builder = builder.include(relation);
        }
        builder
    }
}

fn filter<M: Resource>(key: &str, text: &str) -> Result<Filter, ApiError> {
    let (column, comparison) = match key.rsplit_once("__") {
        Some((column, suffix)) => {
            let comparison = Comparison::SUFFIXES
                .iter()
                .find(|(s, _)| *s == suffix)
                .map(|(_, c)| *c)
                .ok_or_else(|| {
                    ApiError::invalid(format!(
                        "unknown filter `__{suffix}` in `{key}`; filters are col, col__ne, col__gt, \
                         col__gte, col__lt, col__lte, col__like, col__in"
                    ))
                })?;
            (column, comparison)
        }
        None => (key, Comparison::Eq),
    };
    let integer = M::INTEGER_COLUMNS.contains(&column);
    if integer && comparison == Comparison::Like {
        return Err(ApiError::invalid(format!(
            "`{column}` holds integers: `__like` compares text"
        )));
    }
    let value = |text: &str| -> Result<BindValue, ApiError> {
        if integer {
            text.parse::<i64>()
                .map(BindValue::Int)
                .map_err(|_| ApiError::invalid(format!("`{column}` holds integers, got `{text}`")))
        } else {
            Ok(BindValue::Text(text.to_owned()))
        }
    };
    let values = if comparison == Comparison::In {
        text.split(',').map(value).collect::<Result<_, _>>()?
    } else {
        vec![value(text)?]
    };
    Ok(Filter {
        column: column.to_owned(),
        comparison,
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::User;

    fn parse(query: &[(&str, &str)]) -> Result<ListQuery, ApiError> {
        let pairs: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ListQuery::parse::<User>(&pairs)
    }

    #[test]
    fn filters_paging_and_includes_are_read() {
        let query = parse(&[
            ("karma__gte", "90"),
            ("name__like", "a%"),
            ("id__in", "1,2,3"),
            ("nickname", "12"),
            ("limit", "20"),
            ("offset", "40"),
            ("include", "posts"),
        ])
        .unwrap();
        assert_eq!(query.limit, 20);
        assert_eq!(query.offset, Some(40));
        assert_eq!(query.includes, ["posts"]);
        assert_eq!(
            query.filters,
            [
                Filter {
                    column: "karma".into(),
                    comparison: Comparison::Gte,
                    values: vec![BindValue::Int(90)],
                },
                Filter {
                    column: "name".into(),
                    comparison: Comparison::Like,
                    values: vec![BindValue::Text("a%".into())],
                },
                Filter {
                    column: "id".into(),
                    comparison: Comparison::In,
                    values: vec![BindValue::Int(1), BindValue::Int(2), BindValue::Int(3)],
                },
                // Unknown to the service, passed on as text: the ORM refuses it.
                Filter {
                    column: "nickname".into(),
                    comparison: Comparison::Eq,
                    values: vec![BindValue::Text("12".into())],
                },
            ]
        );
        assert_eq!(parse(&[]).unwrap().limit, DEFAULT_LIMIT);
    }

    #[test]
    fn what_cannot_be_read_is_refused_before_the_orm() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("limit", "0")],
                "`limit` takes a whole number from 1 to 500",
            ),
            (&[("limit", "501")], "from 1 to 500"),
            (&[("offset", "-1")], "`offset`"),
            (&[("karma", "lots")], "`karma` holds integers"),
            (&[("id__in", "1,x")], "`id` holds integers"),
            (&[("karma__like", "9%")], "`__like` compares text"),
            (&[("karma__between", "1")], "unknown filter `__between`"),
        ];
        for (query, message) in cases {
            let error = parse(query).unwrap_err();
            assert_eq!(error.status, axum::http::StatusCode::BAD_REQUEST);
            assert!(
                error.message.contains(message),
                "{query:?}: {}",
                error.message
            );
        }
    }
}
