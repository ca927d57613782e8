//! The tiered block store: one file per block in the tier directories (MEM, SSD, HDD), an
//! allocator choosing the directory of a new block, an annotator ordering blocks for eviction
//! (LRU or LRFU), eviction that moves a block down a tier before dropping it, promotion of hot
//! blocks to upper tiers, and read locks that keep a block in place while someone reads it.
//!
//! Layout of each storage directory: `<dir>/alluxioworker/<blockId>` for committed blocks,
//! `<dir>/alluxioworker/<blockId>.crc` for their chunk checksums (`alluxio_common::checksum`,
//! written before the block is renamed into place), `<dir>/alluxioworker/.tmp_blocks/<blockId
//! hex>-<nonce>` for blocks being written or moved. A restart rescans the directories.
//!
//! **Invariants:** a block that is protected (pinned, or the only copy of data not yet
//! persisted) or read-locked is never evicted or moved; `used` of a directory counts committed
//! bytes plus reservations, and never exceeds its capacity. Functions that may move or delete
//! files (allocation, reservation, commit, promotion) do blocking I/O: call them from blocking
//! threads. The state lock is never held during file I/O.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use rustc_hash::{FxHashMap, FxHashSet};

use alluxio_common::checksum;
use alluxio_common::lock::{DirLock, LOCK_FILE};

use crate::error::{io, Result, WorkerError};

mod allocation;
mod checksums;
mod locks;
mod moves;
mod scan;
#[cfg(test)]
mod tests;
mod writes;

pub use checksums::sidecar;
use checksums::{checksums_of_file, write_sidecar};

/// The chunk checksums a committed block arrives with.
pub enum Crcs {
    /// Computed by the worker from the bytes it wrote.
    Computed(Vec<u32>),
    /// Sent by a client that wrote the block file itself: checked at the first read.
    Claimed(Vec<u32>),
    /// Unknown: computed from the file at commit.
    None,
}

/// The file in each storage directory naming the cluster its blocks belong to.
pub const CLUSTER_ID_FILE: &str = ".cluster_id";

/// One storage directory of a tier.
#[derive(Debug, Clone)]
pub struct StorageDir {
    /// The `alluxioworker` directory inside the configured path.
    pub path: PathBuf,
    pub tier_alias: String,
    pub tier_level: usize,
    pub medium: String,
    pub capacity: u64,
}

/// Which directory of a tier takes a new block (`alluxio.worker.allocator.class`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocator {
    /// The directory with the most free space (Alluxio's default).
    MaxFree,
    /// Directories in turn.
    RoundRobin,
    /// The first directory with room.
    Greedy,
}

/// How blocks are ordered for eviction (`alluxio.worker.block.annotator.class`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Annotator {
    /// Least recently used first.
    Lru,
    /// Least "combined recency and frequency" first: every access adds 1 to a score that
    /// decays by `attenuation^(-step * age)`.
    Lrfu { step: f64, attenuation: f64 },
}

/// Store policies.
#[derive(Debug, Clone, Copy)]
pub struct Policies {
    pub allocator: Allocator,
    pub annotator: Annotator,
}

impl Default for Policies {
    fn default() -> Self {
        Policies { allocator: Allocator::MaxFree, annotator: Annotator::Lru }
    }
}

/// An f64 with a total order, for eviction keys.
#[derive(Debug, Clone, Copy)]
struct Key(f64);
impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

#[derive(Debug, Clone)]
struct BlockMeta {
    length: u64,
    dir: usize,
    key: Key,
    /// LRFU score at `last` (unused for LRU).
    crf: f64,
    last: u64,
    protected: bool,
    readers: u32,
    pending_delete: bool,
    /// Being copied to another directory; neither evicted nor moved again meanwhile.
    moving: bool,
    /// Placed on the media its file is pinned to: the promoter leaves it there.
    placed: bool,
    /// Its bytes matched its checksums since this worker started.
    verified: bool,
    /// Its chunk checksums, once read from the sidecar.
    crcs: Option<Arc<[u32]>>,
}

#[derive(Debug, Clone)]
struct TempBlock {
    dir: usize,
    reserved: u64,
    path: PathBuf,
    protected: bool,
}

#[derive(Default)]
struct State {
    blocks: FxHashMap<i64, BlockMeta>,
    temps: FxHashMap<i64, TempBlock>,
    used: Vec<u64>,
    /// Per directory: (eviction key, block id), first to evict first.
    order: Vec<BTreeSet<(Key, i64)>>,
    clock: u64,
    /// Round-robin position per tier level.
    rr: Vec<usize>,
    /// Blocks removed or evicted since the last heartbeat.
    removed: Vec<i64>,
    /// Blocks committed or moved (tier changed) but not yet confirmed by the master.
    unreported: Vec<i64>,
    /// Protection the master asked for before the block arrived here.
    protected_ids: FxHashSet<i64>,
}

/// The worker's blocks across all tiers.
pub struct BlockStore {
    dirs: Vec<StorageDir>,
    /// One per directory, held for the store's life: one worker per tier directory.
    _locks: Vec<DirLock>,
    levels: usize,
    policies: Policies,
    state: Mutex<State>,
    /// Blocks dropped for failing their checksums, and why (the newest 1024).
    corrupt: Mutex<std::collections::VecDeque<(i64, String)>>,
}

/// A committed block, locked against eviction and moves while the guard lives.
pub struct BlockReadLock {
    store: Arc<BlockStore>,
    pub block_id: i64,
    pub path: PathBuf,
    pub length: u64,
    pub tier_alias: String,
}

impl Drop for BlockReadLock {
    fn drop(&mut self) {
        self.store.unlock(self.block_id);
    }
}

/// What a scan found at start-up.
#[derive(Debug, Default)]
pub struct ScanReport {
    pub blocks: usize,
    pub bytes: u64,
    pub removed_files: usize,
}

fn block_path(dir: &Path, id: i64) -> PathBuf {
    dir.join(id.to_string())
}

/// Deletes block files and their checksum sidecars.
fn delete_files(files: Vec<PathBuf>) {
    for f in files {
        for p in [sidecar(&f), f] {
            if let Err(e) = std::fs::remove_file(&p) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!("cannot delete block file {}: {e}", p.display());
                }
            }
        }
    }
}

impl BlockStore {
    pub fn dirs(&self) -> &[StorageDir] {
        &self.dirs
    }

    /// Tier aliases in level order.
    pub fn tiers(&self) -> Vec<String> {
        let mut t: Vec<(usize, String)> = self.dirs.iter().map(|d| (d.tier_level, d.tier_alias.clone())).collect();
        t.sort();
        t.dedup();
        t.into_iter().map(|(_, a)| a).collect()
    }

    /// Capacity per tier alias.
    pub fn capacity(&self) -> FxHashMap<String, i64> {
        let mut m = FxHashMap::default();
        for d in &self.dirs {
            *m.entry(d.tier_alias.clone()).or_insert(0) += d.capacity as i64;
        }
        m
    }

    /// Bytes used per tier alias (committed + reserved).
    pub fn used(&self) -> FxHashMap<String, i64> {
        let s = self.state.lock();
        let mut m = FxHashMap::default();
        for (i, d) in self.dirs.iter().enumerate() {
            *m.entry(d.tier_alias.clone()).or_insert(0) += s.used[i] as i64;
        }
        m
    }

    fn tier_used(&self, s: &State, alias: &str) -> i64 {
        (0..self.dirs.len()).filter(|&i| self.dirs[i].tier_alias == alias).map(|i| s.used[i] as i64).sum()
    }

    /// Committed blocks grouped by tier alias.
    pub fn report(&self) -> Vec<(String, Vec<i64>)> {
        let s = self.state.lock();
        let mut by: FxHashMap<String, Vec<i64>> = FxHashMap::default();
        for (id, b) in &s.blocks {
            if !b.pending_delete {
                by.entry(self.dirs[b.dir].tier_alias.clone()).or_default().push(*id);
            }
        }
        by.into_iter().collect()
    }

    pub fn block_count(&self) -> usize {
        self.state.lock().blocks.len()
    }

    pub fn has_block(&self, id: i64) -> bool {
        self.state.lock().blocks.get(&id).is_some_and(|b| !b.pending_delete)
    }

    /// Tier alias of a committed block.
    pub fn tier_of(&self, id: i64) -> Option<String> {
        self.state.lock().blocks.get(&id).map(|b| self.dirs[b.dir].tier_alias.clone())
    }

    /// Sets or clears eviction protection of blocks (also for blocks not here yet).
    /// After registration: of the `reported` blocks, exactly `protected` stay protected (blocks
    /// found at start-up are protected until then; blocks written since keep their own flag).
    pub fn reset_protection(&self, reported: &[i64], protected: &[i64]) {
        let keep: FxHashSet<i64> = protected.iter().copied().collect();
        let mut s = self.state.lock();
        for id in reported {
            if let Some(b) = s.blocks.get_mut(id) {
                b.protected = keep.contains(id);
                b.placed &= b.protected;
            }
        }
        drop(s);
        self.set_protected(protected, true);
    }

    pub fn set_protected(&self, ids: &[i64], protected: bool) {
        let mut s = self.state.lock();
        for id in ids {
            match s.blocks.get_mut(id) {
                Some(b) => {
                    b.protected = protected;
                    b.placed &= protected;
                }
                None if protected => {
                    s.protected_ids.insert(*id);
                }
                None => {
                    s.protected_ids.remove(id);
                }
            }
        }
    }

    /// Blocks removed since the last call (for the heartbeat).
    pub fn take_removed(&self) -> Vec<i64> {
        std::mem::take(&mut self.state.lock().removed)
    }

    /// Blocks committed or moved since the last call that the master may not know of.
    pub fn take_unreported(&self) -> Vec<i64> {
        std::mem::take(&mut self.state.lock().unreported)
    }

    /// Marks blocks as confirmed by the master.
    pub fn reported(&self, ids: &[i64]) {
        let mut s = self.state.lock();
        let set: FxHashSet<i64> = ids.iter().copied().collect();
        s.unreported.retain(|i| !set.contains(i));
    }
}
