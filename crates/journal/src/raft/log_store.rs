//! The Raft log on disk: one redb database in `<journal folder>/raft/log.redb`.
//!
//! redb gives crash-safe transactions (a torn commit is rolled back at open), so the log
//! never holds half an entry; every `append` and `save_vote` commits with fsync before
//! Raft is told the entries are durable. The commit index is only a hint for the next start
//! (losing it means re-learning it from the leader), so it rides along in the writer's next
//! append instead of costing a transaction of its own.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::sync::Arc;

use openraft::storage::{LogFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::{AnyError, LogId, StorageError, StorageIOError, Vote};
use parking_lot::Mutex;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::TypeConfig;

const LOGS: TableDefinition<u64, &[u8]> = TableDefinition::new("logs");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

type Entry = openraft::Entry<TypeConfig>;
type Err = StorageError<u64>;

fn write_err(e: impl std::fmt::Display) -> Err {
    StorageIOError::write_logs(AnyError::error(e.to_string())).into()
}
fn read_err(e: impl std::fmt::Display) -> Err {
    StorageIOError::read_logs(AnyError::error(e.to_string())).into()
}

/// The log store handed to openraft; cheap to clone (readers share the database).
///
/// Appends return at once: a writer thread commits whatever queued meanwhile in one
/// transaction (one fsync for many entries: group commit across RPCs) and only then tells
/// openraft the entries are durable. Until committed, entries are read from `unflushed`.
#[derive(Clone)]
pub struct LogStore {
    db: Arc<Database>,
    unflushed: Arc<Mutex<BTreeMap<u64, Entry>>>,
    writer: std::sync::mpsc::Sender<Write>,
}

/// Encoded entries (index, bytes) and whom to tell once they are durable.
type QueuedAppend = (Vec<(u64, Vec<u8>)>, LogFlushed<TypeConfig>);

/// Work for the writer thread, done in order.
enum Write {
    Append(Vec<(u64, Vec<u8>)>, LogFlushed<TypeConfig>),
    /// Deletes `[from, to)` (and records a purge point) after every earlier append.
    Delete(u64, Option<u64>, Option<LogId<u64>>, tokio::sync::oneshot::Sender<Result<(), Err>>),
    /// The commit index, saved with the next transaction. Every entry it covers was appended
    /// before it was queued, so it never lands in the file ahead of the entries.
    Committed(Option<LogId<u64>>),
}

impl LogStore {
    /// Opens (or creates) the log database and starts its writer thread.
    pub fn open(path: &Path) -> Result<Self, String> {
        let db = Database::create(path).map_err(|e| format!("cannot open the Raft log {}: {e}", path.display()))?;
        let tx = db.begin_write().map_err(|e| e.to_string())?;
        tx.open_table(LOGS).map_err(|e| e.to_string())?;
        tx.open_table(META).map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
        let (writer, rx) = std::sync::mpsc::channel();
        let store = LogStore { db: Arc::new(db), unflushed: Arc::default(), writer };
        let s = store.clone();
        std::thread::Builder::new()
            .name("raft-log-writer".into())
            .spawn(move || s.write_loop(rx))
            .map_err(|e| format!("cannot start the Raft log writer: {e}"))?;
        Ok(store)
    }

    fn write_loop(self, rx: std::sync::mpsc::Receiver<Write>) {
        // Held until the next append's transaction: written on its own it would cost a whole
        // redb commit per batch on every follower, for a value that is only a hint.
        let mut committed = None;
        while let Ok(first) = rx.recv() {
            let mut appends = Vec::new();
            let mut next = Some(first);
            while let Some(w) = next.take().or_else(|| rx.try_recv().ok()) {
                match w {
                    Write::Append(v, cb) => appends.push((v, cb)),
                    Write::Committed(c) => committed = Some(c),
                    Write::Delete(from, to, purged, done) => {
                        self.flush(&mut appends, &mut committed);
                        let _ = done.send(self.delete_range(from, to, purged.as_ref()));
                    }
                }
            }
            self.flush(&mut appends, &mut committed);
        }
    }

    /// Commits queued appends, and the commit index if it moved, in one transaction, then
    /// reports the appends durable.
    fn flush(&self, appends: &mut Vec<QueuedAppend>, committed: &mut Option<Option<LogId<u64>>>) {
        if appends.is_empty() {
            return;
        }
        let committed = committed.take();
        let r = (|| {
            let tx = self.db.begin_write().map_err(write_err)?;
            {
                let mut t = tx.open_table(LOGS).map_err(write_err)?;
                for (v, _) in appends.iter() {
                    for (i, b) in v {
                        t.insert(*i, b.as_slice()).map_err(write_err)?;
                    }
                }
            }
            if let Some(c) = committed {
                let bytes = bincode::serialize(&c).map_err(write_err)?;
                tx.open_table(META).map_err(write_err)?.insert("committed", bytes.as_slice()).map_err(write_err)?;
            }
            tx.commit().map_err(write_err)
        })();
        if r.is_ok() {
            let mut u = self.unflushed.lock();
            for (v, _) in appends.iter() {
                for (i, _) in v {
                    u.remove(i);
                }
            }
        }
        for (_, cb) in appends.drain(..) {
            cb.log_io_completed(r.as_ref().map(|_| ()).map_err(|e| std::io::Error::other(e.to_string())));
        }
    }

    fn meta<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Err> {
        let tx = self.db.begin_read().map_err(read_err)?;
        let t = tx.open_table(META).map_err(read_err)?;
        match t.get(key).map_err(read_err)? {
            Some(v) => Ok(Some(bincode::deserialize(v.value()).map_err(read_err)?)),
            None => Ok(None),
        }
    }

    fn put_meta<T: serde::Serialize>(&self, key: &str, v: &T) -> Result<(), Err> {
        let bytes = bincode::serialize(v).map_err(write_err)?;
        let tx = self.db.begin_write().map_err(write_err)?;
        tx.open_table(META).map_err(write_err)?.insert(key, bytes.as_slice()).map_err(write_err)?;
        tx.commit().map_err(write_err)
    }

    fn last_entry(&self) -> Result<Option<Entry>, Err> {
        let tx = self.db.begin_read().map_err(read_err)?;
        let t = tx.open_table(LOGS).map_err(read_err)?;
        let last = match t.last().map_err(read_err)? {
            Some((_, v)) => Some(bincode::deserialize(v.value()).map_err(read_err)?),
            None => None,
        };
        Ok(last)
    }

    /// The entries in a bounded `range` if every one of them is still in `unflushed`.
    fn unflushed_range(&self, range: impl RangeBounds<u64>) -> Option<Vec<Entry>> {
        let (start, end) = bounds(&range);
        let end = end?;
        if end <= start {
            return Some(Vec::new());
        }
        let u = self.unflushed.lock();
        let found: Vec<Entry> = u.range(start..end).map(|(_, e)| e.clone()).collect();
        (found.len() as u64 == end - start).then_some(found)
    }

    /// Blocking: the entries in `range`, in order.
    fn read_range(&self, range: impl RangeBounds<u64>) -> Result<Vec<Entry>, Err> {
        let (start, end) = bounds(&range);
        if end.is_some_and(|e| e <= start) {
            return Ok(Vec::new());
        }
        // Unflushed first: an entry leaves it only after its commit, so it is in one or the other.
        let mut found: BTreeMap<u64, Entry> = {
            let u = self.unflushed.lock();
            match end {
                Some(e) => u.range(start..e).map(|(k, v)| (*k, v.clone())).collect(),
                None => u.range(start..).map(|(k, v)| (*k, v.clone())).collect(),
            }
        };
        let tx = self.db.begin_read().map_err(read_err)?;
        let t = tx.open_table(LOGS).map_err(read_err)?;
        let iter = match end {
            Some(e) => t.range(start..e).map_err(read_err)?,
            None => t.range(start..).map_err(read_err)?,
        };
        for item in iter {
            let (k, v) = item.map_err(read_err)?;
            if let std::collections::btree_map::Entry::Vacant(slot) = found.entry(k.value()) {
                slot.insert(bincode::deserialize(v.value()).map_err(read_err)?);
            }
        }
        Ok(found.into_values().collect())
    }

    /// Blocking: deletes `[from, to)` and records a purge point if given, in one durable commit.
    fn delete_range(&self, from: u64, to: Option<u64>, purged: Option<&LogId<u64>>) -> Result<(), Err> {
        let tx = self.db.begin_write().map_err(write_err)?;
        {
            let mut t = tx.open_table(LOGS).map_err(write_err)?;
            match to {
                Some(to) => t.retain_in(from..to, |_, _| false).map_err(write_err)?,
                None => t.retain_in(from.., |_, _| false).map_err(write_err)?,
            }
            if let Some(p) = purged {
                let bytes = bincode::serialize(p).map_err(write_err)?;
                tx.open_table(META).map_err(write_err)?.insert("purged", bytes.as_slice()).map_err(write_err)?;
            }
        }
        tx.commit().map_err(write_err)
    }
}

impl LogStore {
    /// Deletes `[from, to)` after every queued append is written.
    async fn delete(&self, from: u64, to: Option<u64>, purged: Option<LogId<u64>>) -> Result<(), Err> {
        let (done, rx) = tokio::sync::oneshot::channel();
        self.writer
            .send(Write::Delete(from, to, purged, done))
            .map_err(|_| write_err("the Raft log writer stopped"))?;
        let r = rx.await.map_err(|_| write_err("the Raft log writer stopped"))?;
        let mut u = self.unflushed.lock();
        u.retain(|i, _| *i < from || to.is_some_and(|t| *i >= t));
        r
    }
}

/// `range` as `[start, end)`; `end` is `None` when unbounded.
fn bounds(range: &impl RangeBounds<u64>) -> (u64, Option<u64>) {
    let start = match range.start_bound() {
        Bound::Included(s) => *s,
        Bound::Excluded(s) => s + 1,
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(e) => Some(e + 1),
        Bound::Excluded(e) => Some(*e),
        Bound::Unbounded => None,
    };
    (start, end)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, Err> + Send + 'static) -> Result<T, Err> {
    tokio::task::spawn_blocking(f).await.map_err(write_err)?
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, Err> {
        let r = (range.start_bound().cloned(), range.end_bound().cloned());
        // Replication asks for entries just appended: serve them from memory when all are there.
        if let Some(found) = self.unflushed_range(r) {
            return Ok(found);
        }
        let s = self.clone();
        blocking(move || s.read_range(r)).await
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, Err> {
        let s = self.clone();
        blocking(move || {
            let purged: Option<LogId<u64>> = s.meta("purged")?;
            let pending = s.unflushed.lock().last_key_value().map(|(_, e)| e.log_id);
            let last = pending.or(s.last_entry()?.map(|e| e.log_id)).or(purged);
            Ok(LogState { last_purged_log_id: purged, last_log_id: last })
        })
        .await
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<u64>) -> Result<(), Err> {
        let (s, v) = (self.clone(), *vote);
        blocking(move || s.put_meta("vote", &v))
            .await
            .map_err(|e| StorageIOError::write_vote(AnyError::error(e.to_string())).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<u64>>, Err> {
        let s = self.clone();
        blocking(move || s.meta("vote")).await
    }

    async fn save_committed(&mut self, committed: Option<LogId<u64>>) -> Result<(), Err> {
        self.writer.send(Write::Committed(committed)).map_err(|_| write_err("the Raft log writer stopped"))
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<u64>>, Err> {
        let s = self.clone();
        Ok(blocking(move || s.meta::<Option<LogId<u64>>>("committed")).await?.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), Err>
    where
        I: IntoIterator<Item = Entry> + Send,
        I::IntoIter: Send,
    {
        let mut encoded = Vec::new();
        {
            let mut u = self.unflushed.lock();
            for e in entries {
                encoded.push((e.log_id.index, bincode::serialize(&e).map_err(write_err)?));
                u.insert(e.log_id.index, e);
            }
        }
        self.writer.send(Write::Append(encoded, callback)).map_err(|_| write_err("the Raft log writer stopped"))
    }

    async fn truncate(&mut self, log_id: LogId<u64>) -> Result<(), Err> {
        tracing::info!("Raft log: dropping entries from index {} (conflict with the leader)", log_id.index);
        self.delete(log_id.index, None, None).await
    }

    async fn purge(&mut self, log_id: LogId<u64>) -> Result<(), Err> {
        self.delete(0, Some(log_id.index + 1), Some(log_id)).await
    }
}
