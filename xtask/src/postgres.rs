//! A throwaway PostgreSQL cluster for the test run: `initdb` into a temporary
//! directory, `pg_ctl start` on 127.0.0.1 and a free port, and on drop
//! (failure included) `pg_ctl stop` and removal of the directory.
//!
//! `initdb` refuses to run as root, so as root the cluster is created and run
//! as the `postgres` user, which owns the directory.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    pub(crate) url: String,
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

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

impl Cluster {
    /// Starts a cluster, or says why it cannot.
    pub(crate) fn start() -> Result<Self, String> {
        let bin = find_bin().ok_or("no initdb/pg_ctl on PATH or under /usr/lib/postgresql")?;
        let as_postgres = is_root();
        let dir = std::env::temp_dir().join(format!("premix-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("socket"))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        let port = free_port()?;
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
        println!("xtask: PostgreSQL started at {}", cluster.url);
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
                eprintln!("xtask: could not stop PostgreSQL: {e}");
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
