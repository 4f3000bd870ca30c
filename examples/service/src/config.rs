//! Command-line configuration. A parser that rejects what it does not know,
//! so a typo is an error rather than a default silently taken.

use std::net::SocketAddr;

/// What `service --help` prints.
pub const USAGE: &str = "usage: service [--listen ADDR] [--metrics ADDR] [--database URL] [--schema NAME] [--pool N]

  --listen ADDR     the API (default 127.0.0.1:8080)
  --metrics ADDR    /metrics and /snapshot, with the `instrument` feature (default 127.0.0.1:9464)
  --database URL    postgres://... (default: $DATABASE_URL), or sqlite::memory: / sqlite://FILE for embedded SQLite
  --schema NAME     PostgreSQL: keep the tables in this schema (created if missing)
  --pool N          most connections in the pool (default 8; in-memory SQLite always has one)";

/// How the service runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Where the API listens.
    pub listen: SocketAddr,
    /// Where `/metrics` and `/snapshot` are served (with `instrument`).
    pub metrics: SocketAddr,
    /// The database URL: `postgres://...` or `sqlite:...`.
    pub database: String,
    /// PostgreSQL schema for the tables, if not the default.
    pub schema: Option<String>,
    /// Most connections in the pool.
    pub pool_size: u32,
}

impl Config {
    /// Parses `args` (without the program name); `database_url` is
    /// `$DATABASE_URL`, the default database.
    ///
    /// # Errors
    /// An unknown flag, a missing or malformed value, or no database at all;
    /// the message says what is accepted.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        database_url: Option<String>,
    ) -> Result<Self, String> {
        let mut listen = "127.0.0.1:8080".to_owned();
        let mut metrics = "127.0.0.1:9464".to_owned();
        let mut database = database_url;
        let mut schema = None;
        let mut pool_size = "8".to_owned();
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || {
                args.next()
                    .ok_or_else(|| format!("{flag} needs a value\n\n{USAGE}"))
            };
            match flag.as_str() {
                "--listen" => listen = value()?,
                "--metrics" => metrics = value()?,
                "--database" => database = Some(value()?),
                "--schema" => schema = Some(value()?),
                "--pool" => pool_size = value()?,
                "-h" | "--help" => return Err(USAGE.to_owned()),
                other => return Err(format!("unknown argument `{other}`\n\n{USAGE}")),
            }
        }
        let address = |flag: &str, text: &str| {
            text.parse::<SocketAddr>()
                .map_err(|_| format!("{flag} takes IP:PORT, got `{text}`"))
        };
        let database = database.ok_or_else(|| {
            format!("no database: set DATABASE_URL or pass --database (sqlite::memory: for embedded SQLite)\n\n{USAGE}")
        })?;
        if !(database.starts_with("postgres") || database.starts_with("sqlite:")) {
            return Err(format!(
                "--database takes postgres://... or sqlite:..., got `{database}`"
            ));
        }
        if let Some(name) = &schema
            && (name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
        {
            return Err(format!(
                "--schema takes lower-case letters, digits and _, got `{name}`"
            ));
        }
        Ok(Self {
            listen: address("--listen", &listen)?,
            metrics: address("--metrics", &metrics)?,
            database,
            schema,
            pool_size: pool_size
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("--pool takes a positive number, got `{pool_size}`"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env: Option<&str>) -> Result<Config, String> {
        Config::parse(args.iter().map(|a| (*a).to_owned()), env.map(str::to_owned))
    }

    #[test]
    fn defaults_and_overrides() {
        let config = parse(&[], Some("postgres://db")).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.metrics.to_string(), "127.0.0.1:9464");
        assert_eq!(config.database, "postgres://db");
        assert_eq!(config.pool_size, 8);

        let config = parse(
            &[
                "--database",
                "sqlite::memory:",
                "--listen",
                "127.0.0.1:1",
                "--schema",
                "fleet_1",
                "--pool",
                "2",
            ],
            Some("postgres://db"),
        )
        .unwrap();
        assert_eq!(config.database, "sqlite::memory:");
        assert_eq!(config.schema.as_deref(), Some("fleet_1"));
        assert_eq!(config.pool_size, 2);
    }

    #[test]
    fn refusals_say_what_is_accepted() {
        let cases: &[(&[&str], Option<&str>, &str)] = &[
            (&[], None, "no database"),
            (
                &["--port", "1"],
                Some("sqlite::memory:"),
                "unknown argument `--port`",
            ),
            (
                &["--listen"],
                Some("sqlite::memory:"),
                "--listen needs a value",
            ),
            (
                &["--listen", "localhost"],
                Some("sqlite::memory:"),
                "IP:PORT",
            ),
            (&["--pool", "0"], Some("sqlite::memory:"), "positive number"),
            (
                &["--database", "mysql://x"],
                None,
                "postgres://... or sqlite:",
            ),
            (&["--schema", "a;b"], Some("postgres://x"), "lower-case"),
        ];
        for (args, env, message) in cases {
            let error = parse(args, *env).unwrap_err();
            assert!(error.contains(message), "{args:?}: {error}");
        }
    }
}
