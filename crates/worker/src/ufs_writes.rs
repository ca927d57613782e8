//! The UFS files this worker is writing, recorded while they are written in
//! `<first tier directory>/alluxioworker/.ufs_writes/` (one small file per write: the mount id
//! and the temporary UFS path). A worker killed in the middle of a write never renames or
//! deletes its `<name>.alluxio.0x….tmp`; when it starts again it deletes the ones its records
//! name. (The master also sweeps them when it deletes the abandoned incomplete file.)

use std::path::PathBuf;

use crate::worker::Worker;

/// The directory of the records, inside the first tier directory (scans leave it alone).
pub const DIR: &str = ".ufs_writes";

fn dir(w: &Worker) -> Option<PathBuf> {
    w.store.dirs().first().map(|d| d.path.join(DIR))
}

/// A write in progress; dropping it (after the write was committed or aborted) removes its record.
pub struct InFlight(Option<PathBuf>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Records that `tmp` (a path in the UFS of `mount_id`) is being written. Best effort: without
/// a record, only the master's sweep removes what a crash leaves.
pub fn begin(w: &Worker, mount_id: i64, tmp: Option<&str>) -> InFlight {
    let (Some(tmp), Some(dir)) = (tmp, dir(w)) else { return InFlight(None) };
    let record = dir.join(format!("{:016x}", rand::random::<u64>()));
    let written = std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&record, format!("{mount_id}\n{tmp}\n")));
    match written {
        Ok(()) => InFlight(Some(record)),
        Err(e) => {
            tracing::warn!("cannot record the UFS write of {tmp} in {}: {e}", dir.display());
            InFlight(None)
        }
    }
}

/// After a restart (once the master answers): deletes the temporary UFS files of the writes
/// the previous run of this worker did not finish, and their records.
pub async fn clean_up_after_crash(w: &Worker) {
    let Some(dir) = dir(w) else { return };
    let Ok(entries) = std::fs::read_dir(&dir) else { return };
    for e in entries.flatten() {
        let record = e.path();
        let text = std::fs::read_to_string(&record).unwrap_or_default();
        let mut lines = text.lines();
        let (Some(mount), Some(tmp)) = (lines.next().and_then(|m| m.parse::<i64>().ok()), lines.next()) else {
            let _ = std::fs::remove_file(&record);
            continue;
        };
        match w.ufs(mount).await {
            Ok(ufs) => match ufs.delete_file(tmp).await {
                Ok(()) => {
                    tracing::info!("deleted {tmp}, a temporary UFS file a crash of this worker left");
                    let _ = std::fs::remove_file(&record);
                }
                Err(err) => tracing::warn!("cannot delete the temporary UFS file {tmp}: {err}"),
            },
            // The mount is gone (or unreachable now): the master's sweep is left to it.
            Err(err) => {
                tracing::warn!("cannot reach the UFS of mount {mount} to delete {tmp}: {err}");
                let _ = std::fs::remove_file(&record);
            }
        }
    }
}
