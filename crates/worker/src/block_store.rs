//! The tiered block store: one file per block in the tier directories, LRU eviction, read
//! locks that keep a block from being evicted while someone reads it.
//!
//! Layout of each storage directory: `<dir>/alluxioworker/<blockId>` for committed blocks,
//! `<dir>/alluxioworker/.tmp_blocks/<blockId hex>-<nonce>` for blocks being written.
//! The store keeps no metadata of its own on disk: a restart rescans the directories.
//!
//! **Invariants:** a block that is protected (pinned, or the only copy of data not yet
//! persisted) or read-locked is never evicted; `used` of a directory counts committed bytes
//! plus reservations of blocks being written, and never exceeds its capacity.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::error::{io, Result, WorkerError};

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

#[derive(Debug, Clone)]
struct BlockMeta {
    length: u64,
    dir: usize,
    access: u64,
    protected: bool,
    readers: u32,
    pending_delete: bool,
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
    /// Per directory: (access clock, block id) of committed blocks, oldest first.
    lru: Vec<BTreeSet<(u64, i64)>>,
    clock: u64,
    /// Blocks removed or evicted since the last heartbeat.
    removed: Vec<i64>,
    /// Blocks committed but not yet confirmed by the master.
    unreported: Vec<i64>,
    /// Protection the master asked for before the block arrived here.
    protected_ids: FxHashSet<i64>,
}

/// The worker's blocks across all tiers.
pub struct BlockStore {
    dirs: Vec<StorageDir>,
    state: Mutex<State>,
}

/// A committed block, locked against eviction while the guard lives.
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

impl BlockStore {
    /// Opens the store over `dirs`, scanning each for committed blocks (temporary blocks
    /// and stray files from a crash are deleted).
    pub fn open(dirs: Vec<StorageDir>) -> Result<(Arc<Self>, ScanReport)> {
        let mut state =
            State { used: vec![0; dirs.len()], lru: vec![BTreeSet::new(); dirs.len()], ..Default::default() };
        let mut report = ScanReport::default();
        for (i, d) in dirs.iter().enumerate() {
            std::fs::create_dir_all(&d.path).map_err(io("create", &d.path))?;
            let tmp = d.path.join(".tmp_blocks");
            if tmp.exists() {
                std::fs::remove_dir_all(&tmp).map_err(io("clean", &tmp))?;
            }
            std::fs::create_dir_all(&tmp).map_err(io("create", &tmp))?;
            for e in std::fs::read_dir(&d.path).map_err(io("list", &d.path))?.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name == ".tmp_blocks" {
                    continue;
                }
                let ft = e.file_type().map_err(io("stat", &e.path()))?;
                match name.parse::<i64>() {
                    Ok(id) if ft.is_file() => {
                        let len = e.metadata().map_err(io("stat", &e.path()))?.len();
                        state.clock += 1;
                        state.blocks.insert(
                            id,
                            BlockMeta {
                                length: len,
                                dir: i,
                                access: state.clock,
                                protected: false,
                                readers: 0,
                                pending_delete: false,
                            },
                        );
                        state.lru[i].insert((state.clock, id));
                        state.used[i] += len;
                        report.blocks += 1;
                        report.bytes += len;
                    }
                    _ => {
                        let p = e.path();
                        let r = if ft.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
                        r.map_err(io("delete stray file", &p))?;
                        report.removed_files += 1;
                    }
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
        Ok((Arc::new(BlockStore { dirs, state: Mutex::new(state) }), report))
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

    /// Finds room for `bytes` in directory `dir`, evicting unprotected, unlocked blocks in
    /// LRU order. Returns the files to delete (after the lock is released).
    fn make_room(&self, s: &mut State, dir: usize, bytes: u64) -> Option<Vec<PathBuf>> {
        let cap = self.dirs[dir].capacity;
        if s.used[dir] + bytes <= cap {
            return Some(Vec::new());
        }
        let need = s.used[dir] + bytes - cap;
        let mut freed = 0u64;
        let mut victims = Vec::new();
        for &(_, id) in s.lru[dir].iter() {
            if freed >= need {
                break;
            }
            let b = &s.blocks[&id];
            if b.protected || b.readers > 0 || b.pending_delete {
                continue;
            }
            freed += b.length;
            victims.push(id);
        }
        if freed < need {
            return None;
        }
        let mut files = Vec::with_capacity(victims.len());
        for id in victims {
            files.extend(self.forget(s, id));
        }
        Some(files)
    }

    fn delete_files(files: Vec<PathBuf>) {
        for f in files {
            if let Err(e) = std::fs::remove_file(&f) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!("cannot delete evicted block file {}: {e}", f.display());
                }
            }
        }
    }

    /// Directories to try for a new block on `tier`: that tier's (most free first), then
    /// lower tiers, so a full upper tier never fails a write a lower one can take.
    fn candidates(&self, s: &State, tier: usize) -> Vec<usize> {
        let mut c: Vec<usize> = (0..self.dirs.len()).filter(|&i| self.dirs[i].tier_level >= tier).collect();
        c.sort_by_key(|&i| {
            (self.dirs[i].tier_level, std::cmp::Reverse(self.dirs[i].capacity.saturating_sub(s.used[i])))
        });
        c
    }

    fn exhausted(&self, s: &State, block: i64, bytes: u64, tier: usize) -> WorkerError {
        let dirs: Vec<String> = (0..self.dirs.len())
            .filter(|&i| self.dirs[i].tier_level >= tier)
            .map(|i| {
                let pinned: u64 =
                    s.blocks.values().filter(|b| b.dir == i && (b.protected || b.readers > 0)).map(|b| b.length).sum();
                format!(
                    "{} {} ({} of {} bytes used, {} of them by blocks that cannot be evicted)",
                    self.dirs[i].tier_alias,
                    self.dirs[i].path.display(),
                    s.used[i],
                    self.dirs[i].capacity,
                    pinned
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
    /// Returns the temporary file path to write.
    pub fn create_temp(&self, id: i64, tier: usize, reserve: u64, protected: bool) -> Result<PathBuf> {
        let (path, files) = {
            let mut s = self.state.lock();
            if s.blocks.contains_key(&id) {
                return Err(WorkerError::BlockExists(id));
            }
            if s.temps.contains_key(&id) {
                return Err(WorkerError::InvalidArgument(format!(
                    "Block {id} is already being written on this worker"
                )));
            }
            let mut chosen = None;
            for d in self.candidates(&s, tier) {
                if let Some(files) = self.make_room(&mut s, d, reserve) {
                    chosen = Some((d, files));
                    break;
                }
            }
            let Some((d, files)) = chosen else {
                return Err(self.exhausted(&s, id, reserve, tier));
            };
            s.used[d] += reserve;
            let nonce: u32 = rand::random();
            let path = self.dirs[d].path.join(".tmp_blocks").join(format!("{id:x}-{nonce:08x}"));
            s.temps.insert(id, TempBlock { dir: d, reserved: reserve, path: path.clone(), protected });
            (path, files)
        };
        Self::delete_files(files);
        Ok(path)
    }

    /// Reserves `more` bytes for a block being written.
    pub fn reserve(&self, id: i64, more: u64) -> Result<()> {
        let files = {
            let mut s = self.state.lock();
            let t = s.temps.get(&id).cloned().ok_or(WorkerError::BlockNotFound(id))?;
            let Some(files) = self.make_room(&mut s, t.dir, more) else {
                return Err(self.exhausted(&s, id, more, self.dirs[t.dir].tier_level));
            };
            s.used[t.dir] += more;
            if let Some(t) = s.temps.get_mut(&id) {
                t.reserved += more;
            }
            files
        };
        Self::delete_files(files);
        Ok(())
    }

    /// Publishes a written block of `length` bytes (blocking: renames the file).
    /// Returns its tier alias and that tier's used bytes.
    pub fn commit(&self, id: i64, length: u64) -> Result<(String, i64)> {
        let t = self.state.lock().temps.get(&id).cloned().ok_or(WorkerError::BlockNotFound(id))?;
        if length > t.reserved {
            // The writer wrote past its reservation: take the difference now (may evict).
            self.reserve(id, length - t.reserved)?;
        }
        let dir = &self.dirs[t.dir];
        let dst = block_path(&dir.path, id);
        if let Err(e) = std::fs::rename(&t.path, &dst) {
            self.abort(id);
            return Err(io("commit block file", &t.path)(e));
        }
        let mut s = self.state.lock();
        let Some(t) = s.temps.remove(&id) else {
            return Err(WorkerError::BlockNotFound(id));
        };
        s.used[t.dir] = s.used[t.dir] - t.reserved.max(length) + length;
        s.clock += 1;
        let access = s.clock;
        let protected = t.protected || s.protected_ids.remove(&id);
        s.blocks.insert(id, BlockMeta { length, dir: t.dir, access, protected, readers: 0, pending_delete: false });
        s.lru[t.dir].insert((access, id));
        s.unreported.push(id);
        let used: u64 =
            (0..self.dirs.len()).filter(|&i| self.dirs[i].tier_alias == dir.tier_alias).map(|i| s.used[i]).sum();
        Ok((dir.tier_alias.clone(), used as i64))
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

    /// Locks a committed block for reading and marks it recently used.
    pub fn lock(self: &Arc<Self>, id: i64) -> Option<BlockReadLock> {
        let mut s = self.state.lock();
        s.clock += 1;
        let clock = s.clock;
        let State { blocks, lru, .. } = &mut *s;
        let b = blocks.get_mut(&id)?;
        if b.pending_delete {
            return None;
        }
        lru[b.dir].remove(&(b.access, id));
        b.access = clock;
        lru[b.dir].insert((clock, id));
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
        Self::delete_files(file.into_iter().collect());
    }

    /// Drops a block from the state; returns its file, to delete once the lock is released.
    fn forget(&self, s: &mut State, id: i64) -> Option<PathBuf> {
        let b = s.blocks.remove(&id)?;
        s.lru[b.dir].remove(&(b.access, id));
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
            if b.readers > 0 {
                b.pending_delete = true;
                return;
            }
            self.forget(&mut s, id)
        };
        Self::delete_files(file.into_iter().collect());
    }

    /// Sets or clears eviction protection of blocks (also for blocks not here yet).
    pub fn set_protected(&self, ids: &[i64], protected: bool) {
        let mut s = self.state.lock();
        for id in ids {
            match s.blocks.get_mut(id) {
                Some(b) => b.protected = protected,
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

    /// Blocks committed since the last call that the master may not know of.
    pub fn take_unreported(&self) -> Vec<i64> {
        std::mem::take(&mut self.state.lock().unreported)
    }

    /// Marks blocks as confirmed by the master.
    pub fn reported(&self, ids: &[i64]) {
        let mut s = self.state.lock();
        let set: FxHashSet<i64> = ids.iter().copied().collect();
        s.unreported.retain(|i| !set.contains(i));
    }

    /// Tier alias of a committed block.
    pub fn tier_of(&self, id: i64) -> Option<String> {
        self.state.lock().blocks.get(&id).map(|b| self.dirs[b.dir].tier_alias.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(cap: u64) -> (tempfile::TempDir, Arc<BlockStore>) {
        let d = tempfile::tempdir().unwrap();
        let dirs = vec![StorageDir {
            path: d.path().join("alluxioworker"),
            tier_alias: "MEM".into(),
            tier_level: 0,
            medium: "MEM".into(),
            capacity: cap,
        }];
        let (s, _) = BlockStore::open(dirs).unwrap();
        (d, s)
    }

    fn put(s: &BlockStore, id: i64, len: u64, protected: bool) -> Result<()> {
        let p = s.create_temp(id, 0, len, protected)?;
        std::fs::write(&p, vec![7u8; len as usize]).unwrap();
        s.commit(id, len).map(|_| ())
    }

    #[test]
    fn evicts_least_recently_used_but_never_protected_or_locked() {
        let (_d, s) = store(300);
        put(&s, 1, 100, false).unwrap();
        put(&s, 2, 100, true).unwrap();
        put(&s, 3, 100, false).unwrap();
        let lock3 = s.lock(3).unwrap();
        // Needs 100 bytes: 1 is the LRU evictable block.
        put(&s, 4, 100, false).unwrap();
        assert!(!s.has_block(1) && s.has_block(2) && s.has_block(3) && s.has_block(4));
        // Only 4 is evictable now (2 protected, 3 locked); 200 bytes cannot be found.
        let e = put(&s, 5, 200, false).unwrap_err();
        assert!(matches!(e, WorkerError::ResourceExhausted(_)), "{e}");
        assert!(e.to_string().contains("block 5"));
        assert_eq!(s.used()["MEM"], 300, "a failed allocation reserves nothing");
        drop(lock3);
        put(&s, 5, 200, false).unwrap();
        assert_eq!(s.take_removed().len(), 3);
    }

    #[test]
    fn restart_rescans_blocks_and_drops_temp_files() {
        let (d, s) = store(1000);
        put(&s, 42, 10, false).unwrap();
        let tmp = s.create_temp(43, 0, 10, false).unwrap();
        std::fs::write(&tmp, b"half").unwrap();
        std::fs::write(d.path().join("alluxioworker/junk"), b"x").unwrap();
        drop(s);
        let dirs = vec![StorageDir {
            path: d.path().join("alluxioworker"),
            tier_alias: "MEM".into(),
            tier_level: 0,
            medium: "MEM".into(),
            capacity: 1000,
        }];
        let (s, report) = BlockStore::open(dirs).unwrap();
        assert_eq!(report.blocks, 1);
        assert_eq!(report.removed_files, 1);
        assert!(s.has_block(42) && !s.has_block(43));
        assert!(!tmp.exists());
    }

    #[test]
    fn removal_waits_for_readers() {
        let (_d, s) = store(100);
        put(&s, 1, 10, false).unwrap();
        let l = s.lock(1).unwrap();
        s.remove(1);
        assert!(l.path.exists());
        assert!(s.lock(1).is_none());
        drop(l);
        assert!(!s.has_block(1));
        assert_eq!(s.used()["MEM"], 0);
    }
}
