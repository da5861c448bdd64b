//! The platform's secure storage as a foreign trait, both ways: the platform's store offered to
//! the core, and the core's Rust stores (files, memory) offered to the platform.

use std::sync::Arc;

use chauffeur_core::secure_store;

use crate::error::ChauffeurError;
use crate::runtime::on_runtime;

/// The platform's secure storage for the session token: Keychain on iOS, Keystore-backed
/// storage on Android. `file_secure_storage` and `memory_secure_storage` serve desktops and
/// tests.
#[uniffi::export(with_foreign)]
pub trait SecureStorage: Send + Sync {
    fn load(&self, key: String) -> Result<Option<String>, ChauffeurError>;
    fn save(&self, key: String, value: String) -> Result<(), ChauffeurError>;
    fn delete(&self, key: String) -> Result<(), ChauffeurError>;
}

/// Adapts the exported trait to the core's.
pub(crate) struct StorageBridge(pub(crate) Arc<dyn SecureStorage>);

fn store_error(e: ChauffeurError) -> secure_store::SecureStoreError {
    secure_store::SecureStoreError::Failed(e.to_string())
}

impl secure_store::SecureStore for StorageBridge {
    fn load(&self, key: &str) -> Result<Option<String>, secure_store::SecureStoreError> {
        self.0.load(key.to_owned()).map_err(store_error)
    }
    fn save(&self, key: &str, value: &str) -> Result<(), secure_store::SecureStoreError> {
        self.0
            .save(key.to_owned(), value.to_owned())
            .map_err(store_error)
    }
    fn delete(&self, key: &str) -> Result<(), secure_store::SecureStoreError> {
        self.0.delete(key.to_owned()).map_err(store_error)
    }
}

/// A Rust store offered to the platform (files, memory).
struct RustStorage(Box<dyn secure_store::SecureStore>);

fn storage_error(e: secure_store::SecureStoreError) -> ChauffeurError {
    ChauffeurError::Storage {
        code: "secure_storage".into(),
        detail: e.to_string(),
    }
}

impl SecureStorage for RustStorage {
    fn load(&self, key: String) -> Result<Option<String>, ChauffeurError> {
        self.0.load(&key).map_err(storage_error)
    }
    fn save(&self, key: String, value: String) -> Result<(), ChauffeurError> {
        self.0.save(&key, &value).map_err(storage_error)
    }
    fn delete(&self, key: String) -> Result<(), ChauffeurError> {
        self.0.delete(&key).map_err(storage_error)
    }
}

/// Keeps the token in memory only (tests, kiosks).
#[uniffi::export]
pub fn memory_secure_storage() -> Arc<dyn SecureStorage> {
    Arc::new(RustStorage(
        Box::<secure_store::MemorySecureStore>::default(),
    ))
}

/// Keeps the token in a private directory (desktop apps, JVM tests).
#[uniffi::export]
pub async fn file_secure_storage(dir: String) -> Result<Arc<dyn SecureStorage>, ChauffeurError> {
    on_runtime(async move {
        let store = secure_store::FileSecureStore::new(dir)?;
        Ok(Arc::new(RustStorage(Box::new(store))) as Arc<dyn SecureStorage>)
    })
    .await
}
