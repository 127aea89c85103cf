//! A private PostgreSQL cluster for one test, to stop and start for real
//! without touching the local stack's cluster that other tests share.
//!
//! PostgreSQL refuses to run as root: as root, the cluster folder belongs to
//! the `postgres` user and its commands run through `runuser`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;

pub struct Postgres {
    pub port: u16,
    bin: PathBuf,
    /// Holds the cluster; removed (after a stop) when dropped.
    dir: tempfile::TempDir,
}

impl Postgres {
    /// initdb into a temporary folder and start on a free port, with trust
    /// authentication on 127.0.0.1 and a superuser named `wirestream`.
    pub fn start() -> anyhow::Result<Postgres> {
        let bin = bindir()?;
        let dir = tempfile::Builder::new()
            .prefix("wirestream-pg-")
            .tempdir_in("/tmp")?;
        if is_root() {
            // The postgres user owns its cluster and must reach the folder.
            let owner = Command::new("chown")
                .arg("postgres:")
                .arg(dir.path())
                .status()
                .context("chown")?;
            anyhow::ensure!(
                owner.success(),
                "chown postgres: {} failed",
                dir.path().display()
            );
        }
        let postgres = Postgres {
            port: crate::unused_port(),
            bin,
            dir,
        };
        postgres.run(
            "initdb",
            &[
                "-D",
                &postgres.data().display().to_string(),
                "-U",
                "wirestream",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
        )?;
        let conf = format!(
            "listen_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\n\
             max_connections = 100\nfsync = off\nfull_page_writes = off\n",
            postgres.port,
            postgres.dir.path().display()
        );
        let file = postgres.data().join("postgresql.conf");
        let mut text = std::fs::read_to_string(&file).context("postgresql.conf")?;
        text.push_str(&conf);
        std::fs::write(&file, text)?;
        postgres.ctl(&["start"])?;
        Ok(postgres)
    }

    /// The admin URL (database `postgres`); the harness creates its own database.
    pub fn url(&self) -> String {
        format!("postgres://wirestream@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl restart -m fast`: every connection is closed, the server is
    /// away for as long as the restart takes, then accepts connections again.
    pub fn restart(&self) -> anyhow::Result<()> {
        self.ctl(&["restart", "-m", "fast"])
    }

    pub fn stop(&self) -> anyhow::Result<()> {
        self.ctl(&["stop", "-m", "fast"])
    }

    pub fn start_again(&self) -> anyhow::Result<()> {
        self.ctl(&["start"])
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn ctl(&self, args: &[&str]) -> anyhow::Result<()> {
        let data = self.data().display().to_string();
        let log = self.dir.path().join("postgres.log").display().to_string();
        let mut all = vec!["-D", &data, "-l", &log, "-w", "-t", "60"];
        all.extend_from_slice(args);
        self.run("pg_ctl", &all).map_err(|error| {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: String = tail.lines().rev().take(20).collect::<Vec<_>>().join("\n");
            anyhow::anyhow!("{error}\n(newest log lines first)\n{tail}")
        })
    }

    fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let path = self.bin.join(program);
        let output = if is_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&path)
                .args(args)
                .output()
        } else {
            Command::new(&path).args(args).output()
        }
        .with_context(|| format!("failed to run {}", path.display()))?;
        anyhow::ensure!(
            output.status.success(),
            "{program} {} failed: {}\n{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(())
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Immediate mode: the test is over, nothing needs to be kept.
        let _ = self.ctl(&["stop", "-m", "immediate"]);
    }
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The server binaries: `pg_config --bindir`, else Debian's newest.
fn bindir() -> anyhow::Result<PathBuf> {
    let from_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .filter(|dir| dir.join("initdb").exists());
    if let Some(dir) = from_config {
        return Ok(dir);
    }
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| entries.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    candidates.sort();
    candidates
        .into_iter()
        .rev()
        .find(|dir| Path::new(dir).join("initdb").exists())
        .context("PostgreSQL's server binaries (initdb, pg_ctl) are missing")
}
