//! `--name value` options of a task, checked against the names the task
//! accepts: an unknown flag or a malformed number is an error, never a
//! default taken silently.

use std::collections::BTreeMap;
use std::str::FromStr;

/// A task's parsed options.
pub(crate) struct Flags {
    values: BTreeMap<&'static str, String>,
    switches: Vec<&'static str>,
}

impl Flags {
    /// Reads `args`: `options` take a value, `switches` do not.
    pub(crate) fn parse(
        args: &[String],
        options: &[&'static str],
        switches: &[&'static str],
        usage: &str,
    ) -> Result<Self, String> {
        let mut flags = Self {
            values: BTreeMap::new(),
            switches: Vec::new(),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            if let Some(name) = switches.iter().find(|s| **s == arg) {
                flags.switches.push(name);
            } else if let Some(name) = options.iter().find(|o| **o == arg) {
                let value = args
                    .next()
                    .ok_or_else(|| format!("{name} needs a value\n\n{usage}"))?;
                flags.values.insert(name, value.clone());
            } else {
                return Err(format!("unknown argument `{arg}`\n\n{usage}"));
            }
        }
        Ok(flags)
    }

    /// The value of `name` parsed as a `T`, or `default`.
    pub(crate) fn number<T: FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.values.get(name) {
            None => Ok(default),
            Some(text) => text
                .parse()
                .map_err(|_| format!("{name} takes a number, got `{text}`")),
        }
    }

    /// The value of `name`, if given.
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Whether the switch `name` was given.
    pub(crate) fn switch(&self, name: &str) -> bool {
        self.switches.contains(&name)
    }
}

#[cfg(test)]
mod tests {
    use super::Flags;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn known_flags_are_read_and_others_refused() {
        let flags = Flags::parse(
            &args(&["--clients", "4", "--sqlite"]),
            &["--clients"],
            &["--sqlite"],
            "usage",
        )
        .unwrap();
        assert_eq!(flags.number("--clients", 8_usize).unwrap(), 4);
        assert_eq!(flags.number("--seed", 14_u64).unwrap(), 14);
        assert!(flags.switch("--sqlite"));
        let refused = |list: &[&str]| Flags::parse(&args(list), &["--clients"], &[], "usage");
        assert!(refused(&["--client", "4"]).is_err_and(|e| e.contains("unknown argument")));
        assert!(refused(&["--clients"]).is_err_and(|e| e.contains("needs a value")));
        let flags = refused(&["--clients", "many"]).unwrap();
        assert!(flags.number("--clients", 1_usize).is_err());
    }
}
