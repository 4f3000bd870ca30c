//! The fairness contract, computed: per scenario, every contender's
//! statements are compared with the baseline's (same shape, same rows, same
//! prepared-statement policy), and a scenario that differs is refused unless
//! the difference is declared intentional, with its reason (a different
//! prepared-statement policy cannot be declared away).

use crate::capture::Statement;

/// The shape of a statement: lower case, identifier quotes dropped,
/// whitespace collapsed, numbered placeholders as `?`.
pub fn normalize(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' | '"' => {}
            '$' if chars.peek().is_some_and(char::is_ascii_digit) => {
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
                out.push('?');
            }
            c if c.is_whitespace() => {
                if !out.ends_with(' ') && !out.is_empty() {
                    out.push(' ');
                }
            }
            c => out.extend(c.to_lowercase()),
        }
    }
    out.trim().trim_end_matches(';').to_owned()
}

/// A difference declared on purpose: scenario (`*` for all), contender,
/// whether the rows may differ too (extra statements), and why.
pub struct Waiver {
    pub scenario: &'static str,
    pub contender: &'static str,
    pub rows_may_differ: bool,
    pub reason: &'static str,
}

pub const INTENTIONAL: &[Waiver] = &[
    Waiver {
        scenario: "*",
        contender: "premix",
        rows_may_differ: false,
        reason: "published premix sends its own SQL (SELECT *, inlined LIMIT/OFFSET, quoted \
                 identifiers); measured as a user of it would run it",
    },
    Waiver {
        scenario: "*",
        contender: "seaorm",
        rows_may_differ: false,
        reason: "SeaORM builds its own SQL (qualified, quoted columns; LIMIT bound for one-row \
                 lookups; its own relation loading); measured as a user of it would run it",
    },
    Waiver {
        scenario: "*",
        contender: "raw_join",
        rows_may_differ: true,
        reason: "the one-round-trip reference, not an ORM: one LEFT JOIN returns a row per (user, \
                 post) instead of the users and then their posts; the floor a two-query loader \
                 is compared with",
    },
    Waiver {
        scenario: "update",
        contender: "seaorm",
        rows_may_differ: true,
        reason: "SeaORM's ActiveModel::update re-reads the row with a second SELECT to return the \
                 model (SQLite without its `sqlite-use-returning` feature); that is its API's cost",
    },
    Waiver {
        scenario: "transaction_3_writes",
        contender: "seaorm",
        rows_may_differ: true,
        reason: "SeaORM's ActiveModel::insert and ::update each re-read their row with a second \
                 SELECT inside the transaction; that is its API's cost",
    },
    Waiver {
        scenario: "insert",
        contender: "seaorm",
        rows_may_differ: true,
        reason: "SeaORM's ActiveModel::insert re-reads the row with a second SELECT to return the \
                 model (SQLite without its `sqlite-use-returning` feature); that is its API's cost",
    },
];

/// The verdict on one contender in one scenario.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub statements: Vec<String>,
    pub rows: u64,
    /// Statements the contender left in the emptied statement caches, and
    /// the distinct statement texts it sent.
    pub prepared: usize,
    pub distinct: usize,
    pub same_shape: bool,
    pub same_rows: bool,
    /// Whether it prepares (and caches) all its statements exactly when the
    /// baseline does.
    pub same_policy: bool,
    /// The reason, when a declared waiver covers this contender's difference.
    pub intentional: Option<&'static str>,
}

impl Verdict {
    /// Whether the scenario may be reported for this contender.
    /// A different prepared-statement policy is never waived.
    pub fn reportable(&self) -> bool {
        self.same_policy && ((self.same_rows && self.same_shape) || self.intentional.is_some())
    }

    pub fn label(&self) -> String {
        match (
            self.same_policy,
            self.same_rows,
            self.same_shape,
            self.intentional,
        ) {
            (false, ..) => "FAIL (prepared-statement policy differs)".into(),
            (true, true, true, _) => "pass".into(),
            (true, _, _, Some(_)) => "intentional difference".into(),
            (true, false, _, None) => "FAIL (rows differ)".into(),
            (true, true, false, None) => "FAIL (shape differs)".into(),
        }
    }
}

/// Rows each statement returned, or changed when it returned none (SQLite
/// reports a stale changes count on SELECTs, so the two are not added).
fn rows(statements: &[Statement]) -> u64 {
    statements
        .iter()
        .map(|s| {
            if s.rows_returned > 0 {
                s.rows_returned
            } else {
                s.rows_affected
            }
        })
        .sum()
}

/// Distinct statement texts sent.
fn distinct(statements: &[Statement]) -> usize {
    let mut texts: Vec<&str> = statements.iter().map(|s| s.sql.as_str()).collect();
    texts.sort_unstable();
    texts.dedup();
    texts.len()
}

/// Judges `candidate` against `baseline` in `scenario`: each is the
/// statements sent and the number of statements it left prepared.
pub fn judge(
    scenario: &'static str,
    contender: &'static str,
    (baseline, baseline_prepared): (&[Statement], usize),
    (candidate, prepared): (&[Statement], usize),
) -> Verdict {
    let shapes = |s: &[Statement]| s.iter().map(|s| normalize(&s.sql)).collect::<Vec<_>>();
    let prepares_all = |sent: &[Statement], prepared: usize| prepared >= distinct(sent);
    let statements = shapes(candidate);
    let verdict = Verdict {
        same_shape: statements == shapes(baseline),
        same_rows: rows(candidate) == rows(baseline),
        same_policy: prepares_all(candidate, prepared) == prepares_all(baseline, baseline_prepared),
        rows: rows(candidate),
        prepared,
        distinct: distinct(candidate),
        statements,
        intentional: None,
    };
    let covers = |w: &&Waiver| {
        (w.scenario == "*" || w.scenario == scenario)
            && w.contender == contender
            && (verdict.same_rows || w.rows_may_differ)
    };
    // The narrowest waiver that covers what differs: one that lets rows differ
    // only when they do, a scenario-specific one before a general one.
    let waiver = INTENTIONAL
        .iter()
        .filter(covers)
        .max_by_key(|w| (!w.rows_may_differ, w.scenario != "*"));
    Verdict {
        intentional: (!(verdict.same_rows && verdict.same_shape))
            .then(|| waiver.map(|w| w.reason))
            .flatten(),
        ..verdict
    }
}

/// Checked at start-up (benches have no test harness).
pub fn self_check() {
    let cases = [
        (
            "SELECT id FROM \"users\" WHERE id = $1",
            "select id from users where id = ?",
        ),
        (
            "select  id\n from `users`  where id = ?;",
            "select id from users where id = ?",
        ),
        (
            "INSERT INTO posts (a, b) VALUES ($1, $12)",
            "insert into posts (a, b) values (?, ?)",
        ),
    ];
    for (sql, want) in cases {
        assert_eq!(normalize(sql), want);
    }
}
