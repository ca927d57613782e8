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
            // Drop cannot wait: the removal runs on the blocking pool by itself.
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => drop(rt.spawn_blocking(move || std::fs::remove_file(p))),
                Err(_) => drop(std::fs::remove_file(p)),
            }
        }
    }
}

/// Records that `tmp` (a path in the UFS of `mount_id`) is being written. Best effort: without
/// a record, only the master's sweep removes what a crash leaves.
pub async fn begin(w: &Worker, mount_id: i64, tmp: Option<&str>) -> InFlight {
    let (Some(tmp), Some(dir)) = (tmp.map(str::to_owned), dir(w)) else { return InFlight(None) };
    let record = dir.join(format!("{:016x}", rand::random::<u64>()));
    let (d, r, text) = (dir.clone(), record.clone(), format!("{mount_id}\n{tmp}\n"));
    let written =
        crate::blocking::run(move || std::fs::create_dir_all(&d).and_then(|_| std::fs::write(&r, text))).await;
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
    for (record, write) in crate::blocking::run(move || read_records(&dir)).await {
        let forget = |record: PathBuf| crate::blocking::run(move || std::fs::remove_file(record));
        let Some((mount, tmp)) = write else {
            let _ = forget(record).await;
            continue;
        };
        match w.ufs(mount).await {
            Ok(ufs) => match ufs.delete_file(&tmp).await {
                Ok(()) => {
                    tracing::info!("deleted {tmp}, a temporary UFS file a crash of this worker left");
                    let _ = forget(record).await;
                }
                Err(err) => tracing::warn!("cannot delete the temporary UFS file {tmp}: {err}"),
            },
            // The mount is gone (or unreachable now): the master's sweep is left to it.
            Err(err) => {
                tracing::warn!("cannot reach the UFS of mount {mount} to delete {tmp}: {err}");
                let _ = forget(record).await;
            }
        }
    }
}

/// The records in `dir`, each with its (mount id, temporary UFS path) when it is readable.
fn read_records(dir: &std::path::Path) -> Vec<(PathBuf, Option<(i64, String)>)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .flatten()
        .map(|e| {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            let mut lines = text.lines();
            let write = match (lines.next().and_then(|m| m.parse::<i64>().ok()), lines.next()) {
                (Some(mount), Some(tmp)) => Some((mount, tmp.to_owned())),
                _ => None,
            };
            (e.path(), write)
        })
        .collect()
}
