//! Running blocking work (platform calls, joins) without blocking an async runtime worker.
//!
//! Owns: one helper, [`run`]. Inside a tokio runtime it moves the work to the runtime's blocking
//! pool; outside one (a synchronous caller) it runs the work in place. Does not own database work,
//! which always runs on the store's own thread (`store::thread`).

use std::any::Any;

type AnyValue = Box<dyn Any + Send>;

/// Runs `work` where blocking is allowed and returns its result. A panic in `work` resumes in the
/// caller, as if the work had run in place.
pub(crate) async fn run<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let value = run_any(Box::new(move || Box::new(work()) as AnyValue)).await;
    match value.downcast::<T>() {
        Ok(value) => *value,
        // `run_any` returns what the closure above made: a `T`.
        Err(_) => unreachable!("blocking work returned another type"),
    }
}

/// [`run`] with the result's type erased, so tokio's blocking-task machinery exists once in the
/// library instead of once per result type (see `docs/size.md`).
async fn run_any(work: Box<dyn FnOnce() -> AnyValue + Send>) -> AnyValue {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => match runtime.spawn_blocking(work).await {
            Ok(value) => value,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => panic!("the runtime shut down while blocking work was pending"),
        },
        Err(_) => work(),
    }
}
