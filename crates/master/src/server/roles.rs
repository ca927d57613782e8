//! Who serves: a single master (UFS or NOOP journal) is primary from the start; an
//! embedded-journal master follows its Raft role, starts serving when elected, and restarts
//! as a standby when it loses leadership.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use alluxio_common::conf::Conf;
use alluxio_journal::raft::{RaftJournal, Role};

use crate::backup::Backups;
use crate::fs::FileSystemMaster;
use crate::persistence::{self, PersistOptions};
use crate::MasterError;

/// Starts serving now (no Raft), or follows the Raft role in the background.
pub(super) async fn start(
    master: &Arc<FileSystemMaster>,
    conf: &Arc<Conf>,
    backups: &Arc<Backups>,
    raft: Option<&Arc<RaftJournal>>,
    daily_backup_time: Option<String>,
) -> Result<(), MasterError> {
    let Some(j) = raft else {
        master.finish_recovery();
        return start_primary(master, conf, backups, daily_backup_time).await;
    };
    let (m, c, b, j) = (master.clone(), conf.clone(), backups.clone(), j.clone());
    tokio::spawn(async move {
        if let Err(e) = j.bootstrap().await {
            m.fail(e.to_string());
            return;
        }
        let mut role = j.role();
        let _ = role.wait_for(|r| !matches!(r, Role::Standby { .. })).await;
        if *role.borrow() == Role::Primary {
            m.finish_recovery();
            if let Err(e) = restore_into_quorum(&m, &c).await {
                m.fail(e.to_string());
                return;
            }
            if let Err(e) = start_primary(&m, &c, &b, daily_backup_time).await {
                if *role.borrow() == Role::Primary {
                    m.fail(format!("cannot start serving as the leader: {e}"));
                    return;
                }
            }
            j.refresh_members_loop();
            let _ = role.wait_for(|r| *r != Role::Primary).await;
        }
        let r = role.borrow().clone();
        match r {
            Role::Failed(why) => {
                m.fail(format!("the embedded journal stopped: {why}"));
            }
            _ => restart_as_standby(),
        }
    });
    Ok(())
}

/// `alluxio-start.sh -i <backup> masters` with the embedded journal: the first leader of a
/// quorum with an empty namespace restores the backup through the journal; later leaders (or
/// restarts) find the namespace there and ignore the backup.
async fn restore_into_quorum(master: &Arc<FileSystemMaster>, conf: &Conf) -> Result<(), MasterError> {
    let Some(uri) = conf.get("alluxio.master.journal.init.from.backup")? else {
        return Ok(());
    };
    if master.namespace().root_id().is_some() {
        tracing::warn!("the embedded journal is not empty, so the backup {uri} was not applied");
        return Ok(());
    }
    let root_ufs = conf.get_str("alluxio.master.mount.table.root.ufs")?;
    let root_opts: BTreeMap<String, String> =
        conf.with_prefix("alluxio.master.mount.table.root.option.").into_iter().collect();
    tracing::info!("restoring the embedded journal from backup {uri}");
    let started = Instant::now();
    let (ns, n) = crate::backup::restore_namespace(&uri, &root_ufs, &root_opts).await?;
    master.restore_entries(ns.entries()).await?;
    master.finish_recovery();
    tracing::info!("Restored {n} entries from backup {uri} in {} ms", started.elapsed().as_millis());
    Ok(())
}

/// A primary that lost leadership may hold changes that will never commit: it drops all
/// memory by re-executing itself (same pid, so pid files stay valid) and rejoins as a standby.
fn restart_as_standby() -> ! {
    use std::os::unix::process::CommandExt;
    tracing::warn!("restarting to rejoin the embedded journal quorum as a standby");
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let err = match std::env::current_exe() {
        Ok(exe) => std::process::Command::new(exe).args(args).exec(),
        Err(e) => e,
    };
    tracing::error!("cannot restart the master process: {err}");
    std::process::exit(1)
}

/// What only the serving master runs: the root inode, leases, checkpoints, lost-worker
/// detection, TTL and replication checks, persistence and daily backups.
async fn start_primary(
    master: &Arc<FileSystemMaster>,
    conf: &Arc<Conf>,
    backups: &Arc<Backups>,
    daily_backup_time: Option<String>,
) -> Result<(), MasterError> {
    master.blocks.start_serving();
    let root_ufs = conf.get_str("alluxio.master.mount.table.root.ufs")?;
    let root_opts: BTreeMap<String, String> =
        conf.with_prefix("alluxio.master.mount.table.root.option.").into_iter().collect();
    master
        .ensure_root(
            &root_ufs,
            root_opts,
            conf.get_bool("alluxio.master.mount.table.root.readonly")?,
            conf.get_bool("alluxio.master.mount.table.root.shared")?,
        )
        .await?;
    spawn_loops(master, conf)?;
    if let Some(time) = daily_backup_time {
        spawn_daily_backups(master, conf, backups, time)?;
    }
    Ok(())
}

/// The primary's background loops: lease expiry, checkpoints, lost workers, TTLs,
/// replication, persistence.
fn spawn_loops(master: &Arc<FileSystemMaster>, conf: &Conf) -> Result<(), MasterError> {
    let blocks = master.blocks.clone();
    master.init_leases();
    {
        let m = master.clone();
        let every =
            (m.opts.lease_timeout / 4).clamp(std::time::Duration::from_millis(100), std::time::Duration::from_secs(10));
        tokio::spawn(async move {
            let mut t = tokio::time::interval(every);
            loop {
                t.tick().await;
                m.expire_leases().await;
            }
        });
    }
    let (kick_tx, mut kick_rx) = tokio::sync::mpsc::channel::<()>(1);
    master.set_checkpoint_kick(kick_tx);
    {
        let m = master.clone();
        tokio::spawn(async move {
            while kick_rx.recv().await.is_some() {
                let m2 = m.clone();
                if let Ok(Err(e)) = tokio::task::spawn_blocking(move || m2.checkpoint_blocking()).await {
                    tracing::error!("automatic checkpoint failed: {e}");
                }
            }
        });
    }
    {
        let b = blocks.clone();
        let every = conf.get_duration("alluxio.master.lost.worker.detection.interval")?;
        tokio::spawn(async move {
            let mut t = tokio::time::interval(every);
            loop {
                t.tick().await;
                for a in b.detect_lost_workers() {
                    tracing::warn!(
                        "worker {}:{} is lost: no heartbeat within alluxio.master.worker.timeout",
                        a.host,
                        a.rpc_port
                    );
                }
            }
        });
    }
    tokio::spawn(crate::policies::ttl_checker(
        master.clone(),
        conf.get_duration("alluxio.master.ttl.checker.interval")?.max(std::time::Duration::from_millis(100)),
    ));
    tokio::spawn(crate::policies::replication_checker(
        master.clone(),
        conf.get_duration("alluxio.master.replication.check.interval")?.max(std::time::Duration::from_millis(100)),
    ));
    tokio::spawn(persistence::run(
        master.clone(),
        PersistOptions {
            interval: conf.get_duration("alluxio.master.persistence.scheduler.interval")?,
            initial_backoff: conf.get_duration("alluxio.master.persistence.initial.interval")?,
            max_backoff: conf.get_duration("alluxio.master.persistence.max.interval")?,
            give_up_after: conf.get_duration("alluxio.master.persistence.max.total.wait.time")?,
        },
    ));
    Ok(())
}

/// Daily backups at `time` (UTC), keeping `alluxio.master.daily.backup.files.retained`.
fn spawn_daily_backups(
    master: &Arc<FileSystemMaster>,
    conf: &Conf,
    backups: &Arc<Backups>,
    time: String,
) -> Result<(), MasterError> {
    let retain = conf.get_i64("alluxio.master.daily.backup.files.retained")?.max(1) as usize;
    let (m, b) = (master.clone(), backups.clone());
    tokio::spawn(async move {
        loop {
            let wait = crate::backup::ms_until(&time, alluxio_common::now_ms()).unwrap_or(86_400_000);
            tokio::time::sleep(std::time::Duration::from_millis(wait.max(1) as u64)).await;
            let req = crate::backup::BackupRequest { directory: String::new(), local: false };
            match crate::backup::start_backup(m.clone(), b.clone(), req, true).await {
                Ok(s) if s.error.is_empty() => {
                    tracing::info!("daily backup written to {}", s.backup_uri);
                    if let Err(e) = crate::backup::delete_old_backups(&m, &b.default_dir, retain).await {
                        tracing::warn!("cannot delete old daily backups: {e}");
                    }
                }
                Ok(s) => tracing::error!("daily backup failed: {}", s.error),
                Err(e) => tracing::error!("daily backup failed: {e}"),
            }
            // Never run twice in the same minute.
            tokio::time::sleep(std::time::Duration::from_secs(61)).await;
        }
    });
    Ok(())
}
