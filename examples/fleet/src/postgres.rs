//! A throwaway PostgreSQL cluster, for the test run, the benches and the
//! service's chores when `DATABASE_URL` names no database: `initdb` into a
//! temporary directory, `pg_ctl start` on 127.0.0.1 and a free port, and on
//! drop (failure included) `pg_ctl stop` and removal of the directory.
//!
//! `initdb` refuses to run as root, so as root the cluster is created and run
//! as the `postgres` user, which owns the directory.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A running cluster; stopped and removed when dropped.
#[derive(Debug)]
pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    /// Its URL: user `postgres`, database `postgres`, trust authentication.
    pub url: String,
}

/// `DATABASE_URL`, or a throwaway cluster when it is not set (kept running
/// by the returned guard).
///
/// # Errors
/// `DATABASE_URL` is not set and no cluster could be started.
pub fn database() -> Result<(Option<Cluster>, String), String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) => Ok((None, url)),
        Err(_) => {
            let cluster = Cluster::start()?;
            let url = cluster.url.clone();
            Ok((Some(cluster), url))
        }
    }
}

/// The directory holding `initdb` and `pg_ctl`: on PATH, or Debian's.
fn find_bin() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"));
    on_path
        .chain(debian)
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Cluster {
    /// Starts a cluster.
    ///
    /// # Errors
    /// No `initdb`/`pg_ctl` was found, or they failed (with their output).
    pub fn start() -> Result<Self, String> {
        let bin = find_bin().ok_or("no initdb/pg_ctl on PATH or under /usr/lib/postgresql")?;
        let as_postgres = is_root();
        // One directory per cluster: a process may run two at once.
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("premix-pg-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("socket"))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        let port = crate::process::free_loopback()?.port();
        let mut cluster = Self {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            dir,
            bin,
            as_postgres,
        };
        if as_postgres {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&cluster.dir))?;
        }
        let data = cluster.dir.join("data");
        cluster.pg("initdb", |c| {
            c.arg("-D").arg(&data);
            c.args(["-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
        })?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c full_page_writes=off",
            cluster.dir.join("socket").display()
        );
        let log = cluster.dir.join("server.log");
        cluster.pg("pg_ctl", |c| {
            c.arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .arg("-o")
                .arg(&options);
            c.args(["-w", "-t", "60", "start"]);
        })?;
        println!("PostgreSQL started at {}", cluster.url);
        Ok(cluster)
    }

    fn pg(&mut self, tool: &str, args: impl FnOnce(&mut Command)) -> Result<(), String> {
        let program = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        command.current_dir(&self.dir);
        args(&mut command);
        run(&mut command)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        if Path::new(&data).join("postmaster.pid").exists() {
            let stopped = self.pg("pg_ctl", |c| {
                c.arg("-D")
                    .arg(&data)
                    .args(["-m", "immediate", "-w", "stop"]);
            });
            if let Err(e) = stopped {
                eprintln!("could not stop PostgreSQL: {e}");
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
