//! Identifiers in SQL text: table and column names, quoted where a bare
//! name would not parse.
//!
//! A name that is lower-case letters, digits and underscores, starts with a
//! letter or underscore and is no keyword of SQLite or PostgreSQL is written
//! bare, so the common statement reads as a user would write it; any other
//! (a field named `order`, a table named `Users`) is double-quoted, which
//! both backends read as an identifier, with inner quotes doubled.

/// Keywords of SQLite (all of them) and PostgreSQL (the reserved ones),
/// upper-case and sorted for binary search.
const KEYWORDS: &[&str] = &[
    "ABORT",
    "ACTION",
    "ADD",
    "AFTER",
    "ALL",
    "ALTER",
    "ALWAYS",
    "ANALYSE",
    "ANALYZE",
    "AND",
    "ANY",
    "ARRAY",
    "AS",
    "ASC",
    "ASYMMETRIC",
    "ATTACH",
    "AUTHORIZATION",
    "AUTOINCREMENT",
    "BEFORE",
    "BEGIN",
    "BETWEEN",
    "BINARY",
    "BOTH",
    "BY",
    "CASCADE",
    "CASE",
    "CAST",
    "CHECK",
    "COLLATE",
    "COLLATION",
    "COLUMN",
    "COMMIT",
    "CONCURRENTLY",
    "CONFLICT",
    "CONSTRAINT",
    "CREATE",
    "CROSS",
    "CURRENT",
    "CURRENT_CATALOG",
    "CURRENT_DATE",
    "CURRENT_ROLE",
    "CURRENT_SCHEMA",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "CURRENT_USER",
    "DATABASE",
    "DEFAULT",
    "DEFERRABLE",
    "DEFERRED",
    "DELETE",
    "DESC",
    "DETACH",
    "DISTINCT",
    "DO",
    "DROP",
    "EACH",
    "ELSE",
    "END",
    "ESCAPE",
    "EXCEPT",
    "EXCLUDE",
    "EXCLUSIVE",
    "EXISTS",
    "EXPLAIN",
    "FAIL",
    "FALSE",
    "FETCH",
    "FILTER",
    "FIRST",
    "FOLLOWING",
    "FOR",
    "FOREIGN",
    "FREEZE",
    "FROM",
    "FULL",
    "GENERATED",
    "GLOB",
    "GRANT",
    "GROUP",
    "GROUPS",
    "HAVING",
    "IF",
    "IGNORE",
    "ILIKE",
    "IMMEDIATE",
    "IN",
    "INDEX",
    "INDEXED",
    "INITIALLY",
    "INNER",
    "INSERT",
    "INSTEAD",
    "INTERSECT",
    "INTO",
    "IS",
    "ISNULL",
    "JOIN",
    "KEY",
    "LAST",
    "LATERAL",
    "LEADING",
    "LEFT",
    "LIKE",
    "LIMIT",
    "LOCALTIME",
    "LOCALTIMESTAMP",
    "MATCH",
    "MATERIALIZED",
    "NATURAL",
    "NO",
    "NOT",
    "NOTHING",
    "NOTNULL",
    "NULL",
    "NULLS",
    "OF",
    "OFFSET",
    "ON",
    "ONLY",
    "OR",
    "ORDER",
    "OTHERS",
    "OUTER",
    "OVER",
    "OVERLAPS",
    "PARTITION",
    "PLACING",
    "PLAN",
    "PRAGMA",
    "PRECEDING",
    "PRIMARY",
    "QUERY",
    "RAISE",
    "RANGE",
    "RECURSIVE",
    "REFERENCES",
    "REGEXP",
    "REINDEX",
    "RELEASE",
    "RENAME",
    "REPLACE",
    "RESTRICT",
    "RETURNING",
    "RIGHT",
    "ROLLBACK",
    "ROW",
    "ROWS",
    "SAVEPOINT",
    "SELECT",
    "SESSION_USER",
    "SET",
    "SIMILAR",
    "SOME",
    "SYMMETRIC",
    "TABLE",
    "TABLESAMPLE",
    "TEMP",
    "TEMPORARY",
    "THEN",
    "TIES",
    "TO",
    "TRAILING",
    "TRANSACTION",
    "TRIGGER",
    "TRUE",
    "UNBOUNDED",
    "UNION",
    "UNIQUE",
    "UPDATE",
    "USER",
    "USING",
    "VACUUM",
    "VALUES",
    "VARIADIC",
    "VERBOSE",
    "VIEW",
    "VIRTUAL",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WITH",
    "WITHOUT",
];

/// Whether `name` may be written without quotes.
fn is_bare(name: &str) -> bool {
    let mut chars = name.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    starts_well
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && KEYWORDS
            .binary_search(&name.to_ascii_uppercase().as_str())
            .is_err()
}

/// Appends `name` to `sql` as an identifier.
pub(crate) fn push(sql: &mut String, name: &str) {
    if is_bare(name) {
        sql.push_str(name);
    } else {
        sql.push('"');
        for c in name.chars() {
            if c == '"' {
                sql.push('"');
            }
            sql.push(c);
        }
        sql.push('"');
    }
}

/// `name` as an identifier, owned.
pub(crate) fn quoted(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    push(&mut out, name);
    out
}

#[cfg(test)]
mod tests {
    use super::{KEYWORDS, quoted};

    #[test]
    fn keywords_are_sorted_for_binary_search() {
        assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn only_what_would_not_parse_is_quoted() {
        let cases = [
            ("users", "users"),
            ("user_id", "user_id"),
            ("_x1", "_x1"),
            ("order", "\"order\""),
            ("group", "\"group\""),
            ("user", "\"user\""),
            ("Users", "\"Users\""),
            ("1st", "\"1st\""),
            ("odd\"name", "\"odd\"\"name\""),
            ("with space", "\"with space\""),
        ];
        for (name, want) in cases {
            assert_eq!(quoted(name), want, "{name}");
        }
    }
}
