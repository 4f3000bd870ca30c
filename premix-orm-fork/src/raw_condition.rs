//! What a raw condition (`filter("...")` under `allow_unsafe()`) may hold.
//!
//! A raw condition is pasted into the WHERE clause as written, inside
//! parentheses. It is refused when, outside string literals and quoted
//! identifiers, it carries what could end the statement or the condition
//! around it: a statement separator (`;`), a comment (`--`, `/*`) that would
//! hide the rest of the statement, a quote left open, or a parenthesis that
//! closes more than it opened. What remains is still SQL chosen by the
//! caller: it can read any column it names and it is not bound.

/// Why `condition` cannot be pasted into a statement, if it cannot.
pub(crate) fn refusal(condition: &str) -> Option<&'static str> {
    let mut chars = condition.chars().peekable();
    let mut depth = 0_usize;
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                // Until the matching quote; a doubled quote is one literal
                // quote and stays inside.
                loop {
                    match chars.next() {
                        None => return Some("a quote is left open"),
                        Some(q) if q == c => {
                            if chars.peek() == Some(&c) {
                                chars.next();
                            } else {
                                break;
                            }
                        }
                        Some(_) => {}
                    }
                }
            }
            ';' => return Some("it holds a statement separator (`;`)"),
            '-' if chars.peek() == Some(&'-') => return Some("it holds a comment (`--`)"),
            '/' if chars.peek() == Some(&'*') => return Some("it holds a comment (`/*`)"),
            '(' => depth += 1,
            ')' => match depth.checked_sub(1) {
                Some(open) => depth = open,
                None => return Some("a parenthesis closes more than it opened"),
            },
            _ => {}
        }
    }
    (depth > 0).then_some("a parenthesis is left open")
}

#[cfg(test)]
mod tests {
    use super::refusal;

    #[test]
    fn conditions_stay_conditions() {
        let allowed = [
            "score > 1",
            "title = 'a; b'",
            "title = 'it''s -- fine /* too */'",
            "\"order\" IN (1, 2) AND (a < b OR c)",
            "lower(title) LIKE 'x%'",
        ];
        for condition in allowed {
            assert_eq!(refusal(condition), None, "{condition}");
        }
        let refused = [
            "1=1); DROP TABLE posts; --",
            "1=1; DELETE FROM posts",
            "1=1 -- the rest",
            "1=1 /* the rest",
            "title = 'open",
            "1=1) OR (1=1",
            "(1=1",
            "E'\\''; DROP TABLE posts",
        ];
        for condition in refused {
            assert!(refusal(condition).is_some(), "{condition}");
        }
    }
}
