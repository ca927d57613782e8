//! Where a new or moved block goes, and eviction by demotion when a directory is full.

use super::*;

impl BlockStore {
    pub(super) fn free(&self, s: &State, dir: usize) -> u64 {
        self.dirs[dir].capacity.saturating_sub(s.used[dir])
    }

    pub(super) fn dirs_of(&self, level: usize) -> Vec<usize> {
        (0..self.dirs.len()).filter(|&i| self.dirs[i].tier_level == level).collect()
    }

    /// A directory of `level` with `bytes` free right now, chosen by the allocator.
    pub(super) fn pick_free(&self, s: &mut State, level: usize, bytes: u64) -> Option<usize> {
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
    pub(super) fn victims(&self, s: &State, dir: usize, need: u64) -> Option<Vec<Move>> {
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
    pub(super) fn allocate(&self, level: usize, bytes: u64, for_block: i64) -> Result<usize> {
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

    pub(super) fn demote_all(&self, victims: Vec<Move>) {
        for v in victims {
            self.demote(v);
        }
    }

    /// Moves a block out of its directory: to the next tier down when it can take it,
    /// otherwise the block is dropped.
    pub(super) fn demote(&self, m: Move) {
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
    pub(super) fn allocate_for_move(&self, level: usize, bytes: u64) -> Option<usize> {
        self.allocate(level, bytes, 0).ok()
    }

    /// Copies a block into directory `to` (space already reserved there) and switches it over.
    /// Returns false (nothing changed) when the block went away or got a reader meanwhile.
    pub(super) fn relocate(&self, m: &Move, to: usize) -> bool {
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

    pub(super) fn drop_moving(&self, id: i64) {
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

    pub(super) fn exhausted(&self, s: &State, block: i64, bytes: u64, level: usize) -> WorkerError {
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
}

/// Marks eviction victims as moving, so nothing else evicts or moves them meanwhile.
pub(super) fn mark_moving(s: &mut State, victims: &[Move]) {
    for v in victims {
        if let Some(b) = s.blocks.get_mut(&v.id) {
            b.moving = true;
        }
    }
}

/// A planned move of a block out of a directory (eviction by demotion) or into an upper tier.
pub(super) struct Move {
    pub id: i64,
    pub from: usize,
    pub length: u64,
}
