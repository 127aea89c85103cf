//! Finding the items a batch operation refuses, so that one bad row does
//! not cost its neighbours: the batch is applied whole, and when it fails
//! for good it is split in halves, recursively, down to the items that fail
//! alone. A batch with one bad item costs about 2·log2(n) extra tries.

use super::Context;
use crate::retry::ErrorClass;

/// An operation over a batch of items that can fail transiently (retried)
/// or permanently (isolated).
#[allow(async_fn_in_trait)]
pub trait BatchOp<T> {
    type Error: std::fmt::Display;

    fn classify(&self, error: &Self::Error) -> ErrorClass;

    async fn apply(&mut self, items: &mut [T]) -> Result<(), Self::Error>;
}

/// Applies `op` to `items`, retrying transient failures by the context's
/// policy and splitting on permanent ones. Returns the items refused on
/// their own, by index (ascending), with the error; the others were applied.
/// Chunks are contiguous ranges, so `op` always sees items in batch order.
/// `None` when shutdown came first.
pub async fn isolate<T, O: BatchOp<T>>(
    op: &mut O,
    items: &mut [T],
    what: &str,
    cx: &Context,
) -> Option<Vec<(usize, O::Error)>> {
    let mut refused = Vec::new();
    // Ranges still to apply, the next one last.
    let mut pending = Vec::with_capacity(8);
    pending.push(0..items.len());
    while let Some(range) = pending.pop() {
        if range.is_empty() {
            continue;
        }
        let mut attempts = cx.policy.attempts(what);
        let outcome = loop {
            let chunk = &mut items[range.clone()];
            let outcome = tokio::select! {
                _ = cx.shutdown.cancelled() => return None,
                outcome = op.apply(chunk) => outcome,
            };
            match outcome {
                Err(error) if op.classify(&error) == ErrorClass::Transient => {
                    if !attempts.failed(&error, &cx.shutdown).await {
                        return None;
                    }
                }
                outcome => {
                    attempts.done();
                    break outcome;
                }
            }
        };
        match outcome {
            Ok(()) => {}
            Err(error) if range.len() == 1 => refused.push((range.start, error)),
            Err(error) => {
                tracing::info!(%error, items = range.len(), "{what} refused, splitting the batch");
                let middle = range.start + range.len() / 2;
                pending.push(middle..range.end);
                pending.push(range.start..middle);
            }
        }
    }
    Some(refused)
}

/// Splits `items` into those kept and those at the `refused` indices (ascending).
pub fn take_refused<T, E>(items: Vec<T>, refused: Vec<(usize, E)>) -> (Vec<T>, Vec<(T, E)>) {
    let mut kept = Vec::with_capacity(items.len() - refused.len());
    let mut taken = Vec::with_capacity(refused.len());
    let mut refused = refused.into_iter().peekable();
    for (index, item) in items.into_iter().enumerate() {
        match refused.next_if(|(at, _)| *at == index) {
            Some((_, error)) => taken.push((item, error)),
            None => kept.push(item),
        }
    }
    (kept, taken)
}
