//! The files a gateway keeps on disk. The data directory (0700) and the
//! SQLite database files (0600) hold token hashes and the receipt signing
//! key, so the gateway refuses to start when other users can read them
//! (unless told to accept it); and one gateway at a time opens a SQLite
//! database, held by an exclusive lock on a file beside it that names the
//! holder.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Refuses a data directory or database file that users other than its
/// owner may access, naming the path and the fix.
pub fn check_private(data_dir: &Path, database: Option<&Path>) -> Result<(), String> {
    let mut paths = vec![(data_dir.to_path_buf(), true)];
    if let Some(db) = database {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            paths.push((PathBuf::from(name), false));
        }
    }
    for (path, is_dir) in paths {
        if let Some(mode) = shared_mode(&path) {
            let private = if is_dir { "700" } else { "600" };
            return Err(format!(
                "{} can be read by other users (mode {mode:03o}); it holds token hashes and \
                 the receipt signing key. Run `chmod {private} {}`, or start with \
                 --insecure-permissions (insecure_permissions = true) to accept it",
                path.display(),
                path.display(),
            ));
        }
    }
    Ok(())
}

/// The permission bits of `path` when its group or others have any access.
#[cfg(unix)]
fn shared_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn shared_mode(_path: &Path) -> Option<u32> {
    None
}

/// The exclusive lock of one SQLite database, held while the gateway runs
/// (released when dropped, or by the system when the process dies). The
/// lock file says who holds it: `pid` and `listen` lines.
#[derive(Debug)]
pub struct DatabaseLock {
    file: File,
}

impl DatabaseLock {
    /// Takes the lock of `database` (the file `<database>.lock`), or says
    /// which process holds it.
    pub fn acquire(database: &Path, listen: &str) -> Result<DatabaseLock, String> {
        let mut name = database.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(&path)
            .map_err(|e| format!("opening the lock file {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(format!(
                    "the database {} is in use by another gateway ({}); stop it first, or give \
                     this one its own --data-dir or --database",
                    database.display(),
                    describe_holder(&holder),
                ));
            }
            Err(TryLockError::Error(e)) => {
                return Err(format!("locking {}: {e}", path.display()));
            }
        }
        let mut lock = DatabaseLock { file };
        lock.record(listen)
            .map_err(|e| format!("writing the lock file {}: {e}", path.display()))?;
        Ok(lock)
    }

    /// Records this process and the address it listens on (once bound).
    pub fn record(&mut self, listen: &str) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        writeln!(self.file, "pid {}", std::process::id())?;
        writeln!(self.file, "listen {listen}")?;
        self.file.sync_all()
    }
}

fn describe_holder(text: &str) -> String {
    let field = |key: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(key)?.strip_prefix(' '))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    match (field("pid"), field("listen")) {
        (Some(pid), Some(listen)) => format!("pid {pid}, listening on {listen}"),
        (Some(pid), None) => format!("pid {pid}"),
        _ => "a process that has not said which".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_first_holder() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("assent.db");
        let mut first = DatabaseLock::acquire(&db, "127.0.0.1:8470").unwrap();
        first.record("127.0.0.1:40001").unwrap();
        let err = DatabaseLock::acquire(&db, "127.0.0.1:8471").unwrap_err();
        assert!(err.contains("in use by another gateway"), "{err}");
        assert!(
            err.contains(&format!(
                "pid {}, listening on 127.0.0.1:40001",
                std::process::id()
            )),
            "{err}"
        );
        drop(first);
        DatabaseLock::acquire(&db, "127.0.0.1:8471").unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn shared_files_are_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let db = dir.path().join("assent.db");
        std::fs::write(&db, b"").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
        check_private(dir.path(), Some(&db)).unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = check_private(dir.path(), Some(&db)).unwrap_err();
        assert!(err.contains("mode 644"), "{err}");
        assert!(
            err.contains(&format!("chmod 600 {}", db.display())),
            "{err}"
        );
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = check_private(dir.path(), Some(&db)).unwrap_err();
        assert!(err.contains("chmod 700"), "{err}");
        assert!(err.contains("--insecure-permissions"), "{err}");
    }
}
