//! The programs a fleet needs, found on PATH: Debian's `prometheus` (with
//! `promtool`) and `victoria-metrics`. Installing them is the caller's job
//! (`cargo xtask` does, with apt, as root), so the tests never install.

use std::path::PathBuf;

/// Where the tools are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tools {
    /// `prometheus`
    pub prometheus: PathBuf,
    /// `promtool`
    pub promtool: PathBuf,
    /// `victoria-metrics` (the single-node server)
    pub victoria_metrics: PathBuf,
}

/// `tool` on PATH, if there.
#[must_use]
pub fn on_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
}

impl Tools {
    /// Finds every tool.
    ///
    /// # Errors
    /// Names the missing ones and how to get them.
    pub fn find() -> Result<Self, String> {
        let find = |tool: &str| on_path(tool).ok_or_else(|| tool.to_owned());
        match (
            find("prometheus"),
            find("promtool"),
            find("victoria-metrics"),
        ) {
            (Ok(prometheus), Ok(promtool), Ok(victoria_metrics)) => Ok(Self {
                prometheus,
                promtool,
                victoria_metrics,
            }),
            (a, b, c) => {
                let missing: Vec<String> = [a, b, c].into_iter().filter_map(Result::err).collect();
                Err(format!(
                    "not on PATH: {} (Debian packages prometheus and victoria-metrics; \
                     `cargo xtask test` and `cargo xtask fleet` install them)",
                    missing.join(", ")
                ))
            }
        }
    }
}
