//! The one multi-thread tokio runtime the SDK's async calls run on.
//!
//! uniffi polls exported futures from the foreign side's executor (Kotlin coroutines, Swift
//! tasks), which is not a tokio runtime; reqwest and tokio timers need one. So every exported async
//! function spawns its work here and awaits the join handle, which works from any executor.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use tokio::runtime::Runtime;

use crate::CitizenError;

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("citizen-sdk")
            .enable_all()
            .build()
            .expect("the SDK cannot work without its runtime threads")
    })
}

/// A spawned future with its type and its output's type erased.
type ErasedFuture = Pin<Box<dyn Future<Output = Box<dyn Any + Send>> + Send>>;

/// Runs `future` on the SDK runtime. A panic inside becomes `CitizenError::Internal`.
///
/// The future is boxed and its output type erased before it is spawned, so tokio's task
/// machinery (harness, cell, join handle) is compiled once for every exported call instead of
/// once per call's future type: that cost about 4 KB of the phone library per async export
/// (docs/size.md). The price is one allocation per call for the output.
pub(crate) async fn run<F>(future: F) -> Result<F::Output, CitizenError>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let erased: ErasedFuture =
        Box::pin(async move { Box::new(future.await) as Box<dyn Any + Send> });
    let output = spawn_erased(erased).await?;
    match output.downcast::<F::Output>() {
        Ok(output) => Ok(*output),
        // Unreachable: the box holds exactly what `future` returned.
        Err(_) => Err(CitizenError::Internal {
            detail: "an internal error occurred".into(),
        }),
    }
}

async fn spawn_erased(future: ErasedFuture) -> Result<Box<dyn Any + Send>, CitizenError> {
    runtime().spawn(future).await.map_err(join_error)
}

/// Runs `operation` on a clone of a core capability handle on the SDK runtime; the core's error
/// becomes a [`CitizenError`].
pub(crate) async fn call<H, T, E, F>(
    handle: &H,
    operation: impl FnOnce(H) -> F,
) -> Result<T, CitizenError>
where
    H: Clone,
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
    CitizenError: From<E>,
{
    Ok(run(operation(handle.clone())).await??)
}

/// Runs blocking work (SQLite, file I/O) on the runtime's blocking pool.
pub(crate) async fn run_blocking<F, T>(work: F) -> Result<T, CitizenError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    runtime().spawn_blocking(work).await.map_err(join_error)
}

fn join_error(error: tokio::task::JoinError) -> CitizenError {
    if error.is_cancelled() {
        CitizenError::Cancelled {
            detail: "the operation was cancelled".into(),
        }
    } else {
        tracing::error!("an SDK task panicked");
        CitizenError::Internal {
            detail: "an internal error occurred".into(),
        }
    }
}
