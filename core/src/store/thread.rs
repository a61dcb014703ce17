//! The store's own thread: it owns the one database connection and runs jobs on it in order.
//!
//! Owns: starting the thread with its opening job, handing it work from async and synchronous
//! callers, containing a job's panic (SQLite rolls back what the job left open), and closing the
//! connection before the directory lock is given back. Does not own what the jobs do.
//!
//! Why a thread and not a mutex: SQLite calls block, and async callers (every FFI call) must never
//! block a runtime worker; a dedicated thread makes that true by construction, and a job queued
//! by a cancelled future still runs to its end, so a transaction is never cut in half.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::StoreError;
use super::lock::DirLock;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;
/// A store job's answer, its type erased (see [`StoreThread::call_any`]).
type AnyAnswer = Box<dyn std::any::Any + Send>;

pub(crate) struct StoreThread {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    handle: Mutex<Option<JoinHandle<Option<DirLock>>>>,
    thread_id: std::thread::ThreadId,
}

impl StoreThread {
    /// Starts the thread. It runs `open` first; the receiver gets its outcome. On success the
    /// thread keeps the connection and the lock and serves jobs until closed.
    pub(crate) fn spawn<T, F>(
        open: F,
    ) -> Result<(Self, oneshot::Receiver<Result<T, StoreError>>), StoreError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<(Connection, DirLock, T), StoreError> + Send + 'static,
    {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (opened_tx, opened_rx) = oneshot::channel();
        let handle = std::thread::Builder::new()
            .name("citizen-store".into())
            .spawn(move || {
                let opened = catch_unwind(AssertUnwindSafe(open)).unwrap_or_else(|_| {
                    tracing::error!("opening the store panicked");
                    Err(StoreError::Panicked)
                });
                let (mut conn, lock) = match opened {
                    Ok((conn, lock, value)) => {
                        let _ = opened_tx.send(Ok(value));
                        (conn, lock)
                    }
                    Err(error) => {
                        let _ = opened_tx.send(Err(error));
                        return None;
                    }
                };
                while let Ok(job) = queue.recv() {
                    if catch_unwind(AssertUnwindSafe(|| job(&mut conn))).is_err() {
                        tracing::error!("a store job panicked; its transaction was rolled back");
                    }
                }
                if let Err((_, error)) = conn.close() {
                    tracing::warn!(%error, "closing the database failed");
                }
                Some(lock)
            })
            .map_err(|e| StoreError::io("starting the store thread", e))?;
        Ok((
            Self {
                jobs: Mutex::new(Some(jobs)),
                thread_id: handle.thread().id(),
                handle: Mutex::new(Some(handle)),
            },
            opened_rx,
        ))
    }

    /// Whether the store was closed (wiped); jobs sent now fail with [`StoreError::Closed`].
    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.jobs).is_none()
    }

    fn send(&self, job: Job) -> Result<(), StoreError> {
        lock(&self.jobs)
            .as_ref()
            .ok_or(StoreError::Closed)?
            .send(job)
            .map_err(|_| StoreError::Closed)
    }

    /// Runs `f` on the store thread; the future resolves with its result.
    pub(crate) async fn call_async<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> R + Send + 'static,
    ) -> Result<R, StoreError> {
        let answer = self
            .call_any(Box::new(move |conn| Box::new(f(conn)) as AnyAnswer))
            .await?;
        // The answer is the job's own `R`; a mismatch cannot happen, but is not a panic either.
        answer
            .downcast::<R>()
            .map(|boxed| *boxed)
            .map_err(|_| StoreError::Panicked)
    }

    /// [`StoreThread::call_async`] with the answer's type erased: the channel and the future
    /// that waits on it exist once in the library instead of once per answer type (about a
    /// hundred of them; see `docs/size.md`). It costs one allocation per store call.
    async fn call_any(
        &self,
        f: Box<dyn FnOnce(&mut Connection) -> AnyAnswer + Send>,
    ) -> Result<AnyAnswer, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Box::new(move |conn| {
            let _ = reply.send(f(conn));
        }))?;
        // A dropped reply means the job panicked (it was contained on the store thread).
        answer.await.map_err(|_| StoreError::Panicked)
    }

    /// Runs `f` on the store thread and blocks until it is done. From a store job itself that
    /// would wait forever, so it is refused.
    pub(crate) fn call_blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> R + Send + 'static,
    ) -> Result<R, StoreError> {
        self.call_any_blocking(Box::new(move |conn| Box::new(f(conn)) as AnyAnswer))?
            .downcast::<R>()
            .map(|boxed| *boxed)
            .map_err(|_| StoreError::Panicked)
    }

    /// [`StoreThread::call_blocking`] with the answer's type erased, like
    /// [`StoreThread::call_any`].
    fn call_any_blocking(
        &self,
        f: Box<dyn FnOnce(&mut Connection) -> AnyAnswer + Send>,
    ) -> Result<AnyAnswer, StoreError> {
        if std::thread::current().id() == self.thread_id {
            return Err(StoreError::Reentrant);
        }
        let (reply, answer) = mpsc::sync_channel(1);
        self.send(Box::new(move |conn| {
            let _ = reply.send(f(conn));
        }))?;
        answer.recv().map_err(|_| StoreError::Panicked)
    }

    /// Stops taking jobs, lets queued ones finish, closes the connection and returns the
    /// directory lock (still held), or `None` if the store was already closed.
    pub(crate) fn close_blocking(&self) -> Option<DirLock> {
        drop(lock(&self.jobs).take());
        let handle = lock(&self.handle).take()?;
        if handle.thread().id() == std::thread::current().id() {
            return None;
        }
        handle.join().ok().flatten()
    }

    /// [`StoreThread::close_blocking`] without blocking an async worker.
    pub(crate) async fn close_async(&self) -> Option<DirLock> {
        drop(lock(&self.jobs).take());
        let handle = lock(&self.handle).take()?;
        crate::blocking::run(move || handle.join().ok().flatten()).await
    }
}

impl Drop for StoreThread {
    fn drop(&mut self) {
        // Waits for the connection to close so the directory can be opened again at once.
        drop(self.close_blocking());
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave them half-changed (each is a plain take or
    // read), so a poisoned lock is safe to keep using.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
