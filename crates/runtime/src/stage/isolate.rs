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

/// What [`isolate`] made of a batch.
#[derive(Debug)]
pub struct Isolated<T, E> {
    /// The items applied, in their batch order.
    pub applied: Vec<T>,
    /// The items refused on their own, with the error.
    pub refused: Vec<(T, E)>,
}

/// Applies `op` to `items`, retrying transient failures by the context's
/// policy and splitting on permanent ones. `None` when shutdown came first.
pub async fn isolate<T, O: BatchOp<T>>(
    op: &mut O,
    items: Vec<T>,
    what: &str,
    cx: &Context,
) -> Option<Isolated<T, O::Error>> {
    let mut result = Isolated {
        applied: Vec::with_capacity(items.len()),
        refused: Vec::new(),
    };
    // Chunks still to apply, the next one last.
    let mut pending = vec![items];
    while let Some(mut chunk) = pending.pop() {
        if chunk.is_empty() {
            continue;
        }
        let mut attempts = cx.policy.attempts(what);
        let outcome = loop {
            let outcome = tokio::select! {
                _ = cx.shutdown.cancelled() => return None,
                outcome = op.apply(&mut chunk) => outcome,
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
            Ok(()) => result.applied.append(&mut chunk),
            Err(error) if chunk.len() == 1 => {
                let item = chunk.pop().expect("one item");
                result.refused.push((item, error));
            }
            Err(error) => {
                tracing::info!(%error, items = chunk.len(), "{what} refused, splitting the batch");
                let second = chunk.split_off(chunk.len() / 2);
                pending.push(second);
                pending.push(chunk);
            }
        }
    }
    Some(result)
}
