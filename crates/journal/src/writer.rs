//! The local journal's writer: one thread that appends records to the current segment and
//! makes them durable with group commit.
//!
//! Callers queue entries (in the order they applied them) and get a [`Ticket`]; the thread
//! takes everything queued, writes it with one `write`, calls `fdatasync` once, and only
//! then completes every ticket of the batch. A failed write or sync fails every later
//! append too: the in-memory state is ahead of the disk, and only a restart (replay) can
//! make them agree again.

use std::fs::{self, File};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;

use alluxio_proto::journal::JournalEntry;
use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::error::{io, JournalError};
use crate::format::{encode_header, encode_record, FileKind, HEADER_LEN};
use crate::layout::{range_name, sync_dir, Layout, IN_PROGRESS_END};
use crate::{Journal, Ticket};

enum Msg {
    Append(Vec<JournalEntry>, oneshot::Sender<Result<(), JournalError>>),
    /// Close the current segment and start a new one (after a checkpoint, so GC can drop it later).
    Rotate,
    Shutdown,
}

/// Options of the local journal writer.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// Rotate segments above this size (`alluxio.master.journal.log.size.bytes.max`).
    pub max_segment_bytes: u64,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions { max_segment_bytes: 10 << 20 }
    }
}

/// The UFS journal on a local folder (`alluxio.master.journal.type=UFS`).
pub struct LocalJournal {
    layout: Layout,
    tx: mpsc::Sender<Msg>,
    next: AtomicI64,
    failed: Arc<Mutex<Option<String>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

struct Segment {
    file: File,
    path: PathBuf,
    start: i64,
    next: i64,
    bytes: u64,
    /// Completed (renamed to its range): nothing more is written to it.
    sealed: bool,
}

impl Segment {
    fn create(layout: &Layout, start: i64) -> Result<Segment, JournalError> {
        let dir = layout.logs_dir();
        alluxio_common::private::create_dir_all(&dir).map_err(io("create", &dir))?;
        let path = dir.join(range_name(start, IN_PROGRESS_END));
        // The header is written and synced under a temporary name first, so a segment under
        // its real name always has one: a short segment is damage, never a crash.
        let tmp = dir.join(format!(".{}.tmp", range_name(start, IN_PROGRESS_END)));
        let mut file = alluxio_common::private::create_file(&tmp).map_err(io("create", &tmp))?;
        file.write_all(&encode_header(FileKind::Log, start)).map_err(io("write", &tmp))?;
        file.sync_all().map_err(io("sync", &tmp))?;
        fs::rename(&tmp, &path).map_err(io("rename", &tmp))?;
        sync_dir(&dir)?;
        Ok(Segment { file, path, start, next: start, bytes: HEADER_LEN as u64, sealed: false })
    }

    /// Renames the segment to its final range, or deletes it when it holds no entry (once).
    fn seal(&mut self) -> Result<(), JournalError> {
        if self.sealed {
            return Ok(());
        }
        let dir = self.path.parent().map(PathBuf::from).unwrap_or_default();
        if self.next == self.start {
            fs::remove_file(&self.path).map_err(io("delete", &self.path))?;
        } else {
            self.file.sync_all().map_err(io("sync", &self.path))?;
            let done = dir.join(range_name(self.start, self.next));
            fs::rename(&self.path, &done).map_err(io("rename", &self.path))?;
            self.path = done;
        }
        self.sealed = true;
        sync_dir(&dir)
    }

    fn finish(mut self) -> Result<(), JournalError> {
        self.seal()
    }

    /// Appends a batch's records and syncs them: once this returns, they are acknowledged.
    fn write(&mut self, batch: &Batch) -> Result<(), JournalError> {
        if batch.buf.is_empty() {
            return Ok(());
        }
        self.file.write_all(&batch.buf).and_then(|_| self.file.sync_data()).map_err(io("write", &self.path))?;
        self.bytes += batch.buf.len() as u64;
        if let Some(s) = batch.last_seq {
            self.next = s + 1;
        }
        Ok(())
    }

    /// Completes this segment, then starts the next. The old one is completed before the new
    /// one appears, so a crash in between never leaves two segments being written.
    fn rotate(&mut self, layout: &Layout) -> Result<(), JournalError> {
        self.seal()?;
        *self = Segment::create(layout, self.next)?;
        Ok(())
    }
}

impl LocalJournal {
    /// Starts writing after recovery: `next_sequence` is the first sequence number to assign.
    pub fn start(layout: Layout, next_sequence: i64, opts: WriterOptions) -> Result<Self, JournalError> {
        let segment = Segment::create(&layout, next_sequence)?;
        let (tx, rx) = mpsc::channel();
        let failed = Arc::new(Mutex::new(None));
        let f2 = failed.clone();
        let l2 = layout.clone();
        let thread = std::thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || run(l2, segment, rx, f2, opts))
            .map_err(io("spawn writer thread for", &layout.folder))?;
        Ok(LocalJournal { layout, tx, next: AtomicI64::new(next_sequence), failed, thread: Mutex::new(Some(thread)) })
    }

    /// The folder layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Asks the writer to start a new segment.
    pub fn rotate(&self) {
        let _ = self.tx.send(Msg::Rotate);
    }

    /// Flushes and closes the current segment, waiting for the writer to stop.
    pub fn close(&self) {
        let _ = self.tx.send(Msg::Shutdown);
        if let Some(t) = self.thread.lock().take() {
            let _ = t.join();
        }
    }
}

impl Drop for LocalJournal {
    fn drop(&mut self) {
        self.close();
    }
}

impl Journal for LocalJournal {
    fn append(&self, mut entries: Vec<JournalEntry>) -> Ticket {
        if let Some(why) = self.failed.lock().clone() {
            return Ticket::ready(Err(JournalError::WriterFailed(why)));
        }
        let n = entries.len() as i64;
        let first = self.next.fetch_add(n, Ordering::SeqCst);
        for (i, e) in entries.iter_mut().enumerate() {
            e.sequence_number = first + i as i64;
        }
        let (done, rx) = oneshot::channel();
        if self.tx.send(Msg::Append(entries, done)).is_err() {
            return Ticket::ready(Err(JournalError::Closed));
        }
        Ticket::pending(rx)
    }

    fn next_sequence(&self) -> i64 {
        self.next.load(Ordering::SeqCst)
    }

    fn kind(&self) -> &'static str {
        "UFS"
    }
}

fn run(
    layout: Layout,
    mut segment: Segment,
    rx: mpsc::Receiver<Msg>,
    failed: Arc<Mutex<Option<String>>>,
    opts: WriterOptions,
) {
    let mut batch = Batch::default();
    while !batch.shutdown {
        let Ok(first) = rx.recv() else { break };
        batch.gather(first, &rx);
        let failure = failed.lock().clone();
        let result = match failure {
            Some(why) => Err(why),
            None => segment.write(&batch).map_err(|e| e.to_string()),
        };
        if let Err(why) = &result {
            if failed.lock().is_none() {
                tracing::error!("journal write failed, no more metadata changes are accepted: {why}");
                *failed.lock() = Some(why.clone());
            }
        }
        batch.answer(result);
        if failed.lock().is_some() {
            continue;
        }
        let due = batch.rotate || segment.bytes >= opts.max_segment_bytes;
        if due && !batch.shutdown && segment.next > segment.start {
            if let Err(e) = segment.rotate(&layout) {
                tracing::error!("cannot rotate the journal segment: {e}");
                *failed.lock() = Some(e.to_string());
            }
        }
    }
    if failed.lock().is_none() {
        if let Err(e) = segment.finish() {
            tracing::error!("cannot complete journal segment at shutdown: {e}");
        }
    }
}

/// What one group commit writes: everything queued while the previous sync ran.
#[derive(Default)]
struct Batch {
    buf: Vec<u8>,
    waiters: Vec<oneshot::Sender<Result<(), JournalError>>>,
    last_seq: Option<i64>,
    rotate: bool,
    shutdown: bool,
}

impl Batch {
    /// Takes `first` and whatever else is queued, up to 64 MiB of records.
    fn gather(&mut self, first: Msg, rx: &mpsc::Receiver<Msg>) {
        self.rotate = false;
        self.last_seq = None;
        self.take(first);
        while let Ok(m) = rx.try_recv() {
            self.take(m);
            if self.buf.len() > (64 << 20) {
                break;
            }
        }
    }

    fn take(&mut self, m: Msg) {
        match m {
            Msg::Append(entries, done) => {
                for e in &entries {
                    encode_record(e, &mut self.buf);
                }
                if let Some(e) = entries.last() {
                    self.last_seq = Some(e.sequence_number);
                }
                self.waiters.push(done);
            }
            Msg::Rotate => self.rotate = true,
            Msg::Shutdown => self.shutdown = true,
        }
    }

    /// Tells every waiter how its append ended, and empties the batch.
    fn answer(&mut self, result: Result<(), String>) {
        for w in self.waiters.drain(..) {
            let _ = w.send(result.clone().map_err(JournalError::WriterFailed));
        }
        self.buf.clear();
    }
}
