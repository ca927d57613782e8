//! File-system operations: validate, change the namespace, journal, answer.
//!
//! Every mutation follows the same steps:
//! 1. validate against the namespace under its read lock (and load metadata from the UFS);
//! 2. do the UFS side effect (mkdir, delete, rename), outside any lock;
//! 3. under the write lock, re-validate, apply the journal entries and append them to the
//!    journal in the same critical section (so journal order = apply order);
//! 4. release the lock, wait until the journal made the entries durable, then answer.
//!
//! A failed step 1 or 2 leaves metadata untouched; UFS effects of step 2 happen only once
//! validation passed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use alluxio_common::{id, mode, now_ms, AlluxioPath};
use alluxio_journal::checkpoint::CheckpointWriter;
use alluxio_journal::{Journal, Layout};
use alluxio_proto::grpc::file::MountPointInfo;
use alluxio_proto::grpc::{BlockInfo, BlockLocation, FileBlockInfo, FileInfo, TtlAction, WritePType};
use alluxio_proto::journal::journal_entry::Entry;
use alluxio_proto::journal::*;
use alluxio_ufs::{is_temp_name, UfsError, UfsStatus, UnderFileSystem};
use parking_lot::{Mutex, RwLock};
use rustc_hash::FxHashMap;

use crate::block_master::BlockMaster;
use crate::error::{MasterError, Result};
use crate::inode::{ttl_to_journal, Inode, InodeKind, PersistenceState, NO_PARENT};
use crate::mount_table::{is_secret_key, redacted, MountInfo, ROOT_MOUNT_ID};
pub use crate::namespace::plan::Caller;
use crate::namespace::plan::{self, persisted_ancestors};
use crate::namespace::{IdAllocator, Lookup, Namespace};

mod attributes;
mod blocks;
mod checkpoint;
mod convert;
mod create;
mod leases;
mod metadata;
mod mounts;
mod persistence;
mod reads;
mod remove_rename;
mod ufs_access;

/// When to consult the UFS for paths Alluxio does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadType {
    Once,
    Never,
    Always,
}

/// Settings the file-system master reads once at start.
#[derive(Debug, Clone)]
pub struct FsOptions {
    pub default_block_size: i64,
    pub umask: i32,
    pub super_user: String,
    pub supergroup: String,
    pub load_type: LoadType,
    pub list_batch: usize,
    pub checkpoint_period_entries: i64,
    pub permission_check: bool,
    /// An incomplete file whose writer did not renew its lease for this long is deleted.
    pub lease_timeout: std::time::Duration,
    /// Plaintext or TLS, for the calls the master makes to workers.
    pub transport: alluxio_proto::transport::Transport,
}

/// The smallest block size a file may have (as HDFS's `dfs.namenode.fs-limits.min-block-size`):
/// smaller blocks turn one file into thousands of block files and RPCs.
pub const MIN_BLOCK_SIZE: i64 = 1 << 20;

/// Options of `create_file`.
#[derive(Debug, Clone, Default)]
pub struct CreateFileOptions {
    pub block_size: i64,
    pub recursive: bool,
    pub mode: Option<i32>,
    pub write_type: Option<WritePType>,
    pub ttl: Option<i64>,
    pub ttl_action: TtlAction,
    pub replication_min: i32,
    pub replication_max: i32,
}

fn persists(w: WritePType) -> bool {
    matches!(w, WritePType::CacheThrough | WritePType::Through | WritePType::AsyncThrough)
}

fn entry(e: Entry) -> JournalEntry {
    JournalEntry { sequence_number: 0, entry: Some(e) }
}

/// The file-system master: namespace, mounts, and coordination with the block master.
pub struct FileSystemMaster {
    ns: Arc<RwLock<Namespace>>,
    journal: Arc<dyn Journal>,
    layout: Option<Layout>,
    pub blocks: Arc<BlockMaster>,
    ufs_cache: RwLock<FxHashMap<i64, UnderFileSystem>>,
    pub opts: FsOptions,
    /// Who may do what (from `opts`).
    perms: plan::Permissions,
    checkpoint_running: AtomicBool,
    last_checkpoint: AtomicI64,
    checkpoint_lock: Mutex<()>,
    /// Set when the journal or the role failed: the process must exit and replay.
    fatal: tokio::sync::watch::Sender<Option<String>>,
    /// Wakes the background checkpointer.
    checkpoint_kick: std::sync::OnceLock<tokio::sync::mpsc::Sender<()>>,
    /// Last lease renewal of each file being written.
    leases: Mutex<FxHashMap<i64, std::time::Instant>>,
    /// Channels to workers, for calls the master makes.
    pub workers: crate::persistence::WorkerClients,
    /// When each inode was last synchronised with the UFS (metadata sync; not journaled).
    synced: Mutex<FxHashMap<i64, std::time::Instant>>,
}

impl FileSystemMaster {
    pub fn new(
        ns: Arc<RwLock<Namespace>>,
        journal: Arc<dyn Journal>,
        layout: Option<Layout>,
        blocks: Arc<BlockMaster>,
        opts: FsOptions,
        last_checkpoint: i64,
    ) -> Self {
        let workers = crate::persistence::WorkerClients::new(opts.transport.clone());
        FileSystemMaster {
            ns,
            journal,
            layout,
            blocks,
            ufs_cache: RwLock::new(FxHashMap::default()),
            perms: plan::Permissions {
                enabled: opts.permission_check,
                super_user: opts.super_user.clone(),
                supergroup: opts.supergroup.clone(),
            },
            opts,
            checkpoint_running: AtomicBool::new(false),
            last_checkpoint: AtomicI64::new(last_checkpoint),
            checkpoint_lock: Mutex::new(()),
            fatal: tokio::sync::watch::channel(None).0,
            checkpoint_kick: std::sync::OnceLock::new(),
            leases: Mutex::new(FxHashMap::default()),
            workers,
            synced: Mutex::new(FxHashMap::default()),
        }
    }

    /// Replay is over and this master starts serving: ids used before the restart are never
    /// handed out again.
    pub fn finish_recovery(&self) {
        self.ns.write().finish_recovery();
    }

    /// Read access to the namespace (reports, tests, block checks).
    pub fn namespace(&self) -> parking_lot::RwLockReadGuard<'_, Namespace> {
        self.ns.read()
    }

    /// Stops the master: the journal or its role failed and only a restart (replaying the
    /// journal) recovers. Kept even when nothing watches yet, as during start-up.
    pub fn fail(&self, why: impl Into<String>) {
        self.fatal.send_replace(Some(why.into()));
    }

    /// Watches for [`FileSystemMaster::fail`] (a failure from before the call included).
    pub fn failures(&self) -> tokio::sync::watch::Receiver<Option<String>> {
        self.fatal.subscribe()
    }

    /// Why the master failed, if it did.
    pub fn failure(&self) -> Option<String> {
        self.fatal.borrow().clone()
    }

    pub fn journal(&self) -> &Arc<dyn Journal> {
        &self.journal
    }

    /// Applies entries and appends them to the journal under the caller's write lock.
    /// Returns the ticket to wait on and the inodes deletes removed.
    fn commit(
        &self,
        ns: &mut Namespace,
        entries: Vec<Entry>,
    ) -> (alluxio_journal::Ticket, Vec<Inode>, Option<crate::namespace::ApplyError>) {
        let mut removed = Vec::new();
        let mut applied = Vec::with_capacity(entries.len());
        let mut error = None;
        for e in entries {
            if let Err(why) = ns.apply_entry(&e, &mut removed) {
                // Validation should have prevented this; journal what was applied so the
                // journal still matches memory, and report the bug.
                error = Some(why);
                break;
            }
            applied.push(entry(e));
        }
        (self.journal.append(applied), removed, error)
    }

    /// Waits for durability; on journal failure flags the process to exit.
    async fn durable(&self, ticket: alluxio_journal::Ticket, bug: Option<crate::namespace::ApplyError>) -> Result<()> {
        if let Err(e) = ticket.wait().await {
            // Lost leadership: the change may or may not commit; the master restarts as a
            // standby (see `server`), and the client retries on the new leader.
            if let alluxio_journal::JournalError::NotLeader(_) = e {
                return Err(MasterError::Journal(e));
            }
            self.fail(e.to_string());
            return Err(MasterError::NotJournaled(e));
        }
        if let Some(why) = bug {
            return Err(MasterError::Inconsistent(why));
        }
        self.maybe_checkpoint();
        Ok(())
    }

    /// One journaled change: apply + append under the lock, then wait.
    async fn journaled(&self, build: impl FnOnce(&mut Namespace) -> Result<Vec<Entry>>) -> Result<Vec<Inode>> {
        let (ticket, removed, bug) = {
            let mut ns = self.ns.write();
            let entries = build(&mut ns)?;
            if entries.is_empty() {
                return Ok(Vec::new());
            }
            self.commit(&mut ns, entries)
        };
        self.durable(ticket, bug).await?;
        Ok(removed)
    }

    // ---------------------------------------------------------------- bootstrap

    /// Replaces an empty namespace with `entries` (a backup being restored into the embedded
    /// journal), journaling them in batches; returns once a quorum holds them all.
    pub async fn restore_entries(&self, entries: Vec<Entry>) -> Result<()> {
        let mut tickets = Vec::new();
        {
            let mut ns = self.ns.write();
            if ns.root_id().is_some() {
                return Err(MasterError::NamespaceNotEmpty);
            }
            let mut it = entries.into_iter().peekable();
            while it.peek().is_some() {
                let chunk: Vec<Entry> = it.by_ref().take(10_000).collect();
                let (ticket, _, bug) = self.commit(&mut ns, chunk);
                tickets.push((ticket, bug));
            }
        }
        for (t, bug) in tickets {
            self.durable(t, bug).await?;
        }
        Ok(())
    }

    /// Creates the root inode, root mount and cluster id when the journal had none.
    pub async fn ensure_root(
        &self,
        root_ufs: &str,
        root_options: BTreeMap<String, String>,
        read_only: bool,
        shared: bool,
    ) -> Result<()> {
        if self.ns.read().root_id().is_some() {
            let ns = self.ns.read();
            if let Some(m) = ns.mounts().get(&AlluxioPath::root()) {
                if m.ufs_uri != root_ufs {
                    tracing::warn!(
                        "alluxio.master.mount.table.root.ufs is {root_ufs}, but the journal's root mount is {}; \
                         keeping the journal's (format the journal to change the root UFS)",
                        m.ufs_uri
                    );
                }
            }
            return Ok(());
        }
        // A local root UFS is created on first start (Alluxio's default underFSStorage).
        if alluxio_ufs::scheme_of(root_ufs) == "file" {
            let dir = root_ufs.strip_prefix("file://").unwrap_or(root_ufs);
            std::fs::create_dir_all(dir).map_err(MasterError::io("create the root UFS directory", dir))?;
        }
        let ufs = UnderFileSystem::open(root_ufs, &root_options)?;
        let user = self.opts.super_user.clone();
        let group = alluxio_common::user::primary_group_of(&user);
        let umask = self.opts.umask;
        let uri = ufs.uri().to_owned();
        self.journaled(|ns| {
            let mut entries = Vec::new();
            entries.push(Entry::ClusterInfo(ClusterInfoEntry { cluster_id: new_cluster_id() }));
            let root = IdAllocator::new(ns).directory_id(&mut entries);
            let t = now_ms();
            entries.push(Entry::InodeDirectory(InodeDirectoryEntry {
                id: root,
                parent_id: NO_PARENT,
                name: String::new(),
                persistence_state: PersistenceState::Persisted.as_str().into(),
                creation_time_ms: t,
                last_modification_time_ms: t,
                owner: user,
                group,
                mode: mode::apply_umask(0o777, umask),
                mount_point: true,
                ttl: -1,
                ..Default::default()
            }));
            entries.push(Entry::AddMountPoint(AddMountPointEntry {
                alluxio_path: "/".into(),
                ufs_path: uri,
                read_only,
                properties: root_options.into_iter().map(|(key, value)| StringPairEntry { key, value }).collect(),
                shared,
                mount_id: ROOT_MOUNT_ID,
            }));
            Ok(entries)
        })
        .await?;
        Ok(())
    }
}

/// Everything a worker needs to write one file to the UFS.
#[derive(Debug, Clone)]
pub struct PersistPlan {
    pub file_id: i64,
    pub path: AlluxioPath,
    pub mount: MountInfo,
    pub ufs_rel: String,
    pub block_ids: Vec<i64>,
    pub block_lengths: Vec<i64>,
    pub owner: String,
    pub group: String,
    pub mode: i32,
}

fn join_uri(base: &str, rel: &str) -> String {
    if rel.is_empty() {
        base.to_owned()
    } else {
        format!("{}/{rel}", base.trim_end_matches('/'))
    }
}

fn new_cluster_id() -> String {
    let r: u128 = rand::random();
    let h = format!("{r:032x}");
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// Redacts nothing but exposes the secret-key test for other modules.
pub fn option_is_secret(k: &str) -> bool {
    is_secret_key(k)
}

/// The mode `fsadmin ufs --mode` set for the under storage at `uri` (or a prefix of it).
fn ufs_mode_of(ns: &Namespace, uri: &str) -> UfsMode {
    ns.ufs_modes()
        .iter()
        .filter(|(k, _)| uri == k.as_str() || uri.starts_with(&format!("{k}/")))
        .max_by_key(|(k, _)| k.len())
        .and_then(|(_, m)| UfsMode::try_from(*m).ok())
        .unwrap_or(UfsMode::ReadWrite)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master() -> FileSystemMaster {
        let opts = FsOptions {
            default_block_size: 64 << 20,
            umask: 0o022,
            super_user: "root".into(),
            supergroup: "supergroup".into(),
            load_type: LoadType::Once,
            list_batch: 100,
            checkpoint_period_entries: 1_000_000,
            permission_check: true,
            lease_timeout: std::time::Duration::from_secs(60),
            transport: Default::default(),
        };
        let blocks = Arc::new(BlockMaster::new(std::time::Duration::from_secs(60), std::time::Duration::ZERO));
        let journal = Arc::new(alluxio_journal::NoopJournal::default());
        FileSystemMaster::new(Default::default(), journal, None, blocks, opts, 0)
    }

    /// A failure during start-up (a bad backup found by the first leader) comes before the
    /// servers watch for failures: it must still stop the process, not be lost.
    #[tokio::test]
    async fn a_failure_before_anyone_watches_still_stops_the_master() {
        let m = master();
        m.fail("the backup is damaged");
        let mut watch = m.failures();
        let seen = tokio::time::timeout(std::time::Duration::from_secs(2), watch.wait_for(|f| f.is_some())).await;
        assert!(seen.is_ok(), "the failure was lost");
        assert_eq!(m.failure().as_deref(), Some("the backup is damaged"));
    }
}
