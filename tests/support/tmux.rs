//! A program run in a detached tmux session of a given size, on a private
//! tmux server (its own socket), so that a test can read what it draws
//! (`capture-pane`) and type keys at it. tmux is Debian's `tmux` package.
//!
//! The program runs under `sh`, which writes its exit status to a file:
//! tmux's own record of it (`pane_dead_status`) was seen missing when the
//! pane's terminal closed before tmux reaped the process, and then a test
//! waited for an exit that had happened.

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
    /// Where `sh` writes the program's exit status.
    status: std::path::PathBuf,
}

impl Tmux {
    /// Starts `command` (argv, with `env`) in a `width`×`height` window. The
    /// pane stays after the program exits, so its last screen can be read.
    pub fn start(
        command: &[String],
        env: &[(String, String)],
        width: u16,
        height: u16,
    ) -> anyhow::Result<Tmux> {
        let id = uuid::Uuid::new_v4().simple();
        let tmux = Tmux {
            socket: format!("wst-{id}"),
            status: std::env::temp_dir().join(format!("wst-{id}.status")),
        };
        let mut args: Vec<String> = [
            "new-session",
            "-d",
            "-s",
            "test",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for (k, v) in env {
            args.extend(["-e".into(), format!("{k}={v}")]);
        }
        args.extend(["-e".into(), "TERM=xterm-256color".into()]);
        // `$0` is the program, `$1` the status file, the rest its arguments.
        args.extend([
            "sh".into(),
            "-c".into(),
            r#"status="$1"; shift; "$0" "$@"; echo $? > "$status""#.into(),
        ]);
        args.extend(command.first().cloned());
        args.push(tmux.status.display().to_string());
        args.extend(command.iter().skip(1).cloned());
        tmux.run(&args)?;
        tmux.run(&["set-option", "-t", "test", "remain-on-exit", "on"])?;
        Ok(tmux)
    }

    fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> anyhow::Result<String> {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "tmux failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The screen as text.
    pub fn capture(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "test"])
            .unwrap_or_default()
    }

    /// The screen with its colours, as ANSI escape sequences.
    pub fn capture_ansi(&self) -> String {
        self.run(&["capture-pane", "-p", "-e", "-t", "test"])
            .unwrap_or_default()
    }

    pub fn send_keys(&self, keys: &str) -> anyhow::Result<()> {
        self.run(&["send-keys", "-t", "test", keys]).map(|_| ())
    }

    /// Polls the screen until `check` holds; returns the screen, or `Err`
    /// with the last screen past `within`.
    pub async fn wait_for(
        &self,
        within: Duration,
        check: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        let started = Instant::now();
        loop {
            let screen = self.capture();
            if check(&screen) {
                return Ok(screen);
            }
            if started.elapsed() > within {
                return Err(screen);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The program's exit status, once it exited (128 + N: killed by
    /// signal N).
    pub fn exit_status(&self) -> Option<i32> {
        std::fs::read_to_string(&self.status)
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
        let _ = std::fs::remove_file(&self.status);
    }
}
