//! The Raft log on disk: one redb database in `<journal folder>/raft/log.redb`.
//!
//! redb gives crash-safe transactions (a torn commit is rolled back at open), so the log
//! never holds half an entry; every `append` and `save_vote` commits with fsync before
//! Raft is told the entries are durable. The commit index is saved without fsync: losing
//! it only means re-learning it from the leader.

use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::sync::Arc;

use openraft::storage::{LogFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::{AnyError, LogId, StorageError, StorageIOError, Vote};
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};

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
#[derive(Clone)]
pub struct LogStore {
    db: Arc<Database>,
}

impl LogStore {
    /// Opens (or creates) the log database.
    pub fn open(path: &Path) -> Result<Self, String> {
        let db = Database::create(path).map_err(|e| format!("cannot open the Raft log {}: {e}", path.display()))?;
        let tx = db.begin_write().map_err(|e| e.to_string())?;
        tx.open_table(LOGS).map_err(|e| e.to_string())?;
        tx.open_table(META).map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
        Ok(LogStore { db: Arc::new(db) })
    }

    fn meta<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Err> {
        let tx = self.db.begin_read().map_err(read_err)?;
        let t = tx.open_table(META).map_err(read_err)?;
        match t.get(key).map_err(read_err)? {
            Some(v) => Ok(Some(bincode::deserialize(v.value()).map_err(read_err)?)),
            None => Ok(None),
        }
    }

    fn put_meta<T: serde::Serialize>(&self, key: &str, v: &T, durable: bool) -> Result<(), Err> {
        let bytes = bincode::serialize(v).map_err(write_err)?;
        let mut tx = self.db.begin_write().map_err(write_err)?;
        if !durable {
            tx.set_durability(Durability::None).map_err(write_err)?;
        }
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

    /// Blocking: the entries in `range`, in order.
    fn read_range(&self, range: impl RangeBounds<u64>) -> Result<Vec<Entry>, Err> {
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
        let tx = self.db.begin_read().map_err(read_err)?;
        let t = tx.open_table(LOGS).map_err(read_err)?;
        let mut out = Vec::new();
        let iter = match end {
            Some(e) if e <= start => return Ok(out),
            Some(e) => t.range(start..e).map_err(read_err)?,
            None => t.range(start..).map_err(read_err)?,
        };
        for item in iter {
            let (_, v) = item.map_err(read_err)?;
            out.push(bincode::deserialize(v.value()).map_err(read_err)?);
        }
        Ok(out)
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

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, Err> + Send + 'static) -> Result<T, Err> {
    tokio::task::spawn_blocking(f).await.map_err(write_err)?
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, Err> {
        let s = self.clone();
        let r = (range.start_bound().cloned(), range.end_bound().cloned());
        blocking(move || s.read_range(r)).await
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, Err> {
        let purged: Option<LogId<u64>> = self.meta("purged")?;
        let last = self.last_entry()?.map(|e| e.log_id).or(purged);
        Ok(LogState { last_purged_log_id: purged, last_log_id: last })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<u64>) -> Result<(), Err> {
        let (s, v) = (self.clone(), *vote);
        blocking(move || s.put_meta("vote", &v, true))
            .await
            .map_err(|e| StorageIOError::write_vote(AnyError::error(e.to_string())).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<u64>>, Err> {
        self.meta("vote")
    }

    async fn save_committed(&mut self, committed: Option<LogId<u64>>) -> Result<(), Err> {
        let s = self.clone();
        blocking(move || s.put_meta("committed", &committed, false)).await
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<u64>>, Err> {
        Ok(self.meta::<Option<LogId<u64>>>("committed")?.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), Err>
    where
        I: IntoIterator<Item = Entry> + Send,
        I::IntoIter: Send,
    {
        let mut encoded = Vec::new();
        for e in entries {
            encoded.push((e.log_id.index, bincode::serialize(&e).map_err(write_err)?));
        }
        let s = self.clone();
        let r = blocking(move || {
            let tx = s.db.begin_write().map_err(write_err)?;
            {
                let mut t = tx.open_table(LOGS).map_err(write_err)?;
                for (i, b) in &encoded {
                    t.insert(*i, b.as_slice()).map_err(write_err)?;
                }
            }
            tx.commit().map_err(write_err)
        })
        .await;
        match r {
            Ok(()) => {
                callback.log_io_completed(Ok(()));
                Ok(())
            }
            Err(e) => {
                callback.log_io_completed(Err(std::io::Error::other(e.to_string())));
                Err(e)
            }
        }
    }

    async fn truncate(&mut self, log_id: LogId<u64>) -> Result<(), Err> {
        tracing::info!("Raft log: dropping entries from index {} (conflict with the leader)", log_id.index);
        let s = self.clone();
        blocking(move || s.delete_range(log_id.index, None, None)).await
    }

    async fn purge(&mut self, log_id: LogId<u64>) -> Result<(), Err> {
        let s = self.clone();
        blocking(move || s.delete_range(0, Some(log_id.index + 1), Some(&log_id))).await
    }
}
