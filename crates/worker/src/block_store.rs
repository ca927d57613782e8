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

mod checksums;
#[cfg(test)]
mod tests;

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

/// A planned move of a block out of a directory (eviction by demotion) or into an upper tier.
struct Move {
    id: i64,
    from: usize,
    length: u64,
}

impl BlockStore {
    /// Opens the store over `dirs`, scanning each for committed blocks (temporary blocks
    /// and stray files from a crash are deleted).
    pub fn open(dirs: Vec<StorageDir>) -> Result<(Arc<Self>, ScanReport)> {
        Self::open_with(dirs, Policies::default())
    }

    pub fn open_with(dirs: Vec<StorageDir>, policies: Policies) -> Result<(Arc<Self>, ScanReport)> {
        let levels = dirs.iter().map(|d| d.tier_level + 1).max().unwrap_or(1);
        let mut state = State {
            used: vec![0; dirs.len()],
            order: vec![BTreeSet::new(); dirs.len()],
            rr: vec![0; levels],
            ..Default::default()
        };
        let mut report = ScanReport::default();
        let mut locks = Vec::with_capacity(dirs.len());
        for d in &dirs {
            std::fs::create_dir_all(&d.path).map_err(io("create", &d.path))?;
            // Before anything is cleaned: another worker's live writes are in there.
            locks.push(DirLock::acquire(&d.path, "worker")?);
        }
        for (i, d) in dirs.iter().enumerate() {
            let mut sidecars = Vec::new();
            let tmp = d.path.join(".tmp_blocks");
            if tmp.exists() {
                std::fs::remove_dir_all(&tmp).map_err(io("clean", &tmp))?;
            }
            std::fs::create_dir_all(&tmp).map_err(io("create", &tmp))?;
            for e in std::fs::read_dir(&d.path).map_err(io("list", &d.path))?.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name == ".tmp_blocks"
                    || name == LOCK_FILE
                    || name == CLUSTER_ID_FILE
                    || name == crate::ufs_writes::DIR
                {
                    continue;
                }
                let ft = e.file_type().map_err(io("stat", &e.path()))?;
                match name.parse::<i64>() {
                    Ok(id) if ft.is_file() && !state.blocks.contains_key(&id) => {
                        let len = e.metadata().map_err(io("stat", &e.path()))?.len();
                        state.clock += 1;
                        let meta = BlockMeta {
                            length: len,
                            dir: i,
                            key: Key(state.clock as f64),
                            crf: 1.0,
                            last: state.clock,
                            // Until the master says which blocks are the only copies of
                            // unpersisted data, none may be evicted.
                            protected: true,
                            readers: 0,
                            placed: false,
                            pending_delete: false,
                            moving: false,
                            verified: false,
                            crcs: None,
                        };
                        state.order[i].insert((meta.key, id));
                        state.blocks.insert(id, meta);
                        state.used[i] += len;
                        report.blocks += 1;
                        report.bytes += len;
                    }
                    _ if ft.is_file() && name.strip_suffix(".crc").is_some_and(|b| b.parse::<i64>().is_ok()) => {
                        sidecars.push(e.path());
                    }
                    _ => {
                        // Non-block files, and a second copy of a block (a crash during a move).
                        let p = e.path();
                        let r = if ft.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
                        r.map_err(io("delete stray file", &p))?;
                        report.removed_files += 1;
                    }
                }
            }
            // Checksums of blocks that are not here (a crash between writing one and renaming its
            // block into place, or a second copy of a block) go.
            for c in sidecars {
                let id = c.file_stem().and_then(|s| s.to_str()).and_then(|s| s.parse::<i64>().ok());
                if id.is_none_or(|id| state.blocks.get(&id).is_none_or(|b| b.dir != i)) {
                    std::fs::remove_file(&c).map_err(io("delete stray file", &c))?;
                    report.removed_files += 1;
                }
            }
            if state.used[i] > d.capacity {
                tracing::warn!(
                    "{} holds {} bytes of blocks, more than its quota of {} bytes; least recently used blocks \
                     will be evicted as space is needed",
                    d.path.display(),
                    state.used[i],
                    d.capacity
                );
            }
        }
        let corrupt = Mutex::new(Default::default());
        Ok((Arc::new(BlockStore { dirs, _locks: locks, levels, policies, state: Mutex::new(state), corrupt }), report))
    }

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

    fn free(&self, s: &State, dir: usize) -> u64 {
        self.dirs[dir].capacity.saturating_sub(s.used[dir])
    }

    fn dirs_of(&self, level: usize) -> Vec<usize> {
        (0..self.dirs.len()).filter(|&i| self.dirs[i].tier_level == level).collect()
    }

    /// A directory of `level` with `bytes` free right now, chosen by the allocator.
    fn pick_free(&self, s: &mut State, level: usize, bytes: u64) -> Option<usize> {
        let dirs = self.dirs_of(level);
        let fits: Vec<usize> = dirs.iter().copied().filter(|&d| self.free(s, d) >= bytes).collect();
        match self.policies.allocator {
            Allocator::MaxFree => fits.into_iter().max_by_key(|&d| self.free(s, d)),
            Allocator::Greedy => fits.into_iter().next(),
            Allocator::RoundRobin => {
                if fits.is_empty() {
                    return None;
                }
                let start = s.rr[level] % dirs.len();
                let pick = (0..dirs.len()).map(|k| dirs[(start + k) % dirs.len()]).find(|d| fits.contains(d));
                s.rr[level] = (start + 1) % dirs.len();
                pick
            }
        }
    }

    /// Blocks to take out of `dir` to free `need` bytes, first to evict first; `None` when even
    /// every evictable block would not be enough.
    fn victims(&self, s: &State, dir: usize, need: u64) -> Option<Vec<Move>> {
        let mut freed = 0u64;
        let mut out = Vec::new();
        for &(_, id) in s.order[dir].iter() {
            if freed >= need {
                break;
            }
            let b = &s.blocks[&id];
            if b.protected || b.readers > 0 || b.pending_delete || b.moving {
                continue;
            }
            freed += b.length;
            out.push(Move { id, from: dir, length: b.length });
        }
        (freed >= need).then_some(out)
    }

    /// Reserves `bytes` in `level` (evicting there, demoting evicted blocks to lower levels),
    /// or in a lower level when `level` cannot make room. Returns the directory.
    /// Blocking: evictions copy files.
    fn allocate(&self, level: usize, bytes: u64, for_block: i64) -> Result<usize> {
        let mut levels: Vec<usize> = (level..self.levels).collect();
        if levels.is_empty() {
            levels.push(self.levels - 1);
        }
        for lvl in levels {
            // A few rounds: moves made by concurrent allocations may take the freed space.
            for _ in 0..8 {
                let plan = {
                    let mut s = self.state.lock();
                    if let Some(d) = self.pick_free(&mut s, lvl, bytes) {
                        s.used[d] += bytes;
                        return Ok(d);
                    }
                    // The directory of this level where eviction frees the space with the fewest bytes moved.
                    let best = self
                        .dirs_of(lvl)
                        .into_iter()
                        .filter(|&d| self.dirs[d].capacity >= bytes)
                        .filter_map(|d| self.victims(&s, d, bytes - self.free(&s, d)).map(|v| (v, d)))
                        .min_by_key(|(v, _)| v.iter().map(|m| m.length).sum::<u64>());
                    let Some((victims, _)) = best else { break };
                    mark_moving(&mut s, &victims);
                    victims
                };
                self.demote_all(plan);
            }
        }
        let s = self.state.lock();
        Err(self.exhausted(&s, for_block, bytes, level))
    }

    fn demote_all(&self, victims: Vec<Move>) {
        for v in victims {
            self.demote(v);
        }
    }

    /// Moves a block out of its directory: to the next tier down when it can take it,
    /// otherwise the block is dropped.
    fn demote(&self, m: Move) {
        let lower = self.dirs[m.from].tier_level + 1;
        let target = if lower < self.levels { self.allocate_for_move(lower, m.length) } else { None };
        match target {
            Some(to) => {
                if !self.relocate(&m, to) {
                    self.state.lock().used[to] -= m.length;
                    self.drop_moving(m.id);
                }
            }
            None => self.drop_moving(m.id),
        }
    }

    /// Room for a demoted block in `level` or below, evicting there (recursively down the tiers).
    fn allocate_for_move(&self, level: usize, bytes: u64) -> Option<usize> {
        self.allocate(level, bytes, 0).ok()
    }

    /// Copies a block into directory `to` (space already reserved there) and switches it over.
    /// Returns false (nothing changed) when the block went away or got a reader meanwhile.
    fn relocate(&self, m: &Move, to: usize) -> bool {
        let src = block_path(&self.dirs[m.from].path, m.id);
        let tmp = self.dirs[to].path.join(".tmp_blocks").join(format!("move-{:x}-{:08x}", m.id, rand::random::<u32>()));
        let dst = block_path(&self.dirs[to].path, m.id);
        // The checksums first: a block is never in place without them.
        let copied = match std::fs::copy(sidecar(&src), sidecar(&dst)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => std::fs::copy(&src, &tmp).and_then(|_| std::fs::rename(&tmp, &dst)),
        };
        if let Err(e) = copied {
            let _ = std::fs::remove_file(sidecar(&dst));
            tracing::warn!("cannot move block {} to {}: {e}", m.id, self.dirs[to].path.display());
            let _ = std::fs::remove_file(&tmp);
            return false;
        }
        let mut s = self.state.lock();
        let ok = matches!(s.blocks.get(&m.id), Some(b) if b.readers == 0 && !b.pending_delete && b.dir == m.from);
        if !ok {
            drop(s);
            delete_files(vec![dst]);
            self.end_move(m.id);
            return false;
        }
        let b = s.blocks.get_mut(&m.id).expect("checked");
        let key = b.key;
        b.dir = to;
        b.moving = false;
        s.order[m.from].remove(&(key, m.id));
        s.order[to].insert((key, m.id));
        s.used[m.from] -= m.length;
        s.unreported.push(m.id);
        drop(s);
        delete_files(vec![src]);
        true
    }

    fn drop_moving(&self, id: i64) {
        let file = {
            let mut s = self.state.lock();
            match s.blocks.get_mut(&id) {
                Some(b) if b.readers == 0 => self.forget(&mut s, id),
                Some(b) => {
                    b.moving = false;
                    None
                }
                None => None,
            }
        };
        delete_files(file.into_iter().collect());
    }

    fn exhausted(&self, s: &State, block: i64, bytes: u64, level: usize) -> WorkerError {
        let dirs: Vec<String> = (0..self.dirs.len())
            .filter(|&i| self.dirs[i].tier_level >= level)
            .map(|i| {
                let fixed: u64 =
                    s.blocks.values().filter(|b| b.dir == i && (b.protected || b.readers > 0)).map(|b| b.length).sum();
                format!(
                    "{} {} ({} of {} bytes used, {} of them by blocks that cannot be evicted)",
                    self.dirs[i].tier_alias,
                    self.dirs[i].path.display(),
                    s.used[i],
                    self.dirs[i].capacity,
                    fixed
                )
            })
            .collect();
        WorkerError::ResourceExhausted(format!(
            "Failed to allocate {bytes} bytes for block {block}: no tier has room even after evicting every \
             evictable block (pinned blocks and the only copies of unpersisted data are never evicted): {}",
            dirs.join("; ")
        ))
    }

    /// Starts a block being written on `tier` (or a lower one) with `reserve` bytes reserved.
    /// Returns the temporary file path to write. Blocking.
    pub fn create_temp(&self, id: i64, tier: usize, reserve: u64, protected: bool) -> Result<PathBuf> {
        {
            let s = self.state.lock();
            if s.blocks.contains_key(&id) {
                return Err(WorkerError::BlockExists(id));
            }
            if s.temps.contains_key(&id) {
                return Err(WorkerError::InvalidArgument(format!(
                    "Block {id} is already being written on this worker"
                )));
            }
        }
        let d = self.allocate(tier.min(self.levels - 1), reserve, id)?;
        let path = self.dirs[d].path.join(".tmp_blocks").join(format!("{id:x}-{:08x}", rand::random::<u32>()));
        let mut s = self.state.lock();
        if s.temps.contains_key(&id) || s.blocks.contains_key(&id) {
            s.used[d] -= reserve;
            return Err(WorkerError::BlockExists(id));
        }
        s.temps.insert(id, TempBlock { dir: d, reserved: reserve, path: path.clone(), protected });
        Ok(path)
    }

    /// Gives back the space reserved for a block being written beyond its first `keep` bytes
    /// (an idle writer); returns the bytes released. Later writes reserve again.
    pub fn release_unused(&self, id: i64, keep: u64) -> u64 {
        let mut s = self.state.lock();
        let Some(t) = s.temps.get_mut(&id) else { return 0 };
        let freed = t.reserved.saturating_sub(keep);
        t.reserved -= freed;
        let dir = t.dir;
        s.used[dir] -= freed;
        freed
    }

    /// Reserves `more` bytes for a block being written (in its directory). Blocking.
    pub fn reserve(&self, id: i64, more: u64) -> Result<()> {
        for _ in 0..8 {
            let plan = {
                let mut s = self.state.lock();
                let t = s.temps.get(&id).cloned().ok_or(WorkerError::BlockNotFound(id))?;
                if self.free(&s, t.dir) >= more {
                    s.used[t.dir] += more;
                    if let Some(t) = s.temps.get_mut(&id) {
                        t.reserved += more;
                    }
                    return Ok(());
                }
                let need = more - self.free(&s, t.dir);
                let Some(victims) = self.victims(&s, t.dir, need) else {
                    return Err(self.exhausted(&s, id, more, self.dirs[t.dir].tier_level));
                };
                mark_moving(&mut s, &victims);
                victims
            };
            self.demote_all(plan);
        }
        let s = self.state.lock();
        let level = s.temps.get(&id).map(|t| self.dirs[t.dir].tier_level).unwrap_or(0);
        Err(self.exhausted(&s, id, more, level))
    }

    /// Publishes a written block of `length` bytes (blocking: writes its checksums, renames the
    /// file). `crcs` are its chunk checksums: `Computed` by the worker from the bytes it wrote,
    /// `Claimed` by a client that wrote the file itself (checked at the first read), or `None`
    /// (computed here from the file). Returns its tier alias and that tier's used bytes.
    pub fn commit(&self, id: i64, length: u64, crcs: Crcs) -> Result<(String, i64)> {
        let t = self.state.lock().temps.get(&id).cloned().ok_or(WorkerError::BlockNotFound(id))?;
        if length > t.reserved {
            // The writer wrote past its reservation: take the difference now (may evict).
            self.reserve(id, length - t.reserved)?;
        }
        let dir = &self.dirs[t.dir];
        let dst = block_path(&dir.path, id);
        let (crcs, verified) = match crcs {
            Crcs::Computed(c) if c.len() == checksum::chunk_count(length) => (c, true),
            Crcs::Claimed(c) if c.len() == checksum::chunk_count(length) => (c, false),
            _ => match checksums_of_file(&t.path) {
                Ok(c) => (c, true),
                Err(e) => {
                    self.abort(id);
                    return Err(io("read block file", &t.path)(e));
                }
            },
        };
        let written = write_sidecar(&dst, &crcs);
        if let Err(e) = written.and_then(|_| std::fs::rename(&t.path, &dst).map_err(io("commit block file", &t.path))) {
            self.abort(id);
            let _ = std::fs::remove_file(sidecar(&dst));
            return Err(e);
        }
        let mut s = self.state.lock();
        let Some(t) = s.temps.remove(&id) else { return Err(WorkerError::BlockNotFound(id)) };
        s.used[t.dir] = s.used[t.dir] - t.reserved.max(length) + length;
        let protected = t.protected || s.protected_ids.remove(&id);
        s.clock += 1;
        let clock = s.clock;
        let mut meta = BlockMeta {
            length,
            dir: t.dir,
            key: Key(0.0),
            crf: 0.0,
            last: clock,
            protected,
            readers: 0,
            pending_delete: false,
            moving: false,
            placed: false,
            verified,
            crcs: Some(crcs.into()),
        };
        self.touch(&mut meta, clock);
        s.order[t.dir].insert((meta.key, id));
        s.blocks.insert(id, meta);
        s.unreported.push(id);
        // Removed and cached again before the next heartbeat: it is here, do not report it gone.
        s.removed.retain(|r| *r != id);
        drop(s);
        self.corrupt.lock().retain(|(b, _)| *b != id);
        let s = self.state.lock();
        let used = self.tier_used(&s, &dir.tier_alias);
        Ok((dir.tier_alias.clone(), used))
    }

    /// Records an access in the annotation.
    fn touch(&self, b: &mut BlockMeta, clock: u64) {
        match self.policies.annotator {
            Annotator::Lru => b.key = Key(clock as f64),
            Annotator::Lrfu { step, attenuation } => {
                let age = clock.saturating_sub(b.last) as f64;
                b.crf = 1.0 + b.crf * attenuation.powf(-step * age);
                // Compared at a common time, scores keep the order of ln(crf) + step*ln(att)*t.
                b.key = Key(b.crf.ln() + step * attenuation.ln() * clock as f64);
            }
        }
        b.last = clock;
    }

    /// Abandons a block being written and deletes its file.
    pub fn abort(&self, id: i64) {
        let t = {
            let mut s = self.state.lock();
            let Some(t) = s.temps.remove(&id) else { return };
            s.used[t.dir] -= t.reserved;
            t
        };
        let _ = std::fs::remove_file(&t.path);
    }

    /// Locks a committed block for reading and records the access.
    pub fn lock(self: &Arc<Self>, id: i64) -> Option<BlockReadLock> {
        let mut s = self.state.lock();
        s.clock += 1;
        let clock = s.clock;
        let State { blocks, order, .. } = &mut *s;
        let b = blocks.get_mut(&id)?;
        if b.pending_delete {
            return None;
        }
        order[b.dir].remove(&(b.key, id));
        self.touch(b, clock);
        order[b.dir].insert((b.key, id));
        b.readers += 1;
        let dir = &self.dirs[b.dir];
        Some(BlockReadLock {
            store: self.clone(),
            block_id: id,
            path: block_path(&dir.path, id),
            length: b.length,
            tier_alias: dir.tier_alias.clone(),
        })
    }

    fn unlock(&self, id: i64) {
        let file = {
            let mut s = self.state.lock();
            let Some(b) = s.blocks.get_mut(&id) else {
                return;
            };
            b.readers = b.readers.saturating_sub(1);
            if !(b.readers == 0 && b.pending_delete) {
                return;
            }
            self.forget(&mut s, id)
        };
        delete_files(file.into_iter().collect());
    }

    /// Drops a block from the state; returns its file, to delete once the lock is released.
    fn forget(&self, s: &mut State, id: i64) -> Option<PathBuf> {
        let b = s.blocks.remove(&id)?;
        s.order[b.dir].remove(&(b.key, id));
        s.used[b.dir] -= b.length;
        s.removed.push(id);
        Some(block_path(&self.dirs[b.dir].path, id))
    }

    /// Removes a block; if someone reads it, removal happens when the last reader unlocks.
    pub fn remove(&self, id: i64) {
        let file = {
            let mut s = self.state.lock();
            let Some(b) = s.blocks.get_mut(&id) else {
                return;
            };
            if b.readers > 0 || b.moving {
                b.pending_delete = true;
                return;
            }
            self.forget(&mut s, id)
        };
        delete_files(file.into_iter().collect());
    }

    /// Moves a block to the top tier (CACHE_PROMOTE), evicting there as needed. Blocking.
    /// Returns whether the block now lives in the top tier.
    pub fn promote(&self, id: i64) -> bool {
        self.move_to(id, |_| Some(0), |from, to| self.dirs[to].tier_level < self.dirs[from].tier_level)
    }

    /// Moves a block into a tier whose medium type (or alias) is one of `media` — the placement of
    /// a file pinned to media — evicting unprotected blocks there as needed. True when the block
    /// is (now) on one of them. Blocking.
    pub fn move_to_media(&self, id: i64, media: &[String]) -> bool {
        let on = |d: usize| {
            media.iter().any(|m| {
                m.eq_ignore_ascii_case(&self.dirs[d].medium) || m.eq_ignore_ascii_case(&self.dirs[d].tier_alias)
            })
        };
        let Some(level) = (0..self.dirs.len()).filter(|&d| on(d)).map(|d| self.dirs[d].tier_level).min() else {
            return false;
        };
        let placed = self.move_to(id, |from| if on(from) { None } else { Some(level) }, |_, to| on(to));
        if placed {
            if let Some(b) = self.state.lock().blocks.get_mut(&id) {
                b.placed = true;
            }
        }
        placed
    }

    /// Moves block `id` to the level `target` picks for its current directory (`None`: it is
    /// where it belongs), keeping the new directory only when `accept(from, to)`.
    fn move_to(&self, id: i64, target: impl Fn(usize) -> Option<usize>, accept: impl Fn(usize, usize) -> bool) -> bool {
        let (m, level) = {
            let mut s = self.state.lock();
            let Some(b) = s.blocks.get_mut(&id) else { return false };
            let Some(level) = target(b.dir) else { return true };
            if self.dirs[b.dir].tier_level == level && level == 0 {
                return true;
            }
            if b.readers > 0 || b.moving || b.pending_delete {
                return false;
            }
            b.moving = true;
            (Move { id, from: b.dir, length: b.length }, level)
        };
        match self.allocate(level, m.length, id) {
            Ok(to) if accept(m.from, to) => {
                if self.relocate(&m, to) {
                    return true;
                }
                self.state.lock().used[to] -= m.length;
            }
            Ok(to) => self.state.lock().used[to] -= m.length,
            Err(_) => {}
        }
        self.end_move(id);
        false
    }

    /// A move that did not happen: the block stays, unless it was removed meanwhile (removal
    /// waits for moves), which then takes effect.
    fn end_move(&self, id: i64) {
        let file = {
            let mut s = self.state.lock();
            match s.blocks.get_mut(&id) {
                Some(b) if b.pending_delete && b.readers == 0 => self.forget(&mut s, id),
                Some(b) => {
                    b.moving = false;
                    None
                }
                None => None,
            }
        };
        delete_files(file.into_iter().collect());
    }

    /// The background promoter: moves the hottest blocks of lower tiers up while the tier
    /// above stays under `fill` (a fraction of capacity), without evicting anything.
    /// Returns the number of blocks moved. Blocking.
    pub fn promote_hot_blocks(&self, fill: f64, max_moves: usize) -> usize {
        let mut moved = 0;
        for upper in 0..self.levels.saturating_sub(1) {
            loop {
                if moved >= max_moves {
                    return moved;
                }
                let step = {
                    let mut s = self.state.lock();
                    // The hottest movable block of the tiers below.
                    let candidate = (0..self.dirs.len())
                        .filter(|&d| self.dirs[d].tier_level > upper)
                        .filter_map(|d| {
                            s.order[d].iter().rev().map(|(k, id)| (*k, *id)).find(|(_, id)| {
                                let b = &s.blocks[id];
                                b.readers == 0 && !b.moving && !b.pending_delete && !b.placed
                            })
                        })
                        .max_by_key(|(k, _)| *k);
                    let Some((_, id)) = candidate else { break };
                    let len = s.blocks[&id].length;
                    let room = self
                        .dirs_of(upper)
                        .into_iter()
                        .find(|&d| (s.used[d] + len) as f64 <= self.dirs[d].capacity as f64 * fill);
                    let Some(to) = room else { break };
                    // Only promote blocks hotter than the coldest block above.
                    let coldest_above = s.order[to].iter().next().map(|(k, _)| *k);
                    if coldest_above.is_some_and(|c| c > s.blocks[&id].key) {
                        break;
                    }
                    s.used[to] += len;
                    let b = s.blocks.get_mut(&id).expect("present");
                    b.moving = true;
                    (Move { id, from: b.dir, length: len }, to)
                };
                let (m, to) = step;
                if self.relocate(&m, to) {
                    moved += 1;
                } else {
                    self.state.lock().used[to] -= m.length;
                    if let Some(b) = self.state.lock().blocks.get_mut(&m.id) {
                        b.moving = false;
                    }
                    break;
                }
            }
        }
        moved
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

/// Marks eviction victims as moving, so nothing else evicts or moves them meanwhile.
fn mark_moving(s: &mut State, victims: &[Move]) {
    for v in victims {
        if let Some(b) = s.blocks.get_mut(&v.id) {
            b.moving = true;
        }
    }
}
