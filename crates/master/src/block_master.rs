//! The block master: workers, their capacity, and where each block is cached.
//!
//! **Architecture invariant:** nothing here is journaled. Locations are rebuilt from worker
//! registrations after every master start; block lengths derive from file lengths.
//! Lock order: callers may hold the namespace lock while calling in here, never the reverse.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use alluxio_proto::grpc::block::{BlockMasterInfo, WorkerInfo};
use alluxio_proto::grpc::WorkerNetAddress;
use parking_lot::Mutex;
use rustc_hash::{FxHashMap, FxHashSet};

/// Tier ordering for reports: MEM, SSD, HDD, then others by name.
pub fn tier_rank(alias: &str) -> usize {
    match alias {
        "MEM" => 0,
        "SSD" => 1,
        "HDD" => 2,
        _ => 3,
    }
}

/// What the master knows of one worker.
#[derive(Debug, Clone)]
pub struct WorkerRecord {
    pub id: i64,
    pub address: WorkerNetAddress,
    pub capacity: BTreeMap<String, i64>,
    pub used: BTreeMap<String, i64>,
    /// Block id → tier alias.
    pub blocks: FxHashMap<i64, String>,
    pub pending_remove: FxHashSet<i64>,
    pub pending_protect: FxHashSet<i64>,
    pub pending_unprotect: FxHashSet<i64>,
    pub last_contact: Instant,
    pub start_time_ms: i64,
    pub registered: bool,
    pub lost: bool,
    /// No new data goes here; its unique data is being copied away.
    pub decommissioned: bool,
    pub version: String,
}

fn address_key(a: &WorkerNetAddress) -> String {
    format!("{}:{}", a.host, a.rpc_port)
}

/// Marks `w` lost and forgets where its blocks are.
fn lose(w: &mut WorkerRecord, locations: &mut FxHashMap<i64, Vec<i64>>) {
    w.lost = true;
    for b in w.blocks.keys() {
        if let Some(l) = locations.get_mut(b) {
            l.retain(|x| *x != w.id);
            if l.is_empty() {
                locations.remove(b);
            }
        }
    }
    w.blocks.clear();
}

/// Commands for a worker, returned by a heartbeat.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WorkerCommands {
    pub remove: Vec<i64>,
    pub protect: Vec<i64>,
    pub unprotect: Vec<i64>,
}

#[derive(Default)]
struct State {
    workers: BTreeMap<i64, WorkerRecord>,
    by_address: HashMap<String, i64>,
    locations: FxHashMap<i64, Vec<i64>>,
}

/// Worker registry and block locations.
pub struct BlockMaster {
    state: Mutex<State>,
    worker_timeout: Duration,
    /// `alluxio.master.worker.connect.wait.time`: how long after this master starts serving
    /// workers are still expected to register (safe mode).
    connect_wait: Duration,
    serving_since: Mutex<Option<Instant>>,
}

impl BlockMaster {
    pub fn new(worker_timeout: Duration, connect_wait: Duration) -> Self {
        BlockMaster {
            state: Mutex::new(State::default()),
            worker_timeout,
            connect_wait,
            serving_since: Mutex::new(None),
        }
    }

    /// This master starts serving clients: workers have `connect_wait` to register.
    pub fn start_serving(&self) {
        *self.serving_since.lock() = Some(Instant::now());
    }

    /// Safe mode: block locations may still be missing because workers have not registered yet
    /// (after a master start or failover), so "not cached anywhere" is not yet the truth.
    /// Clients wait instead of failing.
    pub fn in_safe_mode(&self) -> bool {
        self.serving_since.lock().is_none_or(|t| t.elapsed() < self.connect_wait)
    }

    /// The id of the worker at `address`: its old id if it was seen before, else a new one.
    pub fn worker_id_for(&self, address: &WorkerNetAddress) -> i64 {
        let mut s = self.state.lock();
        let key = address_key(address);
        if let Some(id) = s.by_address.get(&key) {
            return *id;
        }
        let mut id: i64 = rand::random::<i64>().abs().max(1);
        while s.workers.contains_key(&id) {
            id = rand::random::<i64>().abs().max(1);
        }
        s.by_address.insert(key, id);
        s.workers.insert(
            id,
            WorkerRecord {
                id,
                address: address.clone(),
                capacity: BTreeMap::new(),
                used: BTreeMap::new(),
                blocks: FxHashMap::default(),
                pending_remove: FxHashSet::default(),
                pending_protect: FxHashSet::default(),
                pending_unprotect: FxHashSet::default(),
                last_contact: Instant::now(),
                start_time_ms: alluxio_common::now_ms(),
                registered: false,
                lost: false,
                decommissioned: false,
                version: String::new(),
            },
        );
        id
    }

    /// Records a worker's full report. `blocks` are (tier, ids) the caller already checked
    /// against the namespace; unknown ids were filtered out and are deleted by the worker.
    pub fn register(
        &self,
        id: i64,
        address: WorkerNetAddress,
        capacity: BTreeMap<String, i64>,
        used: BTreeMap<String, i64>,
        blocks: Vec<(String, Vec<i64>)>,
        version: String,
    ) -> bool {
        let mut s = self.state.lock();
        let State { workers, locations, .. } = &mut *s;
        let Some(w) = workers.get_mut(&id) else {
            return false;
        };
        // Drop whatever this worker reported before: the new report is the truth.
        for b in w.blocks.keys() {
            if let Some(l) = locations.get_mut(b) {
                l.retain(|x| *x != id);
                if l.is_empty() {
                    locations.remove(b);
                }
            }
        }
        w.blocks.clear();
        for (tier, ids) in blocks {
            for b in ids {
                w.blocks.insert(b, tier.clone());
                locations.entry(b).or_default().push(id);
            }
        }
        w.address = address;
        w.capacity = capacity;
        w.used = used;
        w.registered = true;
        w.lost = false;
        w.last_contact = Instant::now();
        w.start_time_ms = alluxio_common::now_ms();
        w.version = version;
        w.pending_remove.clear();
        true
    }

    /// A heartbeat: usage and block changes. `None` when the worker must register again.
    pub fn heartbeat(
        &self,
        id: i64,
        used: BTreeMap<String, i64>,
        added: Vec<(String, Vec<i64>)>,
        removed: &[i64],
    ) -> Option<WorkerCommands> {
        let mut s = self.state.lock();
        let State { workers, locations, .. } = &mut *s;
        let w = workers.get_mut(&id)?;
        if !w.registered || w.lost {
            return None;
        }
        w.last_contact = Instant::now();
        w.used = used;
        for b in removed {
            w.blocks.remove(b);
            w.pending_remove.remove(b);
            if let Some(l) = locations.get_mut(b) {
                l.retain(|x| *x != id);
                if l.is_empty() {
                    locations.remove(b);
                }
            }
        }
        for (tier, ids) in added {
            for b in ids {
                if w.blocks.insert(b, tier.clone()).is_none() {
                    locations.entry(b).or_default().push(id);
                }
            }
        }
        Some(WorkerCommands {
            remove: w.pending_remove.iter().copied().collect(),
            protect: w.pending_protect.drain().collect(),
            unprotect: w.pending_unprotect.drain().collect(),
        })
    }

    /// A block written to a worker. False when the worker is not registered (it restarted and
    /// has not registered yet): it must report the block again once it has.
    pub fn commit(&self, worker: i64, block: i64, tier: &str, used_on_tier: i64) -> bool {
        let mut s = self.state.lock();
        let State { workers, locations, .. } = &mut *s;
        let Some(w) = workers.get_mut(&worker).filter(|w| w.registered && !w.lost) else {
            return false;
        };
        if w.blocks.insert(block, tier.to_owned()).is_none() {
            locations.entry(block).or_default().push(worker);
        }
        w.used.insert(tier.to_owned(), used_on_tier);
        w.last_contact = Instant::now();
        true
    }

    /// Removes blocks from every worker holding them (file deleted or freed).
    pub fn remove_blocks(&self, blocks: &[i64]) {
        let mut s = self.state.lock();
        let State { workers, locations, .. } = &mut *s;
        for b in blocks {
            if let Some(ws) = locations.remove(b) {
                for w in ws {
                    if let Some(rec) = workers.get_mut(&w) {
                        rec.blocks.remove(b);
                        rec.pending_remove.insert(*b);
                    }
                }
            }
        }
    }

    /// Removes one worker's copy of a block (replication above its maximum).
    pub fn remove_block_from(&self, worker: i64, block: i64) {
        let mut s = self.state.lock();
        let State { workers, locations, .. } = &mut *s;
        if let Some(l) = locations.get_mut(&block) {
            l.retain(|w| *w != worker);
            if l.is_empty() {
                locations.remove(&block);
            }
        }
        if let Some(rec) = workers.get_mut(&worker) {
            rec.blocks.remove(&block);
            rec.pending_remove.insert(block);
        }
    }

    /// Removes every cached block of a file (one that was never completed).
    pub fn remove_blocks_of_file(&self, file_id: i64) {
        let blocks: Vec<i64> = {
            let s = self.state.lock();
            s.locations.keys().filter(|b| alluxio_common::id::file_id_of_block(**b) == file_id).copied().collect()
        };
        self.remove_blocks(&blocks);
    }

    /// Tells the workers holding `blocks` to (not) protect them from eviction.
    pub fn set_protected(&self, blocks: &[i64], protect: bool) {
        let mut s = self.state.lock();
        let State { workers, locations, .. } = &mut *s;
        for b in blocks {
            for w in locations.get(b).into_iter().flatten() {
                if let Some(rec) = workers.get_mut(w) {
                    if protect {
                        rec.pending_unprotect.remove(b);
                        rec.pending_protect.insert(*b);
                    } else {
                        rec.pending_protect.remove(b);
                        rec.pending_unprotect.insert(*b);
                    }
                }
            }
        }
    }

    /// Where a block is cached: (worker id, address, tier).
    pub fn locations(&self, block: i64) -> Vec<(i64, WorkerNetAddress, String)> {
        let s = self.state.lock();
        s.locations
            .get(&block)
            .into_iter()
            .flatten()
            .filter_map(|w| s.workers.get(w))
            .filter(|w| !w.lost)
            .map(|w| (w.id, w.address.clone(), w.blocks.get(&block).cloned().unwrap_or_default()))
            .collect()
    }

    /// For each block, whether it is cached anywhere and whether in MEM.
    pub fn cached(&self, blocks: &[i64]) -> Vec<(bool, bool)> {
        let s = self.state.lock();
        blocks
            .iter()
            .map(|b| match s.locations.get(b) {
                None => (false, false),
                Some(ws) => {
                    let mem =
                        ws.iter().any(|w| s.workers.get(w).and_then(|r| r.blocks.get(b)).is_some_and(|t| t == "MEM"));
                    (!ws.is_empty(), mem)
                }
            })
            .collect()
    }

    /// Marks workers silent for longer than the timeout as lost and forgets their blocks.
    pub fn detect_lost_workers(&self) -> Vec<WorkerNetAddress> {
        let mut s = self.state.lock();
        let State { workers, locations, .. } = &mut *s;
        let mut lost = Vec::new();
        for w in workers.values_mut() {
            if w.registered && !w.lost && w.last_contact.elapsed() > self.worker_timeout {
                lose(w, locations);
                lost.push(w.address.clone());
            }
        }
        lost
    }

    /// A worker that said it is stopping: lost at once (no data goes there, its copies are not
    /// offered to readers); it registers again when it comes back. Returns its address.
    pub fn mark_lost(&self, id: i64) -> Option<WorkerNetAddress> {
        let mut s = self.state.lock();
        let State { workers, locations, .. } = &mut *s;
        let w = workers.get_mut(&id).filter(|w| w.registered && !w.lost)?;
        lose(w, locations);
        Some(w.address.clone())
    }

    /// Marks workers (by `host:port`) decommissioned; returns the addresses it does not know.
    pub fn decommission(&self, addresses: &[String]) -> Vec<String> {
        let mut s = self.state.lock();
        let mut unknown = Vec::new();
        for a in addresses {
            match s.workers.values_mut().find(|w| format!("{}:{}", w.address.host, w.address.rpc_port) == *a) {
                Some(w) => w.decommissioned = true,
                None => unknown.push(a.clone()),
            }
        }
        unknown
    }

    /// Blocks held by decommissioned workers: (block, holder address, other live non-decommissioned holders).
    pub fn decommissioned_blocks(&self) -> Vec<(i64, WorkerNetAddress, usize)> {
        let s = self.state.lock();
        let mut out = Vec::new();
        for w in s.workers.values().filter(|w| w.decommissioned && !w.lost) {
            for b in w.blocks.keys() {
                let others = s
                    .locations
                    .get(b)
                    .map(|l| {
                        l.iter().filter(|id| s.workers.get(id).is_some_and(|o| !o.decommissioned && !o.lost)).count()
                    })
                    .unwrap_or(0);
                out.push((*b, w.address.clone(), others));
            }
        }
        out
    }

    /// Live workers (registered, not lost) with their records.
    pub fn live_workers(&self) -> Vec<WorkerRecord> {
        self.state.lock().workers.values().filter(|w| w.registered && !w.lost).cloned().collect()
    }

    /// The address of a live worker by id.
    pub fn worker_address(&self, id: i64) -> Option<WorkerNetAddress> {
        self.state.lock().workers.get(&id).filter(|w| !w.lost).map(|w| w.address.clone())
    }

    /// Worker reports for `fsadmin report capacity`.
    pub fn worker_infos(&self, include_lost: bool) -> Vec<WorkerInfo> {
        let s = self.state.lock();
        s.workers
            .values()
            .filter(|w| w.registered && (include_lost || !w.lost))
            .map(|w| WorkerInfo {
                id: w.id,
                address: Some(w.address.clone()),
                last_contact_sec: w.last_contact.elapsed().as_secs() as i32,
                state: if w.lost {
                    "Lost".into()
                } else if w.decommissioned {
                    "Decommissioned".into()
                } else {
                    "In Service".into()
                },
                capacity_bytes: w.capacity.values().sum(),
                used_bytes: w.used.values().sum(),
                start_time_ms: w.start_time_ms,
                capacity_bytes_on_tiers: w.capacity.clone().into_iter().collect(),
                used_bytes_on_tiers: w.used.clone().into_iter().collect(),
                block_count: w.blocks.len() as i64,
                version: w.version.clone(),
            })
            .collect()
    }

    /// Cluster capacity for `fsadmin report`.
    pub fn info(&self) -> BlockMasterInfo {
        let s = self.state.lock();
        let mut info = BlockMasterInfo::default();
        for w in s.workers.values().filter(|w| w.registered) {
            if w.lost {
                info.lost_worker_num += 1;
                continue;
            }
            info.live_worker_num += 1;
            for (t, c) in &w.capacity {
                info.capacity_bytes += c;
                *info.capacity_bytes_on_tiers.entry(t.clone()).or_default() += c;
            }
            for (t, u) in &w.used {
                info.used_bytes += u;
                *info.used_bytes_on_tiers.entry(t.clone()).or_default() += u;
            }
        }
        info.free_bytes = info.capacity_bytes - info.used_bytes;
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(port: i32) -> WorkerNetAddress {
        WorkerNetAddress { host: "w".into(), rpc_port: port, ..Default::default() }
    }

    #[test]
    fn a_commit_from_an_unregistered_or_lost_worker_is_refused_so_it_reports_again() {
        let b = BlockMaster::new(Duration::from_secs(300), Duration::from_secs(5));
        let id = b.worker_id_for(&address(1));
        // A restarted worker that has an id but has not registered yet.
        assert!(!b.commit(id, 7, "MEM", 1));
        assert!(b.locations(7).is_empty());
        assert!(b.register(id, address(1), BTreeMap::new(), BTreeMap::new(), vec![], String::new()));
        assert!(b.commit(id, 7, "MEM", 1));
        assert_eq!(b.locations(7).len(), 1);
        // A stopping worker is lost at once: no commit lands there, its blocks are not offered.
        assert!(b.mark_lost(id).is_some());
        assert!(b.locations(7).is_empty() && !b.commit(id, 8, "MEM", 1));
        assert!(b.in_safe_mode(), "safe mode until the master serves");
        b.start_serving();
        assert!(b.in_safe_mode());
    }
}
