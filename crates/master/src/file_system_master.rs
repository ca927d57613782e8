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
use alluxio_proto::grpc::file::{MountPointInfo, SetAttributePOptions};
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
use crate::namespace::{Lookup, Namespace};

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
}

/// The smallest block size a file may have (as HDFS's `dfs.namenode.fs-limits.min-block-size`):
/// smaller blocks turn one file into thousands of block files and RPCs.
pub const MIN_BLOCK_SIZE: i64 = 1 << 20;

/// Who is asking (SIMPLE authentication: the name the client asserts).
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: String,
    pub group: String,
}

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
    checkpoint_running: AtomicBool,
    last_checkpoint: AtomicI64,
    checkpoint_lock: Mutex<()>,
    /// Set when the journal failed: the process must exit and replay.
    pub fatal: tokio::sync::watch::Sender<Option<String>>,
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
        FileSystemMaster {
            ns,
            journal,
            layout,
            blocks,
            ufs_cache: RwLock::new(FxHashMap::default()),
            opts,
            checkpoint_running: AtomicBool::new(false),
            last_checkpoint: AtomicI64::new(last_checkpoint),
            checkpoint_lock: Mutex::new(()),
            fatal: tokio::sync::watch::channel(None).0,
            checkpoint_kick: std::sync::OnceLock::new(),
            leases: Mutex::new(FxHashMap::default()),
            workers: Default::default(),
            synced: Mutex::new(FxHashMap::default()),
        }
    }

    /// The namespace itself (the embedded journal's state machine applies to it).
    pub fn namespace_lock(&self) -> &Arc<RwLock<Namespace>> {
        &self.ns
    }

    /// Read access to the namespace (reports, tests, block checks).
    pub fn namespace(&self) -> parking_lot::RwLockReadGuard<'_, Namespace> {
        self.ns.read()
    }

    pub fn journal(&self) -> &Arc<dyn Journal> {
        &self.journal
    }

    /// Applies entries and appends them to the journal under the caller's write lock.
    /// Returns the ticket to wait on and the inodes deletes removed.
    fn commit(&self, ns: &mut Namespace, entries: Vec<Entry>) -> (alluxio_journal::Ticket, Vec<Inode>, Option<String>) {
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
    async fn durable(&self, ticket: alluxio_journal::Ticket, bug: Option<String>) -> Result<()> {
        if let Err(e) = ticket.wait().await {
            // Lost leadership: the change may or may not commit; the master restarts as a
            // standby (see `server`), and the client retries on the new leader.
            if let alluxio_journal::JournalError::NotLeader(_) = e {
                return Err(MasterError::Journal(e));
            }
            let _ = self.fatal.send(Some(e.to_string()));
            return Err(MasterError::Unavailable(format!("metadata change not journaled: {e}")));
        }
        if let Some(why) = bug {
            return Err(MasterError::Internal(format!("inconsistent metadata change: {why}")));
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
                return Err(MasterError::FailedPrecondition("the namespace is not empty".into()));
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
            if let Some(m) = ns.mounts.get(&AlluxioPath::root()) {
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
            std::fs::create_dir_all(dir)
                .map_err(|e| MasterError::Unavailable(format!("cannot create root UFS directory {dir}: {e}")))?;
        }
        let ufs = UnderFileSystem::open(root_ufs, &root_options)?;
        let user = self.opts.super_user.clone();
        let group = alluxio_common::user::primary_group_of(&user);
        let umask = self.opts.umask;
        let uri = ufs.uri().to_owned();
        self.journaled(|ns| {
            let mut entries = Vec::new();
            entries.push(Entry::ClusterInfo(ClusterInfoEntry { cluster_id: new_cluster_id() }));
            let root = ns.next_directory_id(&mut entries);
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

    // ---------------------------------------------------------------- UFS access

    /// The UFS of a mount (opened once, cached by mount id).
    pub fn ufs_of(&self, m: &MountInfo) -> Result<UnderFileSystem> {
        if let Some(u) = self.ufs_cache.read().get(&m.mount_id) {
            return Ok(u.clone());
        }
        let u = UnderFileSystem::open(&m.ufs_uri, &m.properties)?;
        self.ufs_cache.write().insert(m.mount_id, u.clone());
        Ok(u)
    }

    /// The mount of `path`, its UFS and the path relative to the UFS root.
    fn resolve_ufs(&self, ns: &Namespace, path: &AlluxioPath) -> Result<(MountInfo, UnderFileSystem, String)> {
        let (m, rel) = ns.mounts.resolve(path).ok_or_else(|| MasterError::Internal(format!("no mount for {path}")))?;
        let m = m.clone();
        let ufs = self.ufs_of(&m)?;
        Ok((m, ufs, rel))
    }

    /// Full UFS path of an Alluxio path.
    pub fn ufs_path_of(&self, path: &AlluxioPath) -> Result<(i64, String)> {
        let ns = self.ns.read();
        let (m, ufs, rel) = self.resolve_ufs(&ns, path)?;
        Ok((m.mount_id, ufs.full_path(&rel)))
    }

    /// Mount info for a worker (`GetUfsInfo`), credentials included.
    pub fn mount_by_id(&self, mount_id: i64) -> Option<MountInfo> {
        self.ns.read().mounts.by_id(mount_id).cloned()
    }

    fn check_writable(ns: &Namespace, m: &MountInfo, path: &AlluxioPath) -> Result<()> {
        if m.read_only {
            return Err(MasterError::PermissionDenied(format!(
                "A write operation on {path} under a readonly mount point {} is not allowed",
                m.alluxio_path
            )));
        }
        let mode = ufs_mode_of(ns, &m.ufs_uri);
        if mode != UfsMode::ReadWrite {
            return Err(MasterError::PermissionDenied(format!(
                "A write operation on {path} is not allowed: its under storage {} is in {} mode \
                 (alluxio fsadmin ufs --mode readWrite {} allows writes again)",
                m.ufs_uri,
                mode.as_str_name(),
                m.ufs_uri
            )));
        }
        Ok(())
    }

    /// `fsadmin ufs --mode`: sets the access mode of a mounted under storage (journaled).
    pub async fn update_ufs_mode(&self, ufs_path: &str, mode: UfsMode) -> Result<()> {
        let key = ufs_path.trim_end_matches('/').to_owned();
        self.journaled(|ns| {
            if !ns.mounts.iter().any(|m| m.ufs_uri == key || m.ufs_uri.starts_with(&format!("{key}/"))) {
                return Err(MasterError::NotFound { path: format!("mounted under storage {ufs_path}") });
            }
            Ok(vec![Entry::UpdateUfsMode(UpdateUfsModeEntry { ufs_path: key.clone(), ufs_mode: mode as i32 })])
        })
        .await?;
        Ok(())
    }

    /// The access mode of the under storage of a mount (`fsadmin ufs --mode`).
    pub fn ufs_mode(&self, m: &MountInfo) -> UfsMode {
        ufs_mode_of(&self.ns.read(), &m.ufs_uri)
    }

    // ---------------------------------------------------------------- metadata loading

    /// Makes `path` known to Alluxio if it exists in the UFS but not in Alluxio yet.
    pub async fn load_metadata(&self, path: &AlluxioPath) -> Result<()> {
        self.load_metadata_opt(path, false).await
    }

    /// As `load_metadata`; with `trust_listing`, a path whose parent's UFS listing was
    /// already loaded is taken as absent without asking the UFS again (the fast path of
    /// creates that do not write to the UFS).
    async fn load_metadata_opt(&self, path: &AlluxioPath, trust_listing: bool) -> Result<()> {
        if self.opts.load_type == LoadType::Never {
            return Ok(());
        }
        let (ufs, m, start_depth) = {
            let ns = self.ns.read();
            match ns.lookup(path) {
                Lookup::Found(_) | Lookup::NotADirectory { .. } => return Ok(()),
                Lookup::Missing { deepest, depth } => {
                    let loaded = deepest.dir().is_some_and(|d| d.children_loaded);
                    if trust_listing && loaded && depth + 1 == path.depth() && self.opts.load_type == LoadType::Once {
                        return Ok(()); // the parent's listing was loaded: known absent
                    }
                    let (m, ufs, _) = self.resolve_ufs(&ns, path)?;
                    if ufs_mode_of(&ns, &m.ufs_uri) == UfsMode::NoAccess {
                        return Ok(()); // the under storage may not be touched
                    }
                    (ufs, m, depth)
                }
            }
        };
        let comps: Vec<&str> = path.components().collect();
        let mut statuses: Vec<UfsStatus> = Vec::new();
        let mut prefix = AlluxioPath::root();
        for (i, c) in comps.iter().enumerate() {
            prefix = prefix.join(c);
            if i < start_depth {
                continue;
            }
            if is_temp_name(c) {
                return Ok(());
            }
            let rel = prefix.strip_ancestor(&m.alluxio_path).unwrap_or("").to_owned();
            match ufs.stat(&rel).await? {
                None => return Ok(()),
                Some(st) => {
                    let last = i + 1 == comps.len();
                    if !last && !st.is_dir {
                        return Ok(());
                    }
                    statuses.push(st);
                }
            }
        }
        let ufs_kind = ufs.kind();
        self.journaled(|ns| {
            let mut entries = Vec::new();
            let (mut parent, depth) = match ns.lookup(path) {
                Lookup::Missing { deepest, depth } if deepest.is_dir() && depth >= start_depth => (deepest.id, depth),
                _ => return Ok(Vec::new()), // created meanwhile (or changed shape): nothing to load
            };
            for (i, st) in statuses.iter().enumerate().skip(depth - start_depth) {
                let name = comps[start_depth + i];
                let e = self.inode_from_ufs(ns, parent, name, st, ufs_kind, &mut entries);
                parent = match &e {
                    Entry::InodeDirectory(d) => d.id,
                    Entry::InodeFile(f) => f.id,
                    _ => parent,
                };
                entries.push(e);
            }
            Ok(entries)
        })
        .await?;
        Ok(())
    }

    fn inode_from_ufs(
        &self,
        ns: &mut Namespace,
        parent: i64,
        name: &str,
        st: &UfsStatus,
        ufs_kind: &str,
        entries: &mut Vec<Entry>,
    ) -> Entry {
        let owner = st.owner.clone().unwrap_or_else(|| self.opts.super_user.clone());
        let group = st.group.clone().unwrap_or_else(|| alluxio_common::user::primary_group_of(&owner));
        let t = if st.mtime_ms > 0 { st.mtime_ms } else { now_ms() };
        if st.is_dir {
            let id = ns.next_directory_id(entries);
            Entry::InodeDirectory(InodeDirectoryEntry {
                id,
                parent_id: parent,
                name: name.into(),
                persistence_state: PersistenceState::Persisted.as_str().into(),
                creation_time_ms: t,
                last_modification_time_ms: t,
                owner,
                group,
                mode: st.mode.unwrap_or(0o755),
                direct_children_loaded: false,
                ttl: -1,
                ..Default::default()
            })
        } else {
            let id = ns.next_file_id(entries);
            Entry::InodeFile(InodeFileEntry {
                id,
                parent_id: parent,
                name: name.into(),
                persistence_state: PersistenceState::Persisted.as_str().into(),
                creation_time_ms: t,
                last_modification_time_ms: t,
                block_size_bytes: self.opts.default_block_size,
                length: st.length as i64,
                completed: true,
                cacheable: true,
                ttl: -1,
                owner,
                group,
                mode: st.mode.unwrap_or(0o644),
                replication_max: -1,
                ufs_fingerprint: st.fingerprint(ufs_kind),
                ..Default::default()
            })
        }
    }

    /// Loads the UFS listing of a directory once.
    async fn load_children(&self, path: &AlluxioPath) -> Result<()> {
        if self.opts.load_type == LoadType::Never {
            return Ok(());
        }
        let (ufs, rel, dir_id) = {
            let ns = self.ns.read();
            let Some(n) = ns.find(path) else {
                return Ok(());
            };
            match n.dir() {
                Some(d) if !d.children_loaded || self.opts.load_type == LoadType::Always => {}
                _ => return Ok(()),
            }
            let (_, ufs, rel) = self.resolve_ufs(&ns, path)?;
            (ufs, rel, n.id)
        };
        let listing = match ufs.list(&rel).await {
            Ok(l) => l,
            Err(alluxio_ufs::UfsError::NotFound { .. }) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let ufs_kind = ufs.kind();
        self.journaled(|ns| {
            let mut entries = Vec::new();
            let Some(d) = ns.get(dir_id).and_then(|n| n.dir()) else {
                return Ok(entries);
            };
            let loaded = d.children_loaded;
            if loaded && self.opts.load_type != LoadType::Always {
                return Ok(entries);
            }
            let missing: Vec<&UfsStatus> = listing
                .iter()
                .filter(|s| !is_temp_name(&s.name) && !d.children.contains_key(s.name.as_str()))
                .collect();
            for st in missing {
                let e = self.inode_from_ufs(ns, dir_id, &st.name, st, ufs_kind, &mut entries);
                entries.push(e);
            }
            if !loaded {
                entries.push(Entry::UpdateInodeDirectory(UpdateInodeDirectoryEntry {
                    id: dir_id,
                    direct_children_loaded: Some(true),
                    ..Default::default()
                }));
            }
            Ok(entries)
        })
        .await?;
        Ok(())
    }

    // ---------------------------------------------------------------- metadata sync

    /// Brings `path` (and a directory's direct children) in line with the UFS when its last
    /// sync is older than `interval_ms` (`alluxio.user.file.metadata.sync.interval`; negative:
    /// never). Files changed in the UFS are reloaded (their cached blocks dropped), files gone
    /// from the UFS are removed, new ones appear. Data Alluxio has not persisted is left alone.
    pub async fn sync_metadata(&self, path: &AlluxioPath, interval_ms: i64) -> Result<()> {
        if interval_ms < 0 {
            return Ok(());
        }
        let interval = std::time::Duration::from_millis(interval_ms as u64);
        let (mount, ufs, rel, existing) = {
            let ns = self.ns.read();
            let existing = ns.find(path).map(|n| n.id);
            if let Some(id) = existing {
                if self.synced.lock().get(&id).is_some_and(|t| t.elapsed() < interval && interval_ms > 0) {
                    return Ok(());
                }
            }
            let (m, ufs, rel) = self.resolve_ufs(&ns, path)?;
            (m, ufs, rel, existing)
        };
        let Some(_) = existing else {
            // Not known yet: the ordinary lazy load.
            return self.load_metadata(path).await;
        };
        let status = ufs.stat(&rel).await?;
        let listing = match &status {
            Some(st) if st.is_dir => Some(match ufs.list(&rel).await {
                Ok(l) => l,
                Err(alluxio_ufs::UfsError::NotFound { .. }) => Vec::new(),
                Err(e) => return Err(e.into()),
            }),
            _ => None,
        };
        let kind = ufs.kind();
        let content = |fp: &str| fp.split("CONTENT_HASH|").nth(1).unwrap_or("").to_owned();
        let removed = self
            .journaled(|ns| {
                // Decide first (reading the tree), then build the entries (allocating ids).
                enum Step<'a> {
                    Delete(i64, AlluxioPath),
                    Create(i64, String, &'a UfsStatus),
                }
                let mut steps: Vec<Step> = Vec::new();
                let mut mark_loaded = None;
                {
                    let Some(n) = ns.find(path) else { return Ok(Vec::new()) };
                    let (id, parent) = (n.id, n.parent_id);
                    let synced_away = |n: &Inode| {
                        n.is_persisted()
                            && !n.dir().is_some_and(|d| d.mount_point)
                            && n.file().is_none_or(|f| f.completed)
                    };
                    match &status {
                        None if synced_away(n) && !path.is_root() => steps.push(Step::Delete(id, path.clone())),
                        None => {}
                        Some(st) if !st.is_dir => {
                            let changed = n.file().is_none() || content(&n.ufs_fingerprint) != st.content_hash;
                            if changed && synced_away(n) && !path.is_root() {
                                steps.push(Step::Delete(id, path.clone()));
                                steps.push(Step::Create(parent, path.name().to_owned(), st));
                            }
                        }
                        Some(_) => {
                            let Some(listing) = &listing else { return Ok(Vec::new()) };
                            let in_ufs: std::collections::HashMap<&str, &UfsStatus> = listing
                                .iter()
                                .filter(|s| !is_temp_name(&s.name))
                                .map(|s| (s.name.as_str(), s))
                                .collect();
                            let children = n.dir().map(|d| d.children.clone()).unwrap_or_default();
                            for (name, cid) in &children {
                                let Some(c) = ns.get(*cid) else { continue };
                                if !synced_away(c) {
                                    continue;
                                }
                                match in_ufs.get(name.as_ref()) {
                                    None => steps.push(Step::Delete(*cid, path.join(name))),
                                    Some(st)
                                        if st.is_dir != c.is_dir()
                                            || (!st.is_dir && content(&c.ufs_fingerprint) != st.content_hash) =>
                                    {
                                        steps.push(Step::Delete(*cid, path.join(name)));
                                        steps.push(Step::Create(id, name.to_string(), st));
                                    }
                                    Some(_) => {}
                                }
                            }
                            for st in in_ufs.values() {
                                if !children.contains_key(st.name.as_str()) {
                                    steps.push(Step::Create(id, st.name.clone(), st));
                                }
                            }
                            if !n.dir().is_some_and(|d| d.children_loaded) {
                                mark_loaded = Some(id);
                            }
                        }
                    }
                }
                let mut entries = Vec::new();
                for step in steps {
                    match step {
                        Step::Delete(id, p) => entries.push(Entry::DeleteFile(DeleteFileEntry {
                            id,
                            recursive: true,
                            op_time_ms: now_ms(),
                            alluxio_only: true,
                            path: p.to_string(),
                        })),
                        Step::Create(parent, name, st) => {
                            let e = self.inode_from_ufs(ns, parent, &name, st, kind, &mut entries);
                            entries.push(e);
                        }
                    }
                }
                if let Some(id) = mark_loaded {
                    entries.push(Entry::UpdateInodeDirectory(UpdateInodeDirectoryEntry {
                        id,
                        direct_children_loaded: Some(true),
                        ..Default::default()
                    }));
                }
                Ok(entries)
            })
            .await?;
        if !removed.is_empty() {
            tracing::debug!(
                "metadata sync of {path} in {}: {} inodes replaced or removed",
                mount.ufs_uri,
                removed.len()
            );
        }
        self.drop_blocks_of(&removed);
        if let Some(n) = self.ns.read().find(path) {
            self.synced.lock().insert(n.id, std::time::Instant::now());
        }
        Ok(())
    }

    // ---------------------------------------------------------------- reads

    /// Status of a path, with block locations when `with_blocks`.
    pub async fn get_status(&self, path: &AlluxioPath, with_blocks: bool) -> Result<FileInfo> {
        if let Some(fi) = self.status_now(path, with_blocks)? {
            return Ok(fi);
        }
        self.load_metadata(path).await?;
        self.status_now(path, with_blocks)?.ok_or_else(|| MasterError::not_found(path))
    }

    fn status_now(&self, path: &AlluxioPath, with_blocks: bool) -> Result<Option<FileInfo>> {
        let ns = self.ns.read();
        match ns.lookup(path) {
            Lookup::Found(n) => Ok(Some(self.file_info(&ns, n, path, with_blocks))),
            Lookup::NotADirectory { .. } => Err(MasterError::not_found(path)),
            Lookup::Missing { .. } => Ok(None),
        }
    }

    /// Builds the client-facing status of an inode.
    fn file_info(&self, ns: &Namespace, n: &Inode, path: &AlluxioPath, with_blocks: bool) -> FileInfo {
        let mut fi = n.to_file_info(path.as_str());
        if let Some((m, rel)) = ns.mounts.resolve(path) {
            fi.mount_id = m.mount_id;
            fi.ufs_path = match self.ufs_cache.read().get(&m.mount_id) {
                Some(u) => u.full_path(&rel),
                None => join_uri(&m.ufs_uri, &rel),
            };
        }
        if let InodeKind::File(f) = &n.kind {
            if f.completed && f.length == 0 {
                fi.in_alluxio_percentage = 100;
                fi.in_memory_percentage = 100;
            }
            let ids = &fi.block_ids;
            if !ids.is_empty() && f.length > 0 {
                let cached = self.blocks.cached(ids);
                let mut in_alluxio = 0i64;
                let mut in_mem = 0i64;
                for (i, (c, m)) in cached.iter().enumerate() {
                    let len = id::block_length(f.length, f.block_size, i as i64);
                    if *c {
                        in_alluxio += len;
                    }
                    if *m {
                        in_mem += len;
                    }
                }
                fi.in_alluxio_percentage = (in_alluxio * 100 / f.length) as i32;
                fi.in_memory_percentage = (in_mem * 100 / f.length) as i32;
            }
            if with_blocks {
                fi.file_block_infos = ids
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        let locations = self
                            .blocks
                            .locations(*b)
                            .into_iter()
                            .map(|(wid, addr, tier)| BlockLocation {
                                worker_id: wid,
                                worker_address: Some(addr),
                                medium_type: tier.clone(),
                                tier_alias: tier,
                            })
                            .collect();
                        FileBlockInfo {
                            block_info: Some(BlockInfo {
                                block_id: *b,
                                length: id::block_length(f.length, f.block_size, i as i64),
                                locations,
                            }),
                            offset: i as i64 * f.block_size,
                            ufs_locations: Vec::new(),
                        }
                    })
                    .collect();
            }
        }
        fi
    }

    /// Lists a directory (or a file as itself); `recursive` walks the whole subtree.
    pub async fn list_status(&self, path: &AlluxioPath, recursive: bool) -> Result<Vec<FileInfo>> {
        self.load_metadata(path).await?;
        let mut out = Vec::new();
        let mut queue = std::collections::VecDeque::from([path.clone()]);
        let mut first = true;
        while let Some(dir) = queue.pop_front() {
            self.load_children(&dir).await?;
            let ns = self.ns.read();
            let n = match ns.lookup(&dir) {
                Lookup::Found(n) => n,
                _ if first => return Err(MasterError::not_found(path)),
                _ => continue, // removed while walking
            };
            if first && !n.is_dir() {
                out.push(self.file_info(&ns, n, &dir, false));
                return Ok(out);
            }
            first = false;
            for c in ns.children(n) {
                let cp = dir.join(&c.name);
                if recursive && c.is_dir() {
                    queue.push_back(cp.clone());
                }
                out.push(self.file_info(&ns, c, &cp, false));
            }
        }
        Ok(out)
    }

    // ---------------------------------------------------------------- mutations

    fn new_mode(&self, requested: Option<i32>, dir: bool) -> i32 {
        let base = requested.unwrap_or(if dir { 0o777 } else { 0o666 });
        mode::apply_umask(base, self.opts.umask)
    }

    /// Checks the parent of `path` for a create: exists (or `recursive`), is a directory,
    /// and `path` itself does not exist. Returns the depth of the deepest existing ancestor.
    fn check_create(ns: &Namespace, path: &AlluxioPath, recursive: bool, what: &str) -> Result<usize> {
        match ns.lookup(path) {
            Lookup::Found(n) => Err(MasterError::AlreadyExists(if what == "directory" {
                format!("Not allowed to create directory because path already exists: {path}")
            } else if n.file().is_some_and(|f| !f.completed) {
                format!("Not allowed to create file because path already exists: {path} (it is being written)")
            } else {
                format!("Not allowed to create file because path already exists: {path}")
            })),
            Lookup::NotADirectory { file, .. } => Err(MasterError::InvalidArgument(format!(
                "Cannot create {what} {path}: ancestor {} is a file",
                ns.path_of(file.id).map(|p| p.to_string()).unwrap_or_default()
            ))),
            Lookup::Missing { depth, .. } => {
                if depth + 1 < path.depth() && !recursive {
                    let parent = path.parent().unwrap_or_else(AlluxioPath::root);
                    return Err(MasterError::NotFound { path: parent.to_string() });
                }
                Ok(depth)
            }
        }
    }

    /// Directory entries for the missing ancestors of `path` (from component `depth`) and,
    /// when `include_self`, for `path` itself. Returns the id of the last one created.
    #[allow(clippy::too_many_arguments)]
    fn dir_entries(
        &self,
        ns: &mut Namespace,
        path: &AlluxioPath,
        depth: usize,
        include_self: bool,
        mode: i32,
        persisted: bool,
        caller: &Caller,
        entries: &mut Vec<Entry>,
    ) -> Result<i64> {
        let comps: Vec<&str> = path.components().collect();
        let mut parent = match ns.lookup(&prefix_of(path, depth)) {
            Lookup::Found(n) => n.id,
            _ => return Err(MasterError::Internal(format!("ancestor of {path} vanished"))),
        };
        let end = if include_self { comps.len() } else { comps.len().saturating_sub(1) };
        let t = now_ms();
        for name in &comps[depth..end] {
            let id = ns.next_directory_id(entries);
            entries.push(Entry::InodeDirectory(InodeDirectoryEntry {
                id,
                parent_id: parent,
                name: (*name).into(),
                persistence_state: if persisted { PersistenceState::Persisted } else { PersistenceState::NotPersisted }
                    .as_str()
                    .into(),
                creation_time_ms: t,
                last_modification_time_ms: t,
                owner: caller.user.clone(),
                group: caller.group.clone(),
                mode,
                // New directories are empty in the UFS too: nothing to load.
                direct_children_loaded: true,
                ttl: -1,
                ..Default::default()
            }));
            parent = id;
        }
        Ok(parent)
    }

    /// `mkdir`.
    pub async fn create_directory(
        &self,
        path: &AlluxioPath,
        recursive: bool,
        allow_exists: bool,
        mode: Option<i32>,
        write_type: WritePType,
        caller: &Caller,
    ) -> Result<()> {
        if path.is_root() {
            if allow_exists {
                return Ok(());
            }
            return Err(MasterError::AlreadyExists(format!(
                "Not allowed to create directory because path already exists: {path}"
            )));
        }
        let persist = persists(write_type);
        self.load_metadata_opt(path, !persist).await?;
        let ufs_target = {
            let ns = self.ns.read();
            if allow_exists && ns.find(path).is_some_and(Inode::is_dir) {
                return Ok(());
            }
            Self::check_create(&ns, path, recursive, "directory")?;
            let (m, ufs, rel) = self.resolve_ufs(&ns, path)?;
            if persist {
                Self::check_writable(&ns, &m, path)?;
            }
            persist.then_some((ufs, rel))
        };
        if let Some((ufs, rel)) = &ufs_target {
            ufs.mkdirs(rel).await?;
        }
        let mode = self.new_mode(mode, true);
        let r = self
            .journaled(|ns| {
                if allow_exists && ns.find(path).is_some_and(Inode::is_dir) {
                    return Ok(Vec::new());
                }
                let depth = Self::check_create(ns, path, recursive, "directory")?;
                let mut entries = Vec::new();
                self.dir_entries(ns, path, depth, true, mode, persist, caller, &mut entries)?;
                Ok(entries)
            })
            .await;
        r.map(|_| ())
    }

    /// `createFile`: an incomplete file the client then writes and completes.
    pub async fn create_file(&self, path: &AlluxioPath, opts: CreateFileOptions, caller: &Caller) -> Result<FileInfo> {
        if path.is_root() {
            return Err(MasterError::AlreadyExists(format!(
                "Not allowed to create file because path already exists: {path}"
            )));
        }
        let write_type = opts.write_type.unwrap_or(WritePType::AsyncThrough);
        if opts.block_size < 0 || (opts.block_size > 0 && opts.block_size < MIN_BLOCK_SIZE) {
            return Err(MasterError::InvalidArgument(format!(
                "Invalid block size {} for {path}: a block is at least {MIN_BLOCK_SIZE} bytes (1MB; \
                 alluxio.user.block.size.bytes.default, or blockSizeBytes of the request)",
                opts.block_size
            )));
        }
        let persist = persists(write_type);
        self.load_metadata_opt(path, !persist).await?;
        let parent_mkdir = {
            let ns = self.ns.read();
            let depth = Self::check_create(&ns, path, opts.recursive, "file")?;
            let (m, ufs, rel) = self.resolve_ufs(&ns, path)?;
            if persist {
                Self::check_writable(&ns, &m, path)?;
            }
            // Missing ancestors of a persisted file are created in the UFS first.
            (persist && depth + 1 < path.depth())
                .then(|| (ufs, rel.rsplit_once('/').map(|(p, _)| p.to_owned()).unwrap_or_default()))
        };
        if let Some((ufs, parent_rel)) = &parent_mkdir {
            ufs.mkdirs(parent_rel).await?;
        }
        let file_mode = self.new_mode(opts.mode, false);
        let dir_mode = self.new_mode(None, true);
        let block_size = if opts.block_size > 0 { opts.block_size } else { self.opts.default_block_size };
        let mut file_id = 0;
        self.journaled(|ns| {
            let depth = Self::check_create(ns, path, opts.recursive, "file")?;
            let mut entries = Vec::new();
            let parent = self.dir_entries(ns, path, depth, false, dir_mode, persist, caller, &mut entries)?;
            file_id = ns.next_file_id(&mut entries);
            let t = now_ms();
            entries.push(Entry::InodeFile(InodeFileEntry {
                id: file_id,
                parent_id: parent,
                name: path.name().into(),
                persistence_state: PersistenceState::NotPersisted.as_str().into(),
                creation_time_ms: t,
                last_modification_time_ms: t,
                block_size_bytes: block_size,
                length: 0,
                completed: false,
                cacheable: write_type != WritePType::Through,
                ttl: opts.ttl.unwrap_or(-1),
                ttl_action: ttl_to_journal(opts.ttl_action) as i32,
                owner: caller.user.clone(),
                group: caller.group.clone(),
                mode: file_mode,
                replication_min: opts.replication_min,
                replication_max: opts.replication_max,
                ..Default::default()
            }));
            Ok(entries)
        })
        .await?;
        self.leases.lock().insert(file_id, std::time::Instant::now());
        let ns = self.ns.read();
        let n = ns.get(file_id).ok_or_else(|| MasterError::not_found(path))?;
        Ok(self.file_info(&ns, n, path, false))
    }

    /// Renews the leases of files being written.
    pub fn keep_alive(&self, ids: &[i64]) {
        let ns = self.ns.read();
        let mut leases = self.leases.lock();
        for id in ids {
            if ns.get(*id).and_then(|n| n.file()).is_some_and(|f| !f.completed) {
                leases.insert(*id, std::time::Instant::now());
            }
        }
    }

    /// Gives every incomplete file a fresh lease (after a restart its writer may still be alive).
    pub fn init_leases(&self) {
        let ids = self.ns.read().incomplete_files();
        let now = std::time::Instant::now();
        let mut leases = self.leases.lock();
        for id in ids {
            leases.insert(id, now);
        }
    }

    /// Deletes incomplete files whose writer stopped renewing its lease (it crashed), so no
    /// half-written file stays visible. Returns the paths removed.
    pub async fn expire_leases(&self) -> Vec<AlluxioPath> {
        let timeout = self.opts.lease_timeout;
        let expired: Vec<i64> = {
            let leases = self.leases.lock();
            leases.iter().filter(|(_, t)| t.elapsed() > timeout).map(|(id, _)| *id).collect()
        };
        let mut removed_paths = Vec::new();
        for id in expired {
            self.leases.lock().remove(&id);
            let mut path = None;
            let r = self
                .journaled(|ns| {
                    let Some(n) = ns.get(id) else {
                        return Ok(Vec::new());
                    };
                    if n.file().is_none_or(|f| f.completed) {
                        return Ok(Vec::new());
                    }
                    let p = ns.path_of(id).unwrap_or_else(AlluxioPath::root);
                    path = Some(p.clone());
                    Ok(vec![Entry::DeleteFile(DeleteFileEntry {
                        id,
                        recursive: false,
                        op_time_ms: now_ms(),
                        alluxio_only: true,
                        path: p.to_string(),
                    })])
                })
                .await;
            match (r, path) {
                (Ok(removed), Some(p)) => {
                    tracing::info!("deleted incomplete file {p}: its writer stopped renewing its lease (crashed?)");
                    self.drop_blocks_of(&removed);
                    self.remove_abandoned_temp_files(&p).await;
                    removed_paths.push(p);
                }
                (Ok(_), None) => {}
                (Err(e), _) => tracing::warn!("cannot delete abandoned incomplete file {id}: {e}"),
            }
        }
        removed_paths
    }

    /// `completeFile`: seals a file written by a client.
    pub async fn complete_file(
        &self,
        path: &AlluxioPath,
        file_id: i64,
        length: i64,
        fingerprint: String,
        write_type: WritePType,
        xattr: std::collections::HashMap<String, Vec<u8>>,
    ) -> Result<FileInfo> {
        if length < 0 {
            return Err(MasterError::InvalidArgument(format!("Invalid length {length} for {path}")));
        }
        let state = match write_type {
            WritePType::CacheThrough | WritePType::Through => PersistenceState::Persisted,
            WritePType::AsyncThrough => PersistenceState::ToBePersisted,
            _ => PersistenceState::NotPersisted,
        };
        let (mut id, mut retried) = (0, false);
        self.journaled(|ns| {
            let n = ns.find(path).ok_or_else(|| MasterError::not_found(path))?;
            let f =
                n.file().ok_or_else(|| MasterError::InvalidArgument(format!("{path} is a directory, not a file")))?;
            if file_id != 0 && n.id != file_id {
                return Err(MasterError::NotFound { path: format!("{path} (file id {file_id})") });
            }
            id = n.id;
            if f.completed {
                // The same writer retrying a completion whose answer it never got (a master
                // restart or failover after the commit): done, and nothing to change.
                if file_id == n.id && f.length == length {
                    retried = true;
                    return Ok(Vec::new());
                }
                return Err(MasterError::FailedPrecondition(format!("File {path} has already been completed.")));
            }
            let t = now_ms();
            let mut entries = vec![
                Entry::UpdateInodeFile(UpdateInodeFileEntry {
                    id: n.id,
                    length: Some(length),
                    completed: Some(true),
                    ..Default::default()
                }),
                Entry::UpdateInode(UpdateInodeEntry {
                    id: n.id,
                    persistence_state: Some(state.as_str().into()),
                    last_modification_time_ms: Some(t),
                    ufs_fingerprint: (!fingerprint.is_empty()).then(|| fingerprint.clone()),
                    xattr: xattr.clone(),
                    ..Default::default()
                }),
            ];
            if state == PersistenceState::Persisted {
                entries.extend(persisted_ancestors(ns, n.id));
            }
            Ok(entries)
        })
        .await?;
        if retried {
            // The first completion may still be on its way to disk: answer once it is there.
            self.durable(self.journal.append(Vec::new()), None).await?;
        }
        self.leases.lock().remove(&id);
        let ns = self.ns.read();
        let n = ns.get(id).ok_or_else(|| MasterError::not_found(path))?;
        Ok(self.file_info(&ns, n, path, false))
    }

    /// `rm`: deletes from Alluxio and (unless `alluxio_only`) from the UFS.
    pub async fn delete(&self, path: &AlluxioPath, recursive: bool, alluxio_only: bool) -> Result<()> {
        if path.is_root() {
            return Err(MasterError::InvalidArgument("Cannot delete the root directory /".into()));
        }
        self.load_metadata(path).await?;
        if !recursive {
            self.load_children(path).await?;
        }
        let ufs_op = {
            let ns = self.ns.read();
            let n = ns.find(path).ok_or_else(|| MasterError::not_found(path))?;
            Self::check_delete(&ns, n, path, recursive)?;
            let (m, ufs, rel) = self.resolve_ufs(&ns, path)?;
            // A directory created implicitly (never marked persisted) still exists in the UFS
            // once a file below it was persisted: deleting it must reach the UFS too.
            let in_ufs = n.is_persisted() || (recursive && n.is_dir() && ns.has_persisted_descendant(n));
            if !alluxio_only && in_ufs {
                Self::check_writable(&ns, &m, path)?;
                Some((ufs, rel, n.is_dir()))
            } else {
                None
            }
        };
        if let Some((ufs, rel, is_dir)) = &ufs_op {
            if *is_dir {
                ufs.delete_dir(rel).await?;
            } else {
                ufs.delete_file(rel).await?;
            }
        }
        let removed = self
            .journaled(|ns| {
                let n = ns.find(path).ok_or_else(|| MasterError::not_found(path))?;
                Self::check_delete(ns, n, path, recursive)?;
                Ok(vec![Entry::DeleteFile(DeleteFileEntry {
                    id: n.id,
                    recursive,
                    op_time_ms: now_ms(),
                    alluxio_only,
                    path: path.to_string(),
                })])
            })
            .await?;
        self.drop_blocks_of(&removed);
        if removed.first().is_some_and(|n| n.file().is_some_and(|f| !f.completed)) {
            self.remove_abandoned_temp_files(path).await;
        }
        Ok(())
    }

    /// After the incomplete file at `path` was deleted (its writer gave up or its lease
    /// expired): the UFS temporary files its writers left (a worker killed in the middle of a
    /// write) are deleted too. Best effort; a failure is logged.
    async fn remove_abandoned_temp_files(&self, path: &AlluxioPath) {
        let deleted_at = now_ms();
        let target = {
            let ns = self.ns.read();
            self.resolve_ufs(&ns, path).ok().map(|(_, ufs, rel)| (ufs, rel))
        };
        let Some((ufs, rel)) = target else { return };
        match ufs.remove_temp_files_of(&rel, deleted_at).await {
            Ok(0) => {}
            Ok(n) => tracing::info!("removed {n} temporary UFS file(s) left by writers of {path}"),
            Err(e) => tracing::warn!("cannot remove the temporary UFS files of {path}: {e}"),
        }
    }

    fn check_delete(ns: &Namespace, n: &Inode, path: &AlluxioPath, recursive: bool) -> Result<()> {
        if n.dir().is_some_and(|d| d.mount_point) {
            return Err(MasterError::InvalidArgument(format!(
                "{path} is a mount point; use `alluxio fs unmount {path}` to remove it"
            )));
        }
        if let Some(m) = ns.mounts.mounts_below(path).first() {
            return Err(MasterError::FailedPrecondition(format!(
                "Cannot delete {path}: it contains the mount point {}; unmount it first",
                m.alluxio_path
            )));
        }
        if !recursive && n.dir().is_some_and(|d| !d.children.is_empty()) {
            return Err(MasterError::FailedPrecondition(format!(
                "Cannot delete non-empty directory {path} without the recursive option"
            )));
        }
        Ok(())
    }

    fn drop_blocks_of(&self, removed: &[Inode]) {
        let blocks: Vec<i64> = removed.iter().flat_map(|n| n.block_ids()).collect();
        if !blocks.is_empty() {
            self.blocks.remove_blocks(&blocks);
        }
        // Blocks an unfinished writer committed are not derivable from a length.
        for n in removed.iter().filter(|n| n.file().is_some_and(|f| !f.completed)) {
            self.leases.lock().remove(&n.id);
            self.blocks.remove_blocks_of_file(n.id);
        }
    }

    /// `mv`.
    pub async fn rename(&self, src: &AlluxioPath, dst: &AlluxioPath) -> Result<()> {
        if src.is_root() || dst.is_root() {
            return Err(MasterError::InvalidArgument(format!(
                "Cannot rename {src} to {dst}: the root cannot be renamed or replaced"
            )));
        }
        self.load_metadata(src).await?;
        self.load_metadata(dst).await?;
        if let Some(p) = dst.parent() {
            self.load_metadata(&p).await?;
        }
        let ufs_op = {
            let ns = self.ns.read();
            let (n, new_parent) = Self::check_rename(&ns, src, dst)?;
            let _ = new_parent;
            let (m1, ufs, rel_src) = self.resolve_ufs(&ns, src)?;
            let (m2, _, rel_dst) = self.resolve_ufs(&ns, dst)?;
            if m1.mount_id != m2.mount_id {
                return Err(MasterError::InvalidArgument(format!(
                    "Renaming {src} to {dst} is a mount point across mount points, which is not supported"
                )));
            }
            // As for deletes: an implicit directory holding persisted files exists in the UFS.
            if n.is_persisted() || (n.is_dir() && ns.has_persisted_descendant(n)) {
                Self::check_writable(&ns, &m1, src)?;
                Some((ufs, rel_src, rel_dst))
            } else {
                None
            }
        };
        if let Some((ufs, a, b)) = &ufs_op {
            ufs.rename(a, b).await?;
        }
        let r = self
            .journaled(|ns| {
                let (n, new_parent) = Self::check_rename(ns, src, dst)?;
                let mut entries = vec![Entry::Rename(RenameEntry {
                    id: n.id,
                    new_parent_id: new_parent,
                    new_name: dst.name().into(),
                    path: src.to_string(),
                    new_path: dst.to_string(),
                    op_time_ms: now_ms(),
                })];
                if ufs_op.is_some() {
                    // The UFS rename created the destination's directories.
                    entries.extend(persisted_dirs(ns, new_parent));
                }
                Ok(entries)
            })
            .await;
        if r.is_err() {
            if let Some((ufs, a, b)) = &ufs_op {
                // Put the UFS back as it was: the metadata did not change.
                let _ = ufs.rename(b, a).await;
            }
        }
        r.map(|_| ())
    }

    fn check_rename<'a>(ns: &'a Namespace, src: &AlluxioPath, dst: &AlluxioPath) -> Result<(&'a Inode, i64)> {
        let n = ns.find(src).ok_or_else(|| MasterError::not_found(src))?;
        if src.is_ancestor_of(dst) {
            return Err(MasterError::InvalidArgument(format!(
                "Cannot rename {src} to {dst}: a path cannot be moved into itself"
            )));
        }
        if n.dir().is_some_and(|d| d.mount_point) || !ns.mounts.mounts_below(src).is_empty() {
            return Err(MasterError::InvalidArgument(format!(
                "Cannot rename {src}: it is or contains a mount point; unmount and mount it again instead"
            )));
        }
        if ns.find(dst).is_some() {
            return Err(MasterError::AlreadyExists(format!(
                "Cannot rename {src} to {dst} because the destination already exists"
            )));
        }
        let parent = dst.parent().unwrap_or_else(AlluxioPath::root);
        let p = ns.find(&parent).ok_or_else(|| MasterError::NotFound { path: parent.to_string() })?;
        if !p.is_dir() {
            return Err(MasterError::InvalidArgument(format!("Cannot rename {src} to {dst}: {parent} is a file")));
        }
        Ok((n, p.id))
    }

    /// `setAttribute`: owner, group, mode, pin, TTL, persisted flag, replication.
    pub async fn set_attribute(&self, path: &AlluxioPath, o: &SetAttributePOptions, caller: &Caller) -> Result<()> {
        for (what, name) in [("owner", &o.owner), ("group", &o.group)] {
            if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
                return Err(MasterError::InvalidArgument(format!(
                    "Invalid {what} '{}' for {path}: a {what} name cannot be empty",
                    name.as_deref().unwrap_or_default()
                )));
            }
        }
        self.load_metadata(path).await?;
        if (o.owner.is_some() || o.group.is_some()) && self.opts.permission_check && !self.is_super(caller) {
            let n_owner = self.ns.read().find(path).map(|n| n.owner.to_string());
            if o.owner.is_some() || n_owner.as_deref() != Some(caller.user.as_str()) {
                return Err(MasterError::PermissionDenied(format!(
                    "user={} is not the owner of path={path}: only the superuser may change its owner{}",
                    caller.user,
                    if o.owner.is_none() { " or the owner its group" } else { "" }
                )));
            }
        }
        if let Some(m) = o.mode {
            if !(0..=0o7777).contains(&m) {
                return Err(MasterError::InvalidArgument(format!("Invalid mode {m:o} for {path}")));
            }
        }
        if let Some(t) = o.ttl {
            if t < -1 {
                return Err(MasterError::InvalidArgument(format!(
                    "Invalid TTL {t} for {path}: use -1 for none or a positive number of ms"
                )));
            }
        }
        let mut pin_changes: Vec<(Vec<i64>, bool)> = Vec::new();
        self.journaled(|ns| {
            let n = ns.find(path).ok_or_else(|| MasterError::not_found(path))?;
            let targets: Vec<&Inode> = if o.recursive { ns.subtree(n.id) } else { vec![n] };
            let mut entries = Vec::with_capacity(targets.len());
            for t in targets {
                let mut u = UpdateInodeEntry { id: t.id, ..Default::default() };
                u.owner = o.owner.clone();
                u.group = o.group.clone();
                u.mode = o.mode;
                u.ttl = o.ttl;
                u.ttl_action =
                    o.ttl_action.map(|a| ttl_to_journal(TtlAction::try_from(a).unwrap_or(TtlAction::Delete)) as i32);
                u.replication_min = o.replication_min;
                u.replication_max = o.replication_max;
                u.xattr = o.xattr.clone();
                u.xattr_delete = o.xattr_delete.clone();
                if let Some(p) = o.pinned {
                    u.pinned = Some(p);
                    u.set_medium_type = true;
                    u.medium_type = if p { o.pinned_media.clone() } else { Vec::new() };
                    if t.file().is_some() {
                        // Unpinned blocks of unpersisted files stay protected.
                        let protect = p || !t.is_persisted();
                        pin_changes.push((t.block_ids(), protect));
                    }
                }
                let persists = o.persisted == Some(true) && !t.is_persisted() && t.file().is_some();
                if persists {
                    u.persistence_state = Some(PersistenceState::Persisted.as_str().into());
                }
                entries.push(Entry::UpdateInode(u));
                if persists {
                    entries.extend(persisted_ancestors(ns, t.id));
                }
            }
            Ok(entries)
        })
        .await?;
        for (blocks, protect) in pin_changes {
            self.blocks.set_protected(&blocks, protect);
            self.protect_now(&blocks, protect).await;
        }
        Ok(())
    }

    /// Tells the workers holding `blocks` to (un)protect them now, so a pin holds before the
    /// next heartbeat; the heartbeat repeats it in case this call does not get through.
    async fn protect_now(&self, blocks: &[i64], protect: bool) {
        let mut by_worker: BTreeMap<(String, i32), Vec<i64>> = BTreeMap::new();
        for b in blocks {
            for (_, a, _) in self.blocks.locations(*b) {
                by_worker.entry((a.host, a.rpc_port)).or_default().push(*b);
            }
        }
        for ((host, port), ids) in by_worker {
            if let Ok(mut c) = self.workers.get(&host, port) {
                let req = alluxio_proto::grpc::block::SetProtectedRequest { block_ids: ids, protected: protect };
                if let Err(e) = c.set_protected(req).await {
                    tracing::debug!("cannot reach worker {host}:{port} to (un)pin blocks: {}", e.message());
                }
            }
        }
    }

    fn is_super(&self, c: &Caller) -> bool {
        c.user == self.opts.super_user || c.group == self.opts.supergroup
    }

    /// `free`: drops cached copies of persisted files.
    pub async fn free(&self, path: &AlluxioPath, recursive: bool, forced: bool) -> Result<()> {
        self.load_metadata(path).await?;
        let blocks = {
            let ns = self.ns.read();
            let n = ns.find(path).ok_or_else(|| MasterError::not_found(path))?;
            if n.is_dir() && !recursive && n.dir().is_some_and(|d| !d.children.is_empty()) {
                return Err(MasterError::InvalidArgument(format!(
                    "Cannot free directory {path} which is not empty; use -R"
                )));
            }
            let mut blocks = Vec::new();
            for t in ns.subtree(n.id) {
                if t.file().is_none() {
                    continue;
                }
                if !t.is_persisted() {
                    let p = ns.path_of(t.id).map(|p| p.to_string()).unwrap_or_default();
                    return Err(MasterError::FailedPrecondition(format!(
                        "Cannot free file {p} which is not persisted"
                    )));
                }
                if t.pinned && !forced {
                    let p = ns.path_of(t.id).map(|p| p.to_string()).unwrap_or_default();
                    return Err(MasterError::FailedPrecondition(format!(
                        "Cannot free file {p}: it is pinned (use free -f to force)"
                    )));
                }
                blocks.extend(t.block_ids());
            }
            blocks
        };
        self.blocks.remove_blocks(&blocks);
        Ok(())
    }

    /// `persist`: schedules asynchronous persistence of a completed, unpersisted file.
    pub async fn schedule_persist(&self, path: &AlluxioPath) -> Result<()> {
        self.journaled(|ns| {
            let n = ns.find(path).ok_or_else(|| MasterError::not_found(path))?;
            let f = n
                .file()
                .ok_or_else(|| MasterError::InvalidArgument(format!("{path} is a directory; persist its files")))?;
            if !f.completed {
                return Err(MasterError::FailedPrecondition(format!("Cannot persist incomplete file {path}")));
            }
            if n.persistence != PersistenceState::NotPersisted {
                return Ok(Vec::new());
            }
            Ok(vec![Entry::UpdateInode(UpdateInodeEntry {
                id: n.id,
                persistence_state: Some(PersistenceState::ToBePersisted.as_str().into()),
                ..Default::default()
            })])
        })
        .await?;
        Ok(())
    }

    // ---------------------------------------------------------------- mounts

    /// `mount`.
    pub async fn mount(
        &self,
        path: &AlluxioPath,
        ufs_uri: &str,
        read_only: bool,
        shared: bool,
        props: BTreeMap<String, String>,
    ) -> Result<()> {
        if path.is_root() {
            return Err(MasterError::InvalidArgument(
                "Cannot mount on the root: it is mounted from alluxio.master.mount.table.root.ufs".into(),
            ));
        }
        let ufs = UnderFileSystem::open(ufs_uri, &props)?;
        self.load_metadata(path).await?;
        let check = |ns: &Namespace| -> Result<i64> {
            if ns.find(path).is_some() {
                return Err(MasterError::AlreadyExists(format!("Mount point {path} already exists")));
            }
            let parent = path.parent().unwrap_or_else(AlluxioPath::root);
            let p = ns.find(&parent).ok_or_else(|| MasterError::NotFound { path: parent.to_string() })?;
            if !p.is_dir() {
                return Err(MasterError::InvalidArgument(format!("Cannot mount at {path}: {parent} is a file")));
            }
            for m in ns.mounts.iter() {
                let other = self.ufs_of(m).map(|u| u.uri().to_owned()).unwrap_or_else(|_| m.ufs_uri.clone());
                if uri_prefix(&other, ufs.uri()) || uri_prefix(ufs.uri(), &other) {
                    let (a, b) = if uri_prefix(&other, ufs.uri()) {
                        (other.clone(), ufs.uri().to_owned())
                    } else {
                        (ufs.uri().to_owned(), other.clone())
                    };
                    return Err(MasterError::InvalidArgument(format!(
                        "Mount point {a} is a prefix of {b}: UFS paths of two mounts may not contain each other (already mounted at {})",
                        m.alluxio_path
                    )));
                }
            }
            if let Some((pm, _)) = ns.mounts.resolve(path) {
                Self::check_writable(ns, pm, path).ok();
            }
            Ok(p.id)
        };
        check(&self.ns.read())?;
        let root = match ufs.stat("").await {
            Ok(Some(st)) if st.is_dir => st,
            Ok(Some(_)) => return Err(MasterError::InvalidArgument(format!("Ufs path {ufs_uri} is not a directory"))),
            Ok(None) => return Err(UfsError::NotFound { path: ufs_uri.to_owned() }.into()),
            Err(e) => return Err(MasterError::Unavailable(format!("Ufs path {ufs_uri} is not accessible: {e}"))),
        };
        let uri = ufs.uri().to_owned();
        let mut mount_id = 0;
        self.journaled(|ns| {
            let parent = check(ns)?;
            mount_id = loop {
                let id = rand::random::<i64>().abs();
                if id > ROOT_MOUNT_ID && ns.mounts.by_id(id).is_none() {
                    break id;
                }
            };
            let mut entries = vec![Entry::AddMountPoint(AddMountPointEntry {
                alluxio_path: path.to_string(),
                ufs_path: uri.clone(),
                read_only,
                properties: props.iter().map(|(k, v)| StringPairEntry { key: k.clone(), value: v.clone() }).collect(),
                shared,
                mount_id,
            })];
            let id = ns.next_directory_id(&mut entries);
            let t = now_ms();
            let owner = root.owner.clone().unwrap_or_else(|| self.opts.super_user.clone());
            entries.push(Entry::InodeDirectory(InodeDirectoryEntry {
                id,
                parent_id: parent,
                name: path.name().into(),
                persistence_state: PersistenceState::Persisted.as_str().into(),
                creation_time_ms: t,
                last_modification_time_ms: t,
                group: root.group.clone().unwrap_or_else(|| alluxio_common::user::primary_group_of(&owner)),
                owner,
                mode: root.mode.unwrap_or(0o755),
                mount_point: true,
                direct_children_loaded: false,
                ttl: -1,
                ..Default::default()
            }));
            Ok(entries)
        })
        .await?;
        self.ufs_cache.write().insert(mount_id, ufs);
        Ok(())
    }

    /// `unmount`: drops the metadata and cached blocks below the mount; the UFS is untouched.
    pub async fn unmount(&self, path: &AlluxioPath) -> Result<()> {
        let mut mount_id = 0;
        let removed = self
            .journaled(|ns| {
                if path.is_root() {
                    return Err(MasterError::InvalidArgument("Cannot unmount the root mount point".into()));
                }
                let m = ns.mounts.get(path).ok_or_else(|| {
                    MasterError::InvalidArgument(format!("Failed to unmount {path}: {path} is not a mount point"))
                })?;
                mount_id = m.mount_id;
                if let Some(inner) = ns.mounts.mounts_below(path).first() {
                    return Err(MasterError::FailedPrecondition(format!(
                        "Cannot unmount {path}: the mount point {} is nested inside it; unmount that first",
                        inner.alluxio_path
                    )));
                }
                let n = ns.find(path).ok_or_else(|| MasterError::not_found(path))?;
                Ok(vec![
                    Entry::DeleteFile(DeleteFileEntry {
                        id: n.id,
                        recursive: true,
                        op_time_ms: now_ms(),
                        alluxio_only: true,
                        path: path.to_string(),
                    }),
                    Entry::DeleteMountPoint(DeleteMountPointEntry { alluxio_path: path.to_string() }),
                ])
            })
            .await?;
        self.ufs_cache.write().remove(&mount_id);
        self.drop_blocks_of(&removed);
        Ok(())
    }

    /// `updateMount`: replaces a mount's options (nothing is inherited).
    pub async fn update_mount(
        &self,
        path: &AlluxioPath,
        read_only: bool,
        shared: bool,
        props: BTreeMap<String, String>,
    ) -> Result<()> {
        let mut mount_id = 0;
        self.journaled(|ns| {
            let m = ns
                .mounts
                .get(path)
                .ok_or_else(|| MasterError::InvalidArgument(format!("{path} is not a mount point")))?;
            mount_id = m.mount_id;
            Ok(vec![
                Entry::DeleteMountPoint(DeleteMountPointEntry { alluxio_path: path.to_string() }),
                Entry::AddMountPoint(AddMountPointEntry {
                    alluxio_path: path.to_string(),
                    ufs_path: m.ufs_uri.clone(),
                    read_only,
                    properties: props
                        .iter()
                        .map(|(k, v)| StringPairEntry { key: k.clone(), value: v.clone() })
                        .collect(),
                    shared,
                    mount_id: m.mount_id,
                }),
            ])
        })
        .await?;
        self.ufs_cache.write().remove(&mount_id);
        Ok(())
    }

    /// The mount table for display: secrets redacted.
    pub fn mount_table(&self) -> BTreeMap<String, MountPointInfo> {
        let ns = self.ns.read();
        ns.mounts
            .iter()
            .map(|m| {
                let kind = alluxio_ufs::scheme_of(&m.ufs_uri);
                (
                    m.alluxio_path.to_string(),
                    MountPointInfo {
                        ufs_uri: m.ufs_uri.clone(),
                        ufs_type: if kind == "file" { "local".into() } else { kind.into() },
                        read_only: m.read_only,
                        properties: redacted(&m.properties).into_iter().collect(),
                        shared: m.shared,
                        mount_id: m.mount_id,
                        ..Default::default()
                    },
                )
            })
            .collect()
    }

    // ---------------------------------------------------------------- block checks

    /// For a worker's block report: which ids belong to live files, and which of those must
    /// not be evicted (pinned, or not persisted).
    pub fn classify_blocks(&self, ids: &[i64]) -> (Vec<bool>, Vec<i64>) {
        let ns = self.ns.read();
        let mut known = Vec::with_capacity(ids.len());
        let mut protected = Vec::new();
        for b in ids {
            let (k, p) = match ns.get(id::file_id_of_block(*b)) {
                Some(n) => match n.file() {
                    Some(f) if !f.completed => (true, true),
                    Some(f) => {
                        let k = id::sequence_number(*b) < id::block_count(f.length, f.block_size);
                        (k, k && (n.pinned || !n.is_persisted()))
                    }
                    None => (false, false),
                },
                None => (false, false),
            };
            known.push(k);
            if p {
                protected.push(*b);
            }
        }
        (known, protected)
    }

    /// Copies the only copies of unpersisted (or pinned) data off decommissioned workers;
    /// returns how many such blocks are still only there.
    pub async fn drain_decommissioned(&self) -> usize {
        let blocks = self.blocks.decommissioned_blocks();
        let ids: Vec<i64> = blocks.iter().map(|b| b.0).collect();
        let (_, protected) = self.classify_blocks(&ids);
        let protected: std::collections::HashSet<i64> = protected.into_iter().collect();
        let need: Vec<(i64, alluxio_proto::grpc::WorkerNetAddress, i64)> = {
            let ns = self.ns.read();
            blocks
                .into_iter()
                .filter(|(b, _, others)| *others == 0 && protected.contains(b))
                .filter_map(|(b, src, _)| {
                    let n = ns.get(id::file_id_of_block(b))?;
                    let f = n.file().filter(|f| f.completed)?;
                    Some((b, src, id::block_length(f.length, f.block_size, id::sequence_number(b))))
                })
                .collect()
        };
        let mut targets: Vec<_> = self.blocks.live_workers().into_iter().filter(|w| !w.decommissioned).collect();
        targets.sort_by_key(|w| std::cmp::Reverse(w.capacity.values().sum::<i64>() - w.used.values().sum::<i64>()));
        if targets.is_empty() {
            return need.len();
        }
        for (i, (b, src, len)) in need.iter().enumerate() {
            let t = &targets[i % targets.len()].address;
            if let Ok(mut c) = self.workers.get(&t.host, t.rpc_port) {
                let req = alluxio_proto::grpc::block::AsyncCacheRequest {
                    block_id: *b,
                    length: *len,
                    source: Some(src.clone()),
                    open_ufs_block_options: None,
                };
                let _ = c.async_cache(req).await;
            }
        }
        need.len()
    }

    // ---------------------------------------------------------------- persistence

    /// Files waiting for asynchronous persistence.
    pub fn to_be_persisted(&self) -> Vec<i64> {
        self.ns.read().to_be_persisted.iter().copied().collect()
    }

    /// What a worker needs to persist a file: path, mount, ufs path, blocks, owner/mode.
    pub fn persist_plan(&self, file_id: i64) -> Option<PersistPlan> {
        let ns = self.ns.read();
        let n = ns.get(file_id)?;
        let f = n.file()?;
        if n.persistence != PersistenceState::ToBePersisted || !f.completed {
            return None;
        }
        let path = ns.path_of(file_id)?;
        let (m, rel) = ns.mounts.resolve(&path)?;
        let ids = n.block_ids();
        let lengths = (0..ids.len() as i64).map(|i| id::block_length(f.length, f.block_size, i)).collect();
        Some(PersistPlan {
            file_id,
            path,
            mount: m.clone(),
            ufs_rel: rel,
            block_ids: ids,
            block_lengths: lengths,
            owner: n.owner.to_string(),
            group: n.group.to_string(),
            mode: n.mode,
        })
    }

    /// Marks a file persisted after a worker wrote it to the UFS. If the file was deleted
    /// or changed meanwhile, the UFS copy is removed again.
    pub async fn persist_done(&self, plan: &PersistPlan, fingerprint: String) -> Result<()> {
        let r = self
            .journaled(|ns| {
                let Some(n) = ns.get(plan.file_id) else {
                    return Err(MasterError::not_found(&plan.path));
                };
                if n.persistence != PersistenceState::ToBePersisted
                    || ns.path_of(plan.file_id).as_ref() != Some(&plan.path)
                {
                    return Err(MasterError::FailedPrecondition(format!(
                        "{} changed while it was persisted",
                        plan.path
                    )));
                }
                let mut entries = vec![Entry::UpdateInode(UpdateInodeEntry {
                    id: plan.file_id,
                    persistence_state: Some(PersistenceState::Persisted.as_str().into()),
                    ufs_fingerprint: Some(fingerprint.clone()),
                    ..Default::default()
                })];
                entries.extend(persisted_ancestors(ns, plan.file_id));
                Ok(entries)
            })
            .await;
        match r {
            Ok(_) => {
                let pinned = self.ns.read().get(plan.file_id).is_some_and(|n| n.pinned);
                if !pinned {
                    self.blocks.set_protected(&plan.block_ids, false);
                }
                Ok(())
            }
            Err(e @ (MasterError::NotFound { .. } | MasterError::FailedPrecondition(_))) => {
                let still_there = self.ns.read().find(&plan.path).is_some();
                if !still_there {
                    if let Ok(ufs) = self.ufs_of(&plan.mount) {
                        let _ = ufs.delete_file(&plan.ufs_rel).await;
                    }
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    // ---------------------------------------------------------------- checkpoints

    /// Starts a background checkpoint when enough entries accumulated since the last one.
    fn maybe_checkpoint(&self) {
        if self.layout.is_none() || self.opts.checkpoint_period_entries <= 0 {
            return;
        }
        let since = self.journal.next_sequence() - self.last_checkpoint.load(Ordering::Relaxed);
        if since >= self.opts.checkpoint_period_entries && !self.checkpoint_running.swap(true, Ordering::SeqCst) {
            match self.checkpoint_kick.get() {
                Some(tx) => {
                    let _ = tx.try_send(());
                }
                None => self.checkpoint_running.store(false, Ordering::SeqCst),
            }
        }
    }

    /// Writes a checkpoint of the current state now (blocking: call from a blocking thread).
    /// Returns the sequence number it covers.
    pub fn checkpoint_blocking(&self) -> Result<i64> {
        let _one = self.checkpoint_lock.lock();
        let Some(layout) = &self.layout else {
            return Err(MasterError::FailedPrecondition(format!(
                "the {} journal does not take checkpoints",
                self.journal.kind()
            )));
        };
        let started = std::time::Instant::now();
        // Copied under the read lock (as backups do), written without it: writers stall for
        // the copy, not for the disk.
        let (entries, end) = {
            let ns = self.ns.read();
            let end = self.journal.next_sequence();
            if end == self.last_checkpoint.load(Ordering::SeqCst) {
                self.checkpoint_running.store(false, Ordering::SeqCst);
                return Ok(end);
            }
            let mut entries = Vec::new();
            ns.snapshot(|e| {
                entries.push(e);
                Ok(())
            })
            .map_err(MasterError::Internal)?;
            (entries, end)
        };
        let mut writer = CheckpointWriter::create(layout, end)?;
        for e in entries {
            writer.append(&entry(e))?;
        }
        let count = writer.count();
        let path = writer.finish()?;
        self.last_checkpoint.store(end, Ordering::SeqCst);
        self.checkpoint_running.store(false, Ordering::SeqCst);
        tracing::info!(
            "checkpoint of {count} entries covering journal sequence < {end} written to {} in {} ms",
            path.display(),
            started.elapsed().as_millis()
        );
        Ok(end)
    }

    /// Connects the background checkpointer (see `server`).
    pub fn set_checkpoint_kick(&self, tx: tokio::sync::mpsc::Sender<()>) {
        let _ = self.checkpoint_kick.set(tx);
    }

    /// Sequence number covered by the newest checkpoint.
    pub fn last_checkpoint(&self) -> i64 {
        self.last_checkpoint.load(Ordering::SeqCst)
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

fn prefix_of(path: &AlluxioPath, depth: usize) -> AlluxioPath {
    let mut p = AlluxioPath::root();
    for c in path.components().take(depth) {
        p = p.join(c);
    }
    p
}

fn join_uri(base: &str, rel: &str) -> String {
    if rel.is_empty() {
        base.to_owned()
    } else {
        format!("{}/{rel}", base.trim_end_matches('/'))
    }
}

/// Whether UFS URI `a` is `b` or an ancestor of it (same scheme and authority).
fn uri_prefix(a: &str, b: &str) -> bool {
    let a = a.trim_end_matches('/');
    let b = b.trim_end_matches('/');
    b == a || (b.starts_with(a) && b.as_bytes().get(a.len()) == Some(&b'/'))
}

/// Entries marking the ancestors of a file that was just persisted as persisted (the UFS
/// created them as directories to hold it), so deletes and renames of them reach the UFS.
fn persisted_ancestors(ns: &Namespace, id: i64) -> impl Iterator<Item = Entry> {
    ns.unpersisted_ancestors(id).into_iter().map(mark_persisted)
}

/// [`persisted_ancestors`] of something placed in directory `dir`: `dir` and its ancestors.
fn persisted_dirs(ns: &Namespace, dir: i64) -> impl Iterator<Item = Entry> {
    let own = ns.get(dir).filter(|d| !d.is_persisted() && d.parent_id != crate::inode::NO_PARENT).map(|d| d.id);
    own.into_iter().chain(ns.unpersisted_ancestors(dir)).map(mark_persisted)
}

fn mark_persisted(id: i64) -> Entry {
    Entry::UpdateInode(UpdateInodeEntry {
        id,
        persistence_state: Some(PersistenceState::Persisted.as_str().into()),
        ..Default::default()
    })
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
    ns.ufs_modes
        .iter()
        .filter(|(k, _)| uri == k.as_str() || uri.starts_with(&format!("{k}/")))
        .max_by_key(|(k, _)| k.len())
        .and_then(|(_, m)| UfsMode::try_from(*m).ok())
        .unwrap_or(UfsMode::ReadWrite)
}
