//! Files the server keeps itself, private to its user (0600): the quote-signing key and the
//! SQLite database. The key is made atomically (a temp file, fsync, rename, fsync of the
//! directory), so a crash or a full disk never leaves a half-written key behind; a damaged key
//! file gets an error that names it and says what to do.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// Bytes of a new key (256 bits); shorter keys are refused.
pub const KEY_BYTES: usize = 32;

/// Reads the quote-signing key from `path`, or creates one there (0600) if missing.
pub fn load_or_create_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_key(text.trim()).map_err(|e| {
            anyhow::anyhow!(
                "the quote key file {} is damaged ({e}). If it was just created by a start that \
                 failed (a full disk, a crash), delete it and start again to make a new key; if \
                 other replicas share this key, copy theirs here instead",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = new_key()?;
            write_private_atomically(path, &hex::encode(&key))?;
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read the quote key {}", path.display())),
    }
}

pub fn new_key() -> anyhow::Result<Vec<u8>> {
    let mut key = vec![0u8; KEY_BYTES];
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness for a key: {e}"))?;
    Ok(key)
}

pub fn parse_key(hex_text: &str) -> anyhow::Result<Vec<u8>> {
    let key = hex::decode(hex_text).context("the quote key must be hex")?;
    if key.len() < KEY_BYTES {
        bail!("the quote key must be at least {KEY_BYTES} bytes (64 hex digits)");
    }
    Ok(key)
}

/// Writes `text` to `path` readable by the owner only, all or nothing: the file appears under
/// its name only once its bytes are on disk.
fn write_private_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let temp = temp_path(path);
    let written = write_private(&temp, text).and_then(|()| {
        std::fs::rename(&temp, path)
            .with_context(|| format!("cannot move {} to {}", temp.display(), path.display()))
    });
    if let Err(e) = written {
        // Nothing half-written stays behind; the next start tries again from scratch.
        let _ = std::fs::remove_file(&temp);
        return Err(e.context(format!("cannot create the quote key {}", path.display())));
    }
    // The rename itself must survive a power cut.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("cannot sync the directory {}", dir.display()))?;
    }
    Ok(())
}

/// Creates the SQLite database file of `database_url` empty and private (0600) if it does not
/// exist yet, so riders' personal data is never world-readable. SQLite gives its WAL and
/// shared-memory files the database file's permissions. Other URLs are left alone.
pub fn create_private_sqlite_file(database_url: &str) -> anyhow::Result<()> {
    let Some(rest) = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
    else {
        return Ok(());
    };
    let path = Path::new(rest.split('?').next().unwrap_or(rest));
    if path.as_os_str().is_empty() || rest.starts_with(":memory:") || path.exists() {
        return Ok(());
    }
    write_private(path, "")
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

/// Creates (or truncates a stale temp) `path` with mode 0600 and writes `text` durably.
pub(crate) fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_is_made_once_private_and_read_back_the_same() {
        let dir = std::env::temp_dir().join(format!("chauffeur-key-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("quote-key");
        let made = load_or_create_key(&path).unwrap();
        assert_eq!(made.len(), KEY_BYTES);
        assert_eq!(load_or_create_key(&path).unwrap(), made);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp file is left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_damaged_key_file_is_named_with_what_to_do() {
        let dir = std::env::temp_dir().join(format!("chauffeur-key-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("quote-key");
        std::fs::write(&path, "").unwrap();
        let message = format!("{:#}", load_or_create_key(&path).unwrap_err());
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("delete it and start again"), "{message}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A first start on a full disk used to leave an empty key file, and every later start
    /// failed with a misleading length error. Needs root to mount a tiny tmpfs; under CI=true
    /// not being able to is a failure.
    #[test]
    fn a_first_start_on_a_full_disk_leaves_no_key_and_the_next_start_makes_one() {
        let dir = std::env::temp_dir().join(format!("chauffeur-full-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=16k", "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            std::fs::remove_dir_all(&dir).unwrap();
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "cannot mount a tmpfs (root needed): under CI=true that is a failure"
            );
            eprintln!("WARNING: cannot mount a tmpfs (not root?); full-disk key test skipped");
            return;
        }
        // Fill the disk to the last byte.
        let filler = dir.join("filler");
        let _ = std::fs::write(&filler, vec![0u8; 64 * 1024]);
        let path = dir.join("quote-key");
        let first = load_or_create_key(&path);
        let no_key_left = !path.exists();
        let entries = std::fs::read_dir(&dir).unwrap().count();
        std::fs::remove_file(&filler).unwrap();
        let second = load_or_create_key(&path);
        let third = load_or_create_key(&path);
        let _ = std::process::Command::new("umount").arg(&dir).status();
        let _ = std::fs::remove_dir_all(&dir);

        let message = format!("{:#}", first.unwrap_err());
        assert!(message.contains("cannot create the quote key"), "{message}");
        assert!(
            no_key_left,
            "a failed first start must not leave a key file"
        );
        assert_eq!(entries, 1, "only the filler: no temp file either");
        let key = second.unwrap();
        assert_eq!(key.len(), KEY_BYTES);
        assert_eq!(third.unwrap(), key, "the next starts read the key made");
    }
}
