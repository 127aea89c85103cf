//! The one backoff policy: every retry in wirestream waits by it.
//!
//! An error is either transient (the broker or the database is away, a
//! timeout, a serialization failure, a deadlock, a lock wait) or permanent
//! (a property of the data). Only transient errors are retried; the caller
//! dead-letters the item of a permanent one. Pauses double from `initial` up
//! to `max`, each shortened by a random share of up to `jitter`, so that the
//! replicas that lost a dependency together do not come back in step.

use std::future::Future;
use std::hash::{BuildHasher as _, RandomState};
use std::time::Duration;

use tokio::time::Instant;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::ops::{Heartbeat, Readiness};

/// `[retry]`: how every stage waits between tries of a transient failure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// The first pause.
    #[serde(with = "humantime_serde")]
    pub initial: Duration,
    /// The longest pause.
    #[serde(with = "humantime_serde")]
    pub max: Duration,
    /// Up to this share of each pause is taken off at random (0 to 1).
    pub jitter: f64,
    /// Once a transient failure has lasted this long, `/ready` answers 503
    /// until the operation succeeds.
    #[serde(with = "humantime_serde")]
    pub unready_after: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(10),
            jitter: 0.2,
            unready_after: Duration::from_secs(30),
        }
    }
}

/// Whether an error may pass by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Retry later: the dependency is away or busy.
    Transient,
    /// Retrying cannot help: the item goes to the dead letters.
    Permanent,
}

/// The pauses of one run of retries.
#[derive(Debug, Clone)]
pub struct Backoff {
    config: RetryConfig,
    next: Duration,
    random: RandomState,
    draws: u64,
}

impl Backoff {
    pub fn new(config: RetryConfig) -> Self {
        Backoff {
            config,
            next: config.initial,
            random: RandomState::new(),
            draws: 0,
        }
    }

    /// Pauses from `initial`, doubling up to `max`, with the default jitter:
    /// for the loops that wait on something other than a stage's dependency
    /// (the spool folder and the feeds on the broker, the CLI on ingest).
    pub fn between(initial: Duration, max: Duration) -> Self {
        Backoff::new(RetryConfig {
            initial,
            max,
            ..RetryConfig::default()
        })
    }

    /// The pause before the next try: the current step less its jitter.
    pub fn next_pause(&mut self) -> Duration {
        let step = self.next.min(self.config.max);
        self.next = (step * 2).min(self.config.max.max(self.config.initial));
        self.draws += 1;
        let unit = (self.random.hash_one(self.draws) >> 11) as f64 / (1u64 << 53) as f64;
        let jitter = self.config.jitter.clamp(0.0, 1.0);
        step.mul_f64(1.0 - jitter * unit)
    }

    /// Back to the first step, after a success.
    pub fn reset(&mut self) {
        self.next = self.config.initial;
    }
}

/// A [`RetryConfig`] and, optionally, the readiness check to fail while a
/// transient failure lasts longer than `unready_after`, and the heartbeat to
/// beat at every try (a stage that keeps trying is alive, see [`Heartbeat`]).
#[derive(Clone, Default)]
pub struct Policy {
    config: RetryConfig,
    readiness: Option<(Readiness, &'static str)>,
    heartbeat: Option<Heartbeat>,
}

impl Policy {
    pub fn new(config: RetryConfig) -> Self {
        Policy {
            config,
            ..Policy::default()
        }
    }

    /// Reports long failures as the `check` readiness check of `readiness`.
    pub fn reporting_to(mut self, readiness: Readiness, check: &'static str) -> Self {
        self.readiness = Some((readiness, check));
        self
    }

    /// Beats `heartbeat` after every try.
    pub fn beating(mut self, heartbeat: Heartbeat) -> Self {
        self.heartbeat = Some(heartbeat);
        self
    }

    pub fn config(&self) -> RetryConfig {
        self.config
    }

    /// The state of one run of retries of `what`, for loops that cannot be
    /// written as a closure (their operation borrows the caller mutably).
    pub fn attempts<'a>(&'a self, what: &'a str) -> Attempts<'a> {
        Attempts {
            policy: self,
            what,
            backoff: Backoff::new(self.config),
            failing_since: None,
            reported: false,
            attempt: 1,
        }
    }

    /// Runs `op` until it succeeds or fails with an error `classify` calls
    /// permanent, waiting by the policy between tries. Returns `None` when
    /// shutdown fired first: the caller leaves the work undone (its offsets
    /// unstored), to be read again.
    pub async fn run<T, E, F, Fut>(
        &self,
        what: &str,
        shutdown: &CancellationToken,
        classify: impl Fn(&E) -> ErrorClass,
        mut op: F,
    ) -> Option<Result<T, E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: std::fmt::Display,
    {
        let mut attempts = self.attempts(what);
        loop {
            let outcome = tokio::select! {
                _ = shutdown.cancelled() => return None,
                outcome = op() => outcome,
            };
            match outcome {
                Err(error) if classify(&error) == ErrorClass::Transient => {
                    if !attempts.failed(&error, shutdown).await {
                        return None;
                    }
                }
                outcome => {
                    attempts.done();
                    return Some(outcome);
                }
            }
        }
    }

    fn report(&self, outcome: Result<(), String>) {
        if let Some((readiness, check)) = &self.readiness {
            readiness.set(check, outcome);
        }
    }
}

/// One run of retries: call [`Attempts::failed`] after each transient
/// failure, and [`Attempts::done`] once the operation succeeded or failed for good.
pub struct Attempts<'a> {
    policy: &'a Policy,
    what: &'a str,
    backoff: Backoff,
    failing_since: Option<Instant>,
    reported: bool,
    attempt: u32,
}

impl Attempts<'_> {
    /// Logs and counts a transient failure, fails readiness once it has
    /// lasted `unready_after`, and sleeps the next pause. `false` when
    /// shutdown came first.
    pub fn failed(
        &mut self,
        error: &dyn std::fmt::Display,
        shutdown: &CancellationToken,
    ) -> impl Future<Output = bool> + Send + 'static {
        // The bookkeeping happens now, so that the future holds only the
        // pause and the token (and stays `Send` whatever the error is).
        if let Some(heartbeat) = &self.policy.heartbeat {
            heartbeat.beat();
        }
        let since = *self.failing_since.get_or_insert_with(Instant::now);
        if since.elapsed() >= self.policy.config.unready_after {
            self.reported = true;
            self.policy.report(Err(format!(
                "{} has failed for {}s: {error}",
                self.what,
                since.elapsed().as_secs()
            )));
        }
        let pause = self.backoff.next_pause();
        let (what, attempt) = (self.what, self.attempt);
        tracing::warn!(%error, attempt, retry_in = ?pause, "{what} failed, retrying");
        metrics::counter!("wirestream_retries_total", "operation" => what.to_owned()).increment(1);
        self.attempt += 1;
        let shutdown = shutdown.clone();
        async move {
            tokio::select! {
                _ = shutdown.cancelled() => false,
                _ = tokio::time::sleep(pause) => true,
            }
        }
    }

    /// The operation is over: readiness recovers if this run had failed it.
    pub fn done(self) {
        if let Some(heartbeat) = &self.policy.heartbeat {
            heartbeat.beat();
        }
        if self.reported {
            self.policy.report(Ok(()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    const CONFIG: RetryConfig = RetryConfig {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(1),
        jitter: 0.5,
        unready_after: Duration::from_millis(500),
    };

    #[test]
    fn pauses_double_up_to_the_cap_with_jitter_below_each_step() {
        let mut backoff = Backoff::new(CONFIG);
        let steps = [100, 200, 400, 800, 1000, 1000];
        for step in steps {
            let pause = backoff.next_pause();
            let step = Duration::from_millis(step);
            assert!(pause <= step && pause >= step / 2, "{pause:?} for {step:?}");
        }
        backoff.reset();
        assert!(backoff.next_pause() <= Duration::from_millis(100));
    }

    #[test]
    fn no_jitter_gives_the_steps_themselves() {
        let mut backoff = Backoff::new(RetryConfig {
            jitter: 0.0,
            ..CONFIG
        });
        let pauses: Vec<_> = (0..4).map(|_| backoff.next_pause().as_millis()).collect();
        assert_eq!(pauses, [100, 200, 400, 800]);
    }

    #[tokio::test(start_paused = true)]
    async fn transient_errors_are_retried_and_flip_readiness_while_they_last() {
        let readiness = Readiness::new();
        readiness.set("kafka", Ok(()));
        let policy = Policy::new(CONFIG).reporting_to(readiness.clone(), "stage");
        let tries = Cell::new(0);
        let seen_unready = Cell::new(false);
        let result = policy
            .run(
                "write",
                &CancellationToken::new(),
                |_: &String| ErrorClass::Transient,
                || {
                    tries.set(tries.get() + 1);
                    if !readiness.is_ready() {
                        seen_unready.set(true);
                    }
                    let n = tries.get();
                    async move {
                        if n < 8 {
                            Err(format!("try {n}"))
                        } else {
                            Ok(n)
                        }
                    }
                },
            )
            .await;
        assert_eq!(result, Some(Ok(8)));
        assert!(seen_unready.get(), "a long outage fails /ready");
        assert!(readiness.is_ready(), "success makes it ready again");
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_errors_return_at_once_and_shutdown_stops_the_retries() {
        let policy = Policy::new(CONFIG);
        let tries = Cell::new(0);
        let result: Option<Result<(), &str>> = policy
            .run(
                "write",
                &CancellationToken::new(),
                |_| ErrorClass::Permanent,
                || {
                    tries.set(tries.get() + 1);
                    async { Err("refused") }
                },
            )
            .await;
        assert_eq!((result, tries.get()), (Some(Err("refused")), 1));

        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        let result: Option<Result<(), &str>> = policy
            .run(
                "write",
                &shutdown,
                |_| ErrorClass::Transient,
                || {
                    stop.cancel();
                    async { Err("away") }
                },
            )
            .await;
        assert_eq!(result, None);
    }
}
