//! The cluster a worker's blocks belong to, recorded in each tier directory
//! (`<dir>/alluxioworker/.cluster_id`) once a master accepted the worker. A master of another
//! cluster (a formatted or foreign journal) refuses the worker instead of deleting its blocks.

use std::path::Path;

use crate::block_store::{StorageDir, CLUSTER_ID_FILE};
use crate::error::{io, Result, WorkerError};

/// The cluster id recorded in `dirs`, if any. Directories recording different ids are refused:
/// blocks of two clusters cannot be served together.
pub fn recorded(dirs: &[StorageDir]) -> Result<Option<String>> {
    let mut found: Option<(String, &Path)> = None;
    for d in dirs {
        let path = d.path.join(CLUSTER_ID_FILE);
        let id = match std::fs::read_to_string(&path) {
            Ok(s) => s.trim().to_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io("read", &path)(e)),
        };
        match &found {
            Some((other, at)) if *other != id => {
                return Err(WorkerError::FailedPrecondition(format!(
                    "the tier directories {} and {} hold blocks of two clusters ({other} and {id}); give this \
                     worker directories of one cluster, or discard one with `alluxio formatWorker`",
                    at.display(),
                    d.path.display()
                )))
            }
            Some(_) => {}
            None => found = Some((id, &d.path)),
        }
    }
    Ok(found.map(|(id, _)| id))
}

/// Records `id` in every directory (replacing the file atomically, so a crash leaves the old or
/// the new id). Blocking.
pub fn record(dirs: &[StorageDir], id: &str) -> Result<()> {
    for d in dirs {
        let path = d.path.join(CLUSTER_ID_FILE);
        if std::fs::read_to_string(&path).is_ok_and(|s| s.trim() == id) {
            continue;
        }
        let tmp = d.path.join(format!("{CLUSTER_ID_FILE}.tmp"));
        std::fs::write(&tmp, id).map_err(io("write", &tmp))?;
        std::fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(io("sync", &tmp))?;
        std::fs::rename(&tmp, &path).map_err(io("rename", &tmp))?;
        std::fs::File::open(&d.path).and_then(|f| f.sync_all()).map_err(io("sync", &d.path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(base: &Path, name: &str) -> StorageDir {
        let path = base.join(name);
        std::fs::create_dir_all(&path).unwrap();
        StorageDir { path, tier_alias: "MEM".into(), tier_level: 0, medium: "MEM".into(), capacity: 1 }
    }

    #[test]
    fn recorded_in_every_directory_and_conflicts_refused() {
        let d = tempfile::tempdir().unwrap();
        let dirs = vec![dir(d.path(), "a"), dir(d.path(), "b")];
        assert_eq!(recorded(&dirs).unwrap(), None);
        record(&dirs, "c1").unwrap();
        assert_eq!(recorded(&dirs).unwrap().as_deref(), Some("c1"));
        std::fs::write(dirs[1].path.join(CLUSTER_ID_FILE), "c2").unwrap();
        let err = recorded(&dirs).unwrap_err().to_string();
        assert!(err.contains("c1") && err.contains("c2") && err.contains("formatWorker"), "{err}");
    }
}
