//! PostgreSQL's CPU time, read from /proc: the postmaster, its live
//! children, and what it collected from children that exited. The ceiling
//! reports it per method, so that `make bench` can compare the work
//! PostgreSQL does per article in the pipeline with the work it does alone.

use std::time::Duration;

/// Reads CPU time of one PostgreSQL server (Linux only; none elsewhere or
/// when the pid cannot be read).
pub struct PgCpu {
    postmaster: u32,
    hz: f64,
}

impl PgCpu {
    /// `postmaster`: the first line of the data folder's `postmaster.pid`.
    pub fn new(postmaster: u32) -> Self {
        PgCpu {
            postmaster,
            // CLK_TCK is 100 on every Linux this runs on; /proc reports ticks.
            hz: 100.0,
        }
    }

    /// User plus system time so far, children included.
    pub fn used(&self) -> Option<Duration> {
        let own = fields(self.postmaster)?;
        // utime, stime, cutime, cstime: fields 14-17 (1-based) of stat.
        let mut ticks: u64 = own
            .get(11..15)?
            .iter()
            .filter_map(|f| f.parse::<u64>().ok())
            .sum();
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Some(stat) = fields(pid) else { continue };
            // ppid is field 4; the list starts after the command (field 3).
            if stat.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(self.postmaster) {
                ticks += stat
                    .get(11..13)?
                    .iter()
                    .filter_map(|f| f.parse::<u64>().ok())
                    .sum::<u64>();
            }
        }
        Some(Duration::from_secs_f64(ticks as f64 / self.hz))
    }
}

/// The fields of /proc/PID/stat after the command name (which may hold
/// spaces): index 0 is the state, 1 the parent, 11 and 12 user and system
/// ticks, 13 and 14 those of waited-for children.
fn fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    fields_of(&stat)
}

/// [`fields`] of one stat line: after the last `)`, since a command such as
/// `postgres: wal writer` or `(sd-pam)` holds spaces and parentheses.
fn fields_of(stat: &str) -> Option<Vec<String>> {
    let after = stat.rsplit_once(')')?.1;
    Some(after.split_whitespace().map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_with_spaces_and_parentheses_is_skipped() {
        let line = "4242 (postgres: (wal) writer) S 17 4242 4242 0 -1 4194368 \
                    90 0 0 0 31 7 5 2 20 0 1 0 300 1000 200";
        let f = fields_of(line).expect("parses");
        assert_eq!(f[0], "S");
        assert_eq!(f[1], "17", "the parent");
        assert_eq!(
            &f[11..15],
            ["31", "7", "5", "2"],
            "utime stime cutime cstime"
        );
        assert_eq!(fields_of("no command here"), None);
    }

    #[test]
    fn this_process_read_as_a_postmaster_shows_its_cpu_growing() {
        // Any process will do: its own time is counted. Ticks are 10 ms,
        // so spin until one passes (or give up after 10 s of wall time).
        let cpu = PgCpu::new(std::process::id());
        let before = cpu.used().expect("readable on Linux");
        let started = std::time::Instant::now();
        let mut x = 0u64;
        while cpu.used().expect("readable") <= before {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no CPU time counted"
            );
            for n in 0..1_000_000u64 {
                x = x.wrapping_add(n * n);
            }
            std::hint::black_box(x);
        }
    }
}
