//! Writing blocks: temporary files, reservations, commits, aborts.

use super::allocation::mark_moving;
use super::*;

impl BlockStore {
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
    pub(super) fn touch(&self, b: &mut BlockMeta, clock: u64) {
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
}
