//! Raw SQL conditions (`filter`, `filter_raw`) spliced into the text the
//! shape cache built: the one place the fork edits SQL text after building
//! it, kept apart with its own table of cases.

/// Inserts raw conditions before ORDER BY, LIMIT and OFFSET. Raw conditions bind nothing,
/// so placeholder numbering is unaffected.
pub(super) fn with_raw_conditions(sql: String, raw: &[String]) -> String {
    let tail_at = [" ORDER BY ", " LIMIT ", " OFFSET "]
        .iter()
        .filter_map(|k| sql.find(k))
        .min()
        .unwrap_or(sql.len());
    let (head, tail) = sql.split_at(tail_at);
    let mut out = String::with_capacity(sql.len() + raw.iter().map(|r| r.len() + 8).sum::<usize>());
    out.push_str(head);
    for (i, condition) in raw.iter().enumerate() {
        let first = i == 0 && !head.contains(" WHERE ");
        out.push_str(if first { " WHERE (" } else { " AND (" });
        out.push_str(condition);
        out.push(')');
    }
    out.push_str(tail);
    out
}

#[cfg(test)]
mod tests {
    use super::with_raw_conditions;

    #[test]
    fn raw_conditions_go_before_paging() {
        let cases = [
            ("SELECT a FROM t", "SELECT a FROM t WHERE (x > 1)"),
            (
                "SELECT a FROM t WHERE b = ?",
                "SELECT a FROM t WHERE b = ? AND (x > 1)",
            ),
            (
                "SELECT a FROM t LIMIT ? OFFSET ?",
                "SELECT a FROM t WHERE (x > 1) LIMIT ? OFFSET ?",
            ),
        ];
        for (sql, want) in cases {
            assert_eq!(
                with_raw_conditions(sql.to_owned(), &["x > 1".to_owned()]),
                want
            );
        }
    }
}
