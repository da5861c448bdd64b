//! The SDK's log lines, to a foreign `LogSink` (Logcat, OSLog) or standard error.

use std::sync::Arc;

/// Receives the SDK's log lines (Logcat on Android, OSLog on iOS).
#[uniffi::export(with_foreign)]
pub trait LogSink: Send + Sync {
    fn log(&self, level: LogLevel, target: String, message: String);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// The SDK's logger: forwards to the sink of the latest `init_logging` call.
struct SinkLogger;

/// `None` inside: standard error.
static SINK: std::sync::RwLock<Option<Arc<dyn LogSink>>> = std::sync::RwLock::new(None);

impl log::Log for SinkLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = match record.level() {
            log::Level::Error => LogLevel::Error,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Info => LogLevel::Info,
            log::Level::Debug => LogLevel::Debug,
            log::Level::Trace => LogLevel::Trace,
        };
        let message = record.args().to_string();
        let sink = SINK.read().ok().and_then(|sink| sink.clone());
        match sink {
            Some(sink) => sink.log(level, record.target().to_owned(), message),
            None => eprintln!("{:?} {}: {message}", level, record.target()),
        }
    }

    fn flush(&self) {}
}

/// Starts the SDK's logging at `level`, to `sink` (or standard error). Call it early; a later
/// call changes the level and the sink.
#[uniffi::export]
pub fn init_logging(level: LogLevel, sink: Option<Arc<dyn LogSink>>) {
    let filter = match level {
        LogLevel::Error => log::LevelFilter::Error,
        LogLevel::Warn => log::LevelFilter::Warn,
        LogLevel::Info => log::LevelFilter::Info,
        LogLevel::Debug => log::LevelFilter::Debug,
        LogLevel::Trace => log::LevelFilter::Trace,
    };
    if let Ok(mut current) = SINK.write() {
        *current = sink;
    }
    // Fails only when a logger is installed already: ours (or the host's, which then keeps
    // the SDK's lines).
    let _ = log::set_logger(&SinkLogger);
    log::set_max_level(filter);
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Lines(Mutex<Vec<(LogLevel, String)>>);

    impl LogSink for Lines {
        fn log(&self, level: LogLevel, _target: String, message: String) {
            if let Ok(mut lines) = self.0.lock() {
                lines.push((level, message));
            }
        }
    }

    #[test]
    fn logging_goes_to_the_latest_sink_at_the_latest_level() {
        let first = Arc::new(Lines::default());
        init_logging(LogLevel::Info, Some(first.clone()));
        log::info!("outbox: 1 sent, 0 refused, 0 waiting");
        log::debug!("not at info level");
        let second = Arc::new(Lines::default());
        init_logging(LogLevel::Debug, Some(second.clone()));
        log::debug!("ride b-1: the stream ended; retrying in 250ms");
        let lines = |l: &Lines| l.0.lock().unwrap().clone();
        assert_eq!(
            lines(&first),
            [(
                LogLevel::Info,
                "outbox: 1 sent, 0 refused, 0 waiting".to_owned()
            )]
        );
        assert_eq!(
            lines(&second),
            [(
                LogLevel::Debug,
                "ride b-1: the stream ended; retrying in 250ms".to_owned()
            )]
        );
    }
}
