//! A private PostgreSQL cluster for one test, to stop and start for real
//! without touching the local stack's cluster that other tests share.
//!
//! PostgreSQL refuses to run as root: as root, the cluster folder belongs to
//! the `postgres` user and its commands run through `runuser`.
//!
//! [`Postgres::start_secure`] starts one as production would have it: TLS
//! with a certificate made by the test, and `scram-sha-256` passwords over
//! TLS only.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;

pub struct Postgres {
    pub port: u16,
    /// The superuser's password and the CA that signed the server's
    /// certificate, for a [`Postgres::start_secure`] cluster.
    secure: Option<(String, PathBuf)>,
    bin: PathBuf,
    /// Holds the cluster; removed (after a stop) when dropped.
    dir: tempfile::TempDir,
}

impl Postgres {
    /// initdb into a temporary folder and start on a free port, with trust
    /// authentication on 127.0.0.1 and a superuser named `wirestream`.
    pub fn start() -> anyhow::Result<Postgres> {
        Postgres::start_with(None)
    }

    /// [`Postgres::start`] with `ssl = on` (the certificate and key of
    /// `certs`, which this hands to the `postgres` user), and a `pg_hba.conf`
    /// that takes only TLS connections from 127.0.0.1, with a
    /// `scram-sha-256` password: the superuser `wirestream`'s is `password`.
    /// A plain TCP connection is rejected.
    pub fn start_secure(certs: &crate::certs::Certs, password: &str) -> anyhow::Result<Postgres> {
        Postgres::start_with(Some((certs, password)))
    }

    fn start_with(secure: Option<(&crate::certs::Certs, &str)>) -> anyhow::Result<Postgres> {
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
            secure: secure.map(|(certs, password)| (password.to_owned(), certs.ca.clone())),
            bin,
            dir,
        };
        let data = postgres.data().display().to_string();
        let mut initdb = vec![
            "-D",
            &data,
            "-U",
            "wirestream",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ];
        let pwfile = postgres.dir.path().join("pwfile");
        let pwfile_arg = format!("--pwfile={}", pwfile.display());
        if let Some((_, password)) = secure {
            // Read by initdb as the postgres user: the folder is its.
            std::fs::write(&pwfile, format!("{password}\n"))?;
            initdb.extend([
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                &pwfile_arg,
            ]);
        } else {
            initdb.push("--auth=trust");
        }
        postgres.run("initdb", &initdb)?;
        let _ = std::fs::remove_file(&pwfile);
        let mut conf = format!(
            "listen_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\n\
             max_connections = 100\nfsync = off\nfull_page_writes = off\n",
            postgres.port,
            postgres.dir.path().display()
        );
        if let Some((certs, _)) = secure {
            use std::os::unix::fs::PermissionsExt as _;
            // PostgreSQL refuses a key that others can read.
            std::fs::set_permissions(&certs.key, std::fs::Permissions::from_mode(0o600))?;
            certs.give_to("postgres")?;
            conf.push_str(&format!(
                "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n\
                 password_encryption = 'scram-sha-256'\n",
                certs.cert.display(),
                certs.key.display()
            ));
            // First match wins: TLS with a password, and nothing else over TCP.
            let hba = "local all all trust\n\
                       hostssl all all 127.0.0.1/32 scram-sha-256\n\
                       host all all 127.0.0.1/32 reject\n";
            std::fs::write(postgres.data().join("pg_hba.conf"), hba)?;
        }
        let file = postgres.data().join("postgresql.conf");
        let mut text = std::fs::read_to_string(&file).context("postgresql.conf")?;
        text.push_str(&conf);
        std::fs::write(&file, text)?;
        postgres.ctl(&["start"])?;
        Ok(postgres)
    }

    /// The admin URL (database `postgres`); the harness creates its own
    /// database. For a secure cluster: with the password, `verify-full` and
    /// the CA file.
    pub fn url(&self) -> String {
        match &self.secure {
            None => format!("postgres://wirestream@127.0.0.1:{}/postgres", self.port),
            Some((password, ca)) => format!(
                "postgres://wirestream:{password}@127.0.0.1:{}/postgres?sslmode=verify-full&sslrootcert={}",
                self.port,
                ca.display()
            ),
        }
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
