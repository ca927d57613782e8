//! The Raft log handed to openraft: the files of [`segments`](super::segments), a writer
//! thread, and the entries not yet durable.
//!
//! Every append is fsynced before Raft is told the entries are durable; the writer thread
//! writes whatever queued meanwhile in one `write` + `fdatasync` (group commit across RPCs).
//! The commit index is not saved: it is a hint that a restarted member re-learns from the
//! leader, and saving it cost a write per batch on every follower.

// openraft's `StorageError` is the error type its storage traits demand; boxing it here would
// only add an allocation to every error path.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openraft::storage::{LogFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::{AnyError, LogId, StorageError, StorageIOError, Vote};
use parking_lot::Mutex;

use super::segments::{self, Segments};
use super::TypeConfig;
use crate::JournalError;

type Entry = openraft::Entry<TypeConfig>;
type Err = StorageError<u64>;

fn write_err(e: impl std::fmt::Display) -> Err {
    StorageIOError::write_logs(AnyError::error(e.to_string())).into()
}
fn read_err(e: impl std::fmt::Display) -> Err {
    StorageIOError::read_logs(AnyError::error(e.to_string())).into()
}

/// The log store handed to openraft; cheap to clone.
///
/// Appends return at once: a writer thread writes whatever queued meanwhile with one fsync
/// and only then tells openraft the entries are durable. Until then they are read from
/// `recent`, which also keeps the newest durable entries: replication reads each entry
/// right after it is written, and a trip to a blocking thread for it cost the leader more
/// than the read.
#[derive(Clone)]
pub struct LogStore {
    /// Held by the writer thread through each write and fsync: async code never locks it.
    segments: Arc<Mutex<Segments>>,
    /// The log directory (vote file), outside the lock for that reason.
    dir: Arc<PathBuf>,
    recent: Arc<Mutex<Recent>>,
    writer: std::sync::mpsc::Sender<Write>,
}

/// The newest entries in memory: every entry not yet durable, plus durable ones up to a bound.
#[derive(Default)]
struct Recent {
    entries: BTreeMap<u64, Entry>,
    bytes: usize,
}

impl Recent {
    const MAX_ENTRIES: usize = 1024;
    const MAX_BYTES: usize = 32 << 20;

    fn size(e: &Entry) -> usize {
        match &e.payload {
            openraft::EntryPayload::Normal(b) => b.0.len() + 64,
            _ => 256,
        }
    }

    fn insert(&mut self, e: Entry) {
        self.bytes += Self::size(&e);
        if let Some(old) = self.entries.insert(e.log_id.index, e) {
            self.bytes -= Self::size(&old);
        }
    }

    /// Marks entries up to `index` durable and drops the oldest durable ones over the bounds.
    fn durable(&mut self, index: u64) {
        while self.entries.len() > Self::MAX_ENTRIES || self.bytes > Self::MAX_BYTES {
            match self.entries.first_key_value() {
                Some((&i, _)) if i <= index => {
                    let (_, e) = self.entries.pop_first().expect("just seen");
                    self.bytes -= Self::size(&e);
                }
                _ => break,
            }
        }
    }

    fn retain(&mut self, keep: impl Fn(u64) -> bool) {
        self.entries.retain(|i, _| keep(*i));
        self.bytes = self.entries.values().map(Self::size).sum();
    }
}

/// Work for the writer thread, done in order.
enum Write {
    Append(Vec<Entry>, LogFlushed<TypeConfig>),
    /// Deletes entries from this index on, after every earlier append.
    Truncate(u64, tokio::sync::oneshot::Sender<Result<(), Err>>),
    /// Records a purge point and deletes what it covers, after every earlier append.
    Purge(LogId<u64>, tokio::sync::oneshot::Sender<Result<(), Err>>),
}

impl LogStore {
    /// Opens (or creates) the log in `dir` and starts its writer thread. Blocking.
    pub fn open(dir: &Path) -> Result<Self, JournalError> {
        let old = dir.parent().map(|p| p.join("log.redb"));
        if let Some(old) = old.filter(|o| o.exists()) {
            // An earlier alluxio-rs build kept the Raft log in one redb file.
            let writer = format!("an earlier alluxio-rs build (its Raft log {})", old.display());
            return Err(JournalError::Foreign { folder: dir.to_path_buf(), writer });
        }
        let segments = Segments::open(dir)?;
        let (writer, rx) = std::sync::mpsc::channel();
        let store = LogStore {
            segments: Arc::new(Mutex::new(segments)),
            dir: Arc::new(dir.to_path_buf()),
            recent: Arc::default(),
            writer,
        };
        let s = store.clone();
        std::thread::Builder::new()
            .name("raft-log-writer".into())
            .spawn(move || s.write_loop(rx))
            .map_err(crate::error::io("start a writer thread for", dir))?;
        Ok(store)
    }

    fn write_loop(self, rx: std::sync::mpsc::Receiver<Write>) {
        while let Ok(first) = rx.recv() {
            let mut appends = Vec::new();
            let mut next = Some(first);
            while let Some(w) = next.take().or_else(|| rx.try_recv().ok()) {
                match w {
                    Write::Append(v, cb) => appends.push((v, cb)),
                    Write::Truncate(since, done) => {
                        self.flush(&mut appends);
                        let _ = done.send(self.segments.lock().truncate(since).map_err(write_err));
                    }
                    Write::Purge(upto, done) => {
                        self.flush(&mut appends);
                        let _ = done.send(self.segments.lock().purge(upto).map_err(write_err));
                    }
                }
            }
            self.flush(&mut appends);
        }
    }

    /// Writes queued appends with one fsync, then reports them durable.
    fn flush(&self, appends: &mut Vec<(Vec<Entry>, LogFlushed<TypeConfig>)>) {
        let Some(first) = appends.iter().flat_map(|(v, _)| v.first()).next().map(|e| e.log_id.index) else {
            for (_, cb) in appends.drain(..) {
                cb.log_io_completed(Ok(()));
            }
            return;
        };
        let r = (|| {
            let (mut records, mut sizes, mut last) = (Vec::new(), Vec::new(), None);
            for e in appends.iter().flat_map(|(v, _)| v) {
                let before = records.len();
                segments::encode_record(e, &mut records)?;
                sizes.push((records.len() - before) as u64);
                last = Some(e.log_id);
            }
            let last = last.expect("at least one entry");
            // Only this thread changes the segments; readers wait for the lock meanwhile,
            // which is fine: they want the entries being written anyway.
            self.segments.lock().append(first, &records, &sizes, last)
        })();
        if r.is_ok() {
            if let Some(last) = appends.iter().flat_map(|(v, _)| v.last()).last() {
                self.recent.lock().durable(last.log_id.index);
            }
        }
        for (_, cb) in appends.drain(..) {
            cb.log_io_completed(r.as_ref().map(|_| ()).map_err(|e| std::io::Error::other(e.to_string())));
        }
    }

    /// The entries in a bounded `range` if every one of them is in `recent`.
    fn recent_range(&self, range: impl RangeBounds<u64>) -> Option<Vec<Entry>> {
        let (start, end) = bounds(&range);
        let end = end?;
        if end <= start {
            return Some(Vec::new());
        }
        let r = self.recent.lock();
        let found: Vec<Entry> = r.entries.range(start..end).map(|(_, e)| e.clone()).collect();
        (found.len() as u64 == end - start).then_some(found)
    }

    /// Blocking: the entries in `range`, in order.
    fn read_range(&self, range: impl RangeBounds<u64>) -> Result<Vec<Entry>, Err> {
        let (start, end) = bounds(&range);
        if end.is_some_and(|e| e <= start) {
            return Ok(Vec::new());
        }
        // Memory first: an entry leaves it only after it is on disk, so it is in one or the other.
        let mut found: BTreeMap<u64, Entry> = {
            let r = self.recent.lock();
            match end {
                Some(e) => r.entries.range(start..e).map(|(k, v)| (*k, v.clone())).collect(),
                None => r.entries.range(start..).map(|(k, v)| (*k, v.clone())).collect(),
            }
        };
        let places: Vec<_> = {
            let s = self.segments.lock();
            let stop = end.unwrap_or(u64::MAX).min(s.list.last().map(|l| l.end()).unwrap_or(0));
            (start..stop).filter(|i| !found.contains_key(i)).filter_map(|i| s.locate(i).map(|p| (i, p))).collect()
        };
        for (i, (file, at, len)) in places {
            found.insert(i, segments::read_at(&file, at, len).map_err(read_err)?);
        }
        Ok(found.into_values().collect())
    }
}

impl LogStore {
    /// Sends `w` (built around a reply channel) to the writer thread and waits for its reply.
    async fn ask(&self, w: impl FnOnce(tokio::sync::oneshot::Sender<Result<(), Err>>) -> Write) -> Result<(), Err> {
        let (done, rx) = tokio::sync::oneshot::channel();
        self.writer.send(w(done)).map_err(|_| write_err("the Raft log writer stopped"))?;
        rx.await.map_err(|_| write_err("the Raft log writer stopped"))?
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
        if let Some(found) = self.recent_range(r) {
            return Ok(found);
        }
        let s = self.clone();
        blocking(move || s.read_range(r)).await
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, Err> {
        let s = self.segments.clone();
        let (purged, last) = blocking(move || {
            let s = s.lock();
            Ok((s.purged, s.last))
        })
        .await?;
        let pending = self.recent.lock().entries.last_key_value().map(|(_, e)| e.log_id);
        Ok(LogState { last_purged_log_id: purged, last_log_id: pending.or(last).or(purged) })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<u64>) -> Result<(), Err> {
        let (dir, v) = (self.dir.clone(), *vote);
        blocking(move || segments::save_vote(&dir, &v).map_err(write_err))
            .await
            .map_err(|e| StorageIOError::write_vote(AnyError::error(e.to_string())).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<u64>>, Err> {
        let dir = self.dir.clone();
        blocking(move || segments::read_vote(&dir).map_err(read_err)).await
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), Err>
    where
        I: IntoIterator<Item = Entry> + Send,
        I::IntoIter: Send,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        {
            let mut r = self.recent.lock();
            for e in &entries {
                r.insert(e.clone());
            }
        }
        self.writer.send(Write::Append(entries, callback)).map_err(|_| write_err("the Raft log writer stopped"))
    }

    async fn truncate(&mut self, log_id: LogId<u64>) -> Result<(), Err> {
        tracing::info!("Raft log: dropping entries from index {} (conflict with the leader)", log_id.index);
        let r = self.ask(|done| Write::Truncate(log_id.index, done)).await;
        self.recent.lock().retain(|i| i < log_id.index);
        r
    }

    async fn purge(&mut self, log_id: LogId<u64>) -> Result<(), Err> {
        let r = self.ask(|done| Write::Purge(log_id, done)).await;
        self.recent.lock().retain(|i| i > log_id.index);
        r
    }
}
