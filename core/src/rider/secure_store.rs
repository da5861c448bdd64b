//! Where the session token lives (feature `client`). The platform provides the real store —
//! Keychain on iOS, Keystore-backed storage on Android — through this trait (a UniFFI foreign
//! trait once the bindings exist); desktop apps and tests use the file or memory stores below.
//! The token never goes into the cache database.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum SecureStoreError {
    #[error("secure storage failed: {0}")]
    Failed(String),
}

pub trait SecureStore: Send + Sync {
    fn load(&self, key: &str) -> Result<Option<String>, SecureStoreError>;
    fn save(&self, key: &str, value: &str) -> Result<(), SecureStoreError>;
    fn delete(&self, key: &str) -> Result<(), SecureStoreError>;
}

/// Forgets everything when the process ends (tests, kiosks).
#[derive(Default)]
pub struct MemorySecureStore {
    values: Mutex<HashMap<String, String>>,
}

impl SecureStore for MemorySecureStore {
    fn load(&self, key: &str) -> Result<Option<String>, SecureStoreError> {
        let values = self
            .values
            .lock()
            .map_err(|_| SecureStoreError::Failed("poisoned".into()))?;
        Ok(values.get(key).cloned())
    }

    fn save(&self, key: &str, value: &str) -> Result<(), SecureStoreError> {
        let mut values = self
            .values
            .lock()
            .map_err(|_| SecureStoreError::Failed("poisoned".into()))?;
        values.insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), SecureStoreError> {
        let mut values = self
            .values
            .lock()
            .map_err(|_| SecureStoreError::Failed("poisoned".into()))?;
        values.remove(key);
        Ok(())
    }
}

/// One file per key in a directory only the user can read (0600 files); each save is written
/// to a temporary file, synced and renamed, so a crash leaves the old value or the new one.
pub struct FileSecureStore {
    dir: PathBuf,
}

impl FileSecureStore {
    pub fn new(dir: impl Into<PathBuf>) -> Result<FileSecureStore, SecureStoreError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| SecureStoreError::Failed(e.to_string()))?;
        Ok(FileSecureStore { dir })
    }

    fn path(&self, key: &str) -> Result<PathBuf, SecureStoreError> {
        let safe = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if safe {
            Ok(self.dir.join(key))
        } else {
            Err(SecureStoreError::Failed(format!(
                "key {key:?} is not a plain name"
            )))
        }
    }
}

impl SecureStore for FileSecureStore {
    fn load(&self, key: &str) -> Result<Option<String>, SecureStoreError> {
        match std::fs::read_to_string(self.path(key)?) {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(SecureStoreError::Failed(e.to_string())),
        }
    }

    fn save(&self, key: &str, value: &str) -> Result<(), SecureStoreError> {
        let path = self.path(key)?;
        let temp = path.with_extension("tmp");
        let fail = |e: std::io::Error| SecureStoreError::Failed(e.to_string());
        // The directory may have been cleared (a "clear data" tool): make it again.
        std::fs::create_dir_all(&self.dir).map_err(fail)?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&temp).map_err(fail)?;
        file.write_all(value.as_bytes()).map_err(fail)?;
        file.sync_all().map_err(fail)?;
        std::fs::rename(&temp, &path).map_err(fail)
    }

    fn delete(&self, key: &str) -> Result<(), SecureStoreError> {
        match std::fs::remove_file(self.path(key)?) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(SecureStoreError::Failed(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(store: &dyn SecureStore) {
        assert_eq!(store.load("session").unwrap(), None);
        store.save("session", "token-1").unwrap();
        store.save("session", "token-2").unwrap();
        assert_eq!(store.load("session").unwrap().as_deref(), Some("token-2"));
        store.delete("session").unwrap();
        store.delete("session").unwrap(); // deleting twice is fine
        assert_eq!(store.load("session").unwrap(), None);
    }

    #[test]
    fn the_memory_store_keeps_and_forgets_a_token() {
        round_trip(&MemorySecureStore::default());
    }

    #[test]
    fn the_file_store_survives_a_restart_and_is_private() {
        let dir = std::env::temp_dir().join(format!("chauffeur-secure-{}", std::process::id()));
        round_trip(&FileSecureStore::new(&dir).unwrap());
        FileSecureStore::new(&dir)
            .unwrap()
            .save("session", "kept")
            .unwrap();
        assert_eq!(
            FileSecureStore::new(&dir)
                .unwrap()
                .load("session")
                .unwrap()
                .as_deref(),
            Some("kept")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("session"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(FileSecureStore::new(&dir)
            .unwrap()
            .save("../escape", "x")
            .is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
