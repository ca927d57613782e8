//! Backups (`fsadmin backup`, daily backups) and restore at start-up
//! (`alluxio.master.journal.init.from.backup`).
//!
//! A backup is a consistent snapshot: the state entries are taken under the namespace read
//! lock (metadata reads go on; writes wait for the copy, not for the disk), then encoded and
//! written without any lock. The file appears under its final name only when complete, then
//! the `.complete` marker is written; a failure leaves neither behind.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use alluxio_journal::backup::{backup_file_name, backup_time_of, read_backup, BackupWriter};
use alluxio_proto::grpc::meta::{BackupPStatus, BackupState};
use alluxio_proto::journal::JournalEntry;
use alluxio_ufs::UnderFileSystem;
use parking_lot::Mutex;

use crate::error::{MasterError, Result};
use crate::fs::FileSystemMaster;
use crate::mount_table::ROOT_MOUNT_ID;
use crate::namespace::Namespace;

/// Where a backup goes.
#[derive(Debug, Clone)]
pub struct BackupRequest {
    /// Directory; the configured `alluxio.master.backup.directory` when empty.
    pub directory: String,
    /// Write to this master's local file system instead of the root UFS.
    pub local: bool,
}

/// Backup bookkeeping of one master: one backup at a time, statuses by id.
pub struct Backups {
    running: AtomicBool,
    processed: AtomicI64,
    statuses: Mutex<HashMap<String, BackupPStatus>>,
    pub host: String,
    pub default_dir: String,
}

impl Backups {
    pub fn new(host: String, default_dir: String) -> Self {
        Backups {
            running: AtomicBool::new(false),
            processed: AtomicI64::new(0),
            statuses: Mutex::new(HashMap::new()),
            host,
            default_dir,
        }
    }

    /// The status of a backup by id (entries processed so far while it runs).
    pub fn status(&self, id: &str) -> Option<BackupPStatus> {
        let mut s = self.statuses.lock().get(id).cloned()?;
        if s.backup_state == BackupState::Running as i32 {
            s.entry_count = self.processed.load(Ordering::Relaxed);
        }
        Some(s)
    }

    pub(crate) fn set(&self, s: BackupPStatus) {
        self.statuses.lock().insert(s.backup_id.clone(), s);
    }
}

fn new_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// Starts a backup; with `wait` returns its final status, else the running one.
pub async fn start_backup(
    master: Arc<FileSystemMaster>,
    backups: Arc<Backups>,
    req: BackupRequest,
    wait: bool,
) -> Result<BackupPStatus> {
    if backups.running.swap(true, Ordering::SeqCst) {
        return Err(MasterError::BackupRunning);
    }
    backups.processed.store(0, Ordering::Relaxed);
    let id = new_id();
    let running = BackupPStatus {
        backup_id: id.clone(),
        backup_state: BackupState::Running as i32,
        backup_host: backups.host.clone(),
        ..Default::default()
    };
    backups.set(running.clone());
    let (m, b) = (master.clone(), backups.clone());
    let task = tokio::spawn(async move {
        let r = write_backup(&m, &b, &req).await;
        let status = match &r {
            Ok((uri, count)) => {
                tracing::info!("Successfully backed up journal to {uri} ({count} entries)");
                BackupPStatus {
                    backup_id: id.clone(),
                    backup_state: BackupState::Completed as i32,
                    backup_host: b.host.clone(),
                    backup_uri: uri.clone(),
                    entry_count: *count,
                    error: String::new(),
                }
            }
            Err(e) => {
                tracing::error!("backup failed: {e}");
                BackupPStatus {
                    backup_id: id.clone(),
                    backup_state: BackupState::Failed as i32,
                    backup_host: b.host.clone(),
                    error: e.to_string(),
                    ..Default::default()
                }
            }
        };
        b.set(status.clone());
        b.running.store(false, Ordering::SeqCst);
        status
    });
    if wait {
        task.await.map_err(MasterError::task("backup"))
    } else {
        Ok(running)
    }
}

/// Takes the snapshot and writes it; returns (URI, entry count).
async fn write_backup(master: &FileSystemMaster, backups: &Backups, req: &BackupRequest) -> Result<(String, i64)> {
    let dir = if req.directory.is_empty() { backups.default_dir.clone() } else { req.directory.clone() };
    let now = alluxio_common::now_ms();
    let name = backup_file_name(now);
    let (entries, cluster_id) = {
        let ns = master.namespace();
        let v: Vec<JournalEntry> =
            ns.entries().into_iter().map(|e| JournalEntry { sequence_number: 0, entry: Some(e) }).collect();
        (v, ns.cluster_id().to_owned())
    };
    let host = backups.host.clone();
    if req.local {
        let dir = PathBuf::from(dir.strip_prefix("file://").unwrap_or(&dir));
        if !dir.is_absolute() {
            return Err(MasterError::BackupDirNotAbsolute { dir: dir.display().to_string() });
        }
        let path = dir.join(&name);
        let p2 = path.clone();
        let processed = &backups.processed;
        let count = tokio::task::block_in_place(|| write_local(&p2, &entries, &cluster_id, &host, now, processed))?;
        return Ok((format!("file://{}", path.display()), count));
    }
    let root = master.mount_by_id(ROOT_MOUNT_ID).ok_or_else(|| MasterError::NoMount { path: "/".into() })?;
    let ufs = master.ufs_of(&root)?;
    let rel = format!("{}/{name}", dir.trim_matches('/'));
    let processed = &backups.processed;
    let bytes = tokio::task::block_in_place(|| -> Result<Vec<u8>> {
        let mut w = BackupWriter::new(Vec::new(), &cluster_id, &host, now).map_err(|e| io_err("encode", &name, e))?;
        for e in &entries {
            w.append(e).map_err(|e| io_err("encode", &name, e))?;
            processed.fetch_add(1, Ordering::Relaxed);
        }
        w.finish().map_err(|e| io_err("encode", &name, e))
    })?;
    let count = entries.len() as i64;
    // A backup holds every mount's options, secrets included: its directory is the master
    // user's alone (on the host, and in the namespace through the modes a sync loads); the
    // root itself, when named as the backup directory, is left as it is.
    let dir_rel = dir.trim_matches('/');
    if !dir_rel.is_empty() {
        ufs.mkdirs(dir_rel).await?;
        ufs.set_mode(dir_rel, alluxio_common::private::DIR_MODE as i32).await;
    }
    let mut out = ufs.create(&rel).await?;
    for chunk in bytes.chunks(8 << 20) {
        if let Err(e) = out.write(bytes::Bytes::copy_from_slice(chunk)).await {
            out.abort().await;
            return Err(e.into());
        }
    }
    out.close().await?;
    ufs.set_mode(&rel, alluxio_common::private::FILE_MODE as i32).await;
    let marker_rel = format!("{rel}.complete");
    let marker = ufs.create(&marker_rel).await?;
    if let Err(e) = marker.close().await {
        let _ = ufs.delete_file(&rel).await;
        return Err(e.into());
    }
    ufs.set_mode(&marker_rel, alluxio_common::private::FILE_MODE as i32).await;
    Ok((ufs.full_path(&rel), count))
}

fn io_err(op: &'static str, name: &str, source: std::io::Error) -> MasterError {
    MasterError::BackupIo { op, name: name.to_owned(), source }
}

fn write_local(
    path: &Path,
    entries: &[JournalEntry],
    cluster: &str,
    host: &str,
    now: i64,
    processed: &AtomicI64,
) -> Result<i64> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    alluxio_common::private::create_dir_all(dir)
        .map_err(|e| io_err("create the directory of", &path.display().to_string(), e))?;
    let tmp =
        dir.join(format!(".{}.tmp", path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()));
    let result = (|| -> std::io::Result<()> {
        let f = alluxio_common::private::create_file(&tmp)?;
        let mut w = BackupWriter::new(std::io::BufWriter::with_capacity(4 << 20, f), cluster, host, now)?;
        for e in entries {
            w.append(e)?;
            processed.fetch_add(1, Ordering::Relaxed);
        }
        let f = w.finish()?.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        let marker = PathBuf::from(format!("{}.complete", path.display()));
        alluxio_common::private::create_file(&marker)?.sync_all()?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        let _ = std::fs::remove_file(path);
        return Err(io_err("write", &path.display().to_string(), e));
    }
    Ok(entries.len() as i64)
}

/// Deletes backups in the root UFS directory beyond the newest `retain` (daily backups).
pub async fn delete_old_backups(master: &FileSystemMaster, dir: &str, retain: usize) -> Result<usize> {
    let root = master.mount_by_id(ROOT_MOUNT_ID).ok_or_else(|| MasterError::NoMount { path: "/".into() })?;
    let ufs = master.ufs_of(&root)?;
    let rel = dir.trim_matches('/');
    let mut backups: Vec<(i64, String)> =
        ufs.list(rel).await?.into_iter().filter_map(|s| backup_time_of(&s.name).map(|t| (t, s.name))).collect();
    backups.sort();
    let excess = backups.len().saturating_sub(retain);
    for (_, name) in backups.iter().take(excess) {
        let p = format!("{rel}/{name}");
        ufs.delete_file(&p).await?;
        let _ = ufs.delete_file(&format!("{p}.complete")).await;
        tracing::info!("deleted old backup {}", ufs.full_path(&p));
    }
    Ok(excess)
}

/// Milliseconds until the next `HH:mm` UTC.
pub fn ms_until(hh_mm: &str, now_ms: i64) -> Option<i64> {
    let (h, m) = hh_mm.trim().split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    if !(0..24).contains(&h) || !(0..60).contains(&m) {
        return None;
    }
    let day = 86_400_000;
    let target = (h * 60 + m) * 60_000;
    let into_day = now_ms.rem_euclid(day);
    Some(if target > into_day { target - into_day } else { target + day - into_day })
}

/// Reads a backup into a fresh namespace, all or nothing. `uri` is a local path (`file://` or
/// an existing absolute path) or a path in the root UFS.
pub async fn restore_namespace(
    uri: &str,
    root_ufs: &str,
    root_options: &std::collections::BTreeMap<String, String>,
) -> Result<(Namespace, u64)> {
    let local =
        uri.strip_prefix("file://").map(str::to_owned).or_else(|| Path::new(uri).is_file().then(|| uri.to_owned()));
    let bytes = match local {
        Some(p) => {
            tokio::fs::read(&p).await.map_err(|e| MasterError::NotFound { path: format!("{p} (backup: {e})") })?
        }
        None => {
            let path = match uri.split_once("://") {
                Some((_, rest)) => rest.find('/').map(|i| rest[i..].to_owned()).unwrap_or_default(),
                None => uri.to_owned(),
            };
            let ufs = UnderFileSystem::open(root_ufs, root_options)?;
            let st = ufs
                .stat(&path)
                .await?
                .ok_or_else(|| MasterError::NotFound { path: format!("{uri} (backup in the root UFS {root_ufs})") })?;
            ufs.read(&path, 0, st.length).await?.to_vec()
        }
    };
    let name = uri.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut ns = Namespace::new();
        let mut removed = Vec::new();
        let started = std::time::Instant::now();
        let mut last_log = std::time::Instant::now();
        let info = read_backup(&bytes[..], &name, |i, e| {
            if last_log.elapsed().as_secs() >= 30 {
                tracing::info!("restoring backup {name}: {i} entries applied");
                last_log = std::time::Instant::now();
            }
            Ok(ns.apply(&e, &mut removed)?)
        })
        .map_err(MasterError::Restore)?;
        tracing::info!(
            "read backup {name} (format version {}, written by alluxio-rs {} on {} for cluster {}) in {} ms",
            info.header.format_version,
            info.header.software_version,
            info.header.host,
            info.header.cluster_id,
            started.elapsed().as_millis()
        );
        Ok((ns, info.entries))
    })
    .await
    .map_err(MasterError::task("restore"))?
}

/// Writes a restored namespace into an empty journal as its first checkpoint (atomic).
pub fn write_restored(layout: &alluxio_journal::Layout, ns: &Namespace) -> Result<()> {
    let mut w = alluxio_journal::checkpoint::CheckpointWriter::create(layout, 0)?;
    ns.snapshot(|e| w.append(&JournalEntry { sequence_number: 0, entry: Some(e) }))?;
    w.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_schedule() {
        let day = 86_400_000;
        assert_eq!(ms_until("05:00", 0), Some(5 * 3_600_000));
        assert_eq!(ms_until("00:00", 1), Some(day - 1));
        assert_eq!(ms_until("25:00", 0), None);
    }
}
