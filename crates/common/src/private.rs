//! Files and directories only their owner can read: the journal, checkpoints, Raft state
//! and backups hold every mount's options, secrets included, so none of them may be
//! readable by other users of the host.
//!
//! Files are created with mode 0600 and directories with 0700 from the start (never
//! created wider and narrowed afterwards, which would leave a window), and a file that
//! already existed under the name is narrowed before it is written.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Mode of every file this module creates.
pub const FILE_MODE: u32 = 0o600;
/// Mode of every directory this module creates.
pub const DIR_MODE: u32 = 0o700;

/// Creates (or truncates) `path` for reading and writing, readable by its owner only.
pub fn create_file(path: &Path) -> io::Result<File> {
    narrowed(OpenOptions::new().read(true).write(true).create(true).truncate(true).mode(FILE_MODE).open(path)?)
}

/// `mode` applies only when a file is new; an existing one keeps its bits unless narrowed.
fn narrowed(f: File) -> io::Result<File> {
    if f.metadata()?.permissions().mode() & 0o077 != 0 {
        f.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
    }
    Ok(f)
}

/// Opens `path` for appending, creating it owner-only (an existing file is narrowed).
pub fn open_append(path: &Path) -> io::Result<File> {
    narrowed(OpenOptions::new().append(true).create(true).mode(FILE_MODE).open(path)?)
}

/// Creates `dir` and its missing parents; the directories it creates are owner-only
/// (existing ones, which the operator may have made on purpose, are left as they are).
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Replaces `dir/name` with `bytes`, owner-only, so that a crash leaves either the old or
/// the new content: written and synced under a temporary name, renamed, directory synced.
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = create_file(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(name))?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_files_and_directories_are_owner_only() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("a/b");
        create_dir_all(&d).unwrap();
        assert_eq!(mode(&d), DIR_MODE);
        assert_eq!(mode(&t.path().join("a")), DIR_MODE);
        create_file(&d.join("f")).unwrap();
        assert_eq!(mode(&d.join("f")), FILE_MODE);
        write_atomically(&d, "g", b"x").unwrap();
        assert_eq!(mode(&d.join("g")), FILE_MODE);
        assert_eq!(std::fs::read(d.join("g")).unwrap(), b"x");
    }

    #[test]
    fn an_existing_wide_file_is_narrowed_and_an_existing_directory_kept() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("f");
        std::fs::write(&f, b"old").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        create_file(&f).unwrap();
        assert_eq!(mode(&f), FILE_MODE);
        assert_eq!(std::fs::read(&f).unwrap(), b"");
        std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        create_dir_all(t.path()).unwrap();
        assert_eq!(mode(t.path()), 0o755);
    }
}
