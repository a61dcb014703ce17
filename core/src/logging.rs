//! Logging: the core writes with `tracing`; the app decides where lines go.
//!
//! Owns: [`init_logging`], which installs one process-wide `tracing` subscriber that hands each
//! line to a [`LogSink`] (logcat on Android, os_log on iOS, stderr on the desktop). Calling it again
//! swaps the sink and level. Lines from other crates pass only at warning level and above.
//! Does not own redaction: values that must not be logged are wrapped in
//! the types of `secret`, whose `Debug` prints a placeholder, and no log line in the core names a
//! citizen, a key or a claim.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use tracing::field::{Field, Visit};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

impl LogLevel {
    fn of(level: &tracing::Level) -> Self {
        match *level {
            tracing::Level::ERROR => LogLevel::Error,
            tracing::Level::WARN => LogLevel::Warn,
            tracing::Level::INFO => LogLevel::Info,
            tracing::Level::DEBUG => LogLevel::Debug,
            tracing::Level::TRACE => LogLevel::Trace,
        }
    }
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub level: LogLevel,
    /// The module that wrote it, e.g. `citizen_core::store`.
    pub target: String,
    /// The message followed by its fields as ` name=value`.
    pub message: String,
}

pub trait LogSink: Send + Sync {
    fn log(&self, record: LogRecord);
}

static SINK: RwLock<Option<Arc<dyn LogSink>>> = RwLock::new(None);

/// Tests that install a sink take this first: the sink is process-wide.
#[cfg(test)]
pub(crate) static TEST_SINK_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
static LEVEL: AtomicU8 = AtomicU8::new(0);

/// Sends the core's log lines at `level` and above to `sink`. The first call installs the SDK's
/// subscriber process-wide; it returns `false` when the host process had already installed its
/// own `tracing` subscriber, which then keeps receiving the lines instead.
pub fn init_logging(level: LogLevel, sink: Arc<dyn LogSink>) -> bool {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    *SINK.write().unwrap_or_else(|p| p.into_inner()) = Some(sink);
    LEVEL.store(level as u8, Ordering::Relaxed);
    *INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::registry().with(SinkLayer);
        tracing::subscriber::set_global_default(subscriber).is_ok()
    })
}

struct SinkLayer;

impl<S: Subscriber> Layer<S> for SinkLayer {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        // The level can change at run time, so ask `enabled` every time.
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        let level = LogLevel::of(metadata.level());
        // Other crates' (hyper, rustls, ...) detail is noise to an app and might echo request
        // data; their warnings and errors still come through.
        let ours = metadata.target().starts_with("citizen");
        (ours || level <= LogLevel::Warn) && (level as u8) <= LEVEL.load(Ordering::Relaxed)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let Some(sink) = SINK.read().unwrap_or_else(|p| p.into_inner()).clone() else {
            return;
        };
        let mut line = LineWriter::default();
        event.record(&mut line);
        let record = LogRecord {
            level: LogLevel::of(event.metadata().level()),
            target: event.metadata().target().to_string(),
            message: line.message + &line.fields,
        };
        // A sink that throws (a foreign exception arrives here as a panic) must cost at most its
        // own line: logging never takes the SDK down, and nothing is logged about it, which could
        // only recurse into the same sink.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink.log(record)));
    }
}

#[derive(Default)]
struct LineWriter {
    message: String,
    fields: String,
}

impl Visit for LineWriter {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={}", field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={:?}", field.name(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Collect(Mutex<Vec<LogRecord>>);
    impl LogSink for Collect {
        fn log(&self, record: LogRecord) {
            self.0.lock().unwrap().push(record);
        }
    }

    struct Throwing;
    impl LogSink for Throwing {
        fn log(&self, _: LogRecord) {
            panic!("a sink that throws");
        }
    }

    #[test]
    fn a_sink_that_panics_costs_only_its_own_lines() {
        let _serial = TEST_SINK_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        init_logging(LogLevel::Info, Arc::new(Throwing));
        tracing::info!("into a throwing sink");
        tracing::warn!("and again");
        let after = Arc::new(Collect::default());
        init_logging(LogLevel::Info, after.clone());
        tracing::info!("after the throwing sink");
        assert!(
            after
                .0
                .lock()
                .unwrap()
                .iter()
                .any(|r| r.message == "after the throwing sink")
        );
    }

    #[test]
    fn lines_reach_the_sink_filtered_by_level_and_the_sink_can_be_swapped() {
        let _serial = TEST_SINK_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let first = Arc::new(Collect::default());
        assert!(init_logging(LogLevel::Info, first.clone()));
        tracing::info!(attempt = 3, "portal reached");
        tracing::debug!("too detailed for Info");
        let lines = first.0.lock().unwrap().clone();
        let ours: Vec<_> = lines
            .iter()
            .filter(|r| r.target == module_path!())
            .collect();
        assert_eq!(ours.len(), 1, "{lines:?}");
        assert_eq!(ours[0].level, LogLevel::Info);
        assert_eq!(ours[0].message, "portal reached attempt=3");

        let second = Arc::new(Collect::default());
        init_logging(LogLevel::Debug, second.clone());
        tracing::debug!(secret = ?crate::secret::SecretBytes::new(vec![1, 2, 3]), "now visible");
        let lines = second.0.lock().unwrap().clone();
        let line = lines
            .iter()
            .find(|r| r.message.starts_with("now visible"))
            .expect("debug line delivered after the level change");
        assert_eq!(
            line.message,
            "now visible secret=SecretBytes([redacted; 3 bytes])"
        );
        assert!(
            !first
                .0
                .lock()
                .unwrap()
                .iter()
                .any(|r| r.message.starts_with("now visible"))
        );

        tracing::debug!(target: "hyper::proto", "third-party detail");
        tracing::warn!(target: "hyper::proto", "third-party warning");
        let foreign: Vec<_> = second
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.target == "hyper::proto")
            .map(|r| r.message.clone())
            .collect();
        assert_eq!(foreign, vec!["third-party warning".to_string()]);
    }
}
