//! Processes the fleet starts: each one held by a guard that stops it when
//! dropped (so a failed check or a panic leaves nothing running), with its
//! output in a log file that a failure can show.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A running child process; killed when dropped.
#[derive(Debug)]
pub struct Running {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Running {
    /// Starts `command` as `name`, its stdout and stderr going to `log`.
    ///
    /// # Errors
    /// The log cannot be created or the program cannot be started.
    pub fn spawn(name: &str, command: &mut Command, log: &Path) -> Result<Self, String> {
        let out = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {name} ({command:?}): {e}"))?;
        Ok(Self {
            name: name.to_owned(),
            child,
            log: log.to_path_buf(),
        })
    }

    /// Its process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last lines of its log, for error messages.
    #[must_use]
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(15);
        format!(
            "--- last lines of {} ({}):\n{}",
            self.name,
            self.log.display(),
            lines[from..].join("\n")
        )
    }

    /// Fails with its log when it has exited.
    ///
    /// # Errors
    /// The process is no longer running.
    pub fn check_alive(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!(
                "{} exited ({status})\n{}",
                self.name,
                self.log_tail()
            )),
            Err(e) => Err(format!("{}: {e}", self.name)),
        }
    }

    /// Sends SIGTERM and waits for it to exit, at most `timeout` (then it is
    /// killed, and that is an error).
    ///
    /// # Errors
    /// It did not exit in time, or exited with a failure.
    pub async fn terminate(&mut self, timeout: Duration) -> Result<ExitStatus, String> {
        self.stop_with("TERM", timeout).await
    }

    /// Sends `signal` (`TERM`, `INT`, ...) and waits for it to exit, at most
    /// `timeout` (then it is killed, and that is an error).
    ///
    /// # Errors
    /// It did not exit in time, or exited with a failure.
    pub async fn stop_with(
        &mut self,
        signal: &str,
        timeout: Duration,
    ) -> Result<ExitStatus, String> {
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return if status.success() {
                    Ok(status)
                } else {
                    Err(format!(
                        "{} exited with {status}\n{}",
                        self.name,
                        self.log_tail()
                    ))
                };
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Err(format!(
                    "{} did not stop within {timeout:?} of SIGTERM",
                    self.name
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A free port on 127.0.0.1 (free when asked; the caller binds it soon).
///
/// # Errors
/// No port could be had.
pub fn free_loopback() -> Result<SocketAddr, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener.local_addr().map_err(|e| e.to_string())
}

/// A directory for one run's configs, data and logs; removed when dropped.
#[derive(Debug)]
pub struct WorkDir(PathBuf);

impl WorkDir {
    /// A fresh directory named after `prefix` under the system's temp dir.
    ///
    /// # Errors
    /// It cannot be created.
    pub fn new(prefix: &str) -> Result<Self, String> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Self(dir))
    }

    /// Its path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Waits until `GET url` answers 200 (at most `timeout`), failing early if
/// `process` exits.
///
/// # Errors
/// The process exited, or no 200 came in time.
pub async fn wait_ready(
    client: &reqwest::Client,
    url: &str,
    process: &mut Running,
    timeout: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        process.check_alive()?;
        if let Ok(response) = client.get(url).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{url} not ready within {timeout:?}\n{}",
                process.log_tail()
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
