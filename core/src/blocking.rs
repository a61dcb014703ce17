//! Running blocking work (platform calls, joins) without blocking an async runtime worker.
//!
//! Owns: one helper, [`run`]. Inside a tokio runtime it moves the work to the runtime's blocking
//! pool; outside one (a synchronous caller) it runs the work in place. Does not own database work,
//! which always runs on the store's own thread (`store::thread`).

/// Runs `work` where blocking is allowed and returns its result. A panic in `work` resumes in the
/// caller, as if the work had run in place.
pub(crate) async fn run<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => match runtime.spawn_blocking(work).await {
            Ok(value) => value,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => panic!("the runtime shut down while blocking work was pending"),
        },
        Err(_) => work(),
    }
}
