//! The SDK's own tokio runtime: exports that may touch the disk, the network or a foreign store
//! run on it, so the caller's executor (a UI thread, Kotlin coroutines, Swift tasks) only waits.

use std::future::Future;
use std::sync::OnceLock;

use chauffeur_core::rider_app as core_app;

use crate::error::ChauffeurError;

pub(crate) fn runtime() -> Result<&'static tokio::runtime::Runtime, ChauffeurError> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("chauffeur-sdk")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| ChauffeurError::Unexpected {
            code: "runtime".into(),
            detail: format!("the SDK's runtime could not start: {e}"),
        })
}

/// Runs `work` on the SDK's runtime; the caller's executor (Kotlin coroutines, Swift tasks)
/// only waits for it.
pub(crate) async fn on_runtime<T: Send + 'static>(
    work: impl Future<Output = Result<T, core_app::RiderError>> + Send + 'static,
) -> Result<T, ChauffeurError> {
    match runtime()?.spawn(work).await {
        Ok(result) => result.map_err(ChauffeurError::from),
        Err(e) => Err(ChauffeurError::Unexpected {
            code: "task_failed".into(),
            detail: e.to_string(),
        }),
    }
}
