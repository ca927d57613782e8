//! The master's journal: the write-ahead log of every metadata change, its checkpoints,
//! and the backup format.
//!
//! The master applies a change to its in-memory state and, in the same critical section,
//! hands the resulting entries to [`Journal::append`], which fixes their order; it answers
//! the client only after the returned [`Ticket`] resolves, i.e. after the entries are durable.
//! Start-up replays the newest checkpoint and the log after it through the same apply code.
//!
//! **Architecture invariant:** the journal knows nothing of inodes or mounts; it moves
//! opaque `JournalEntry` messages. The master owns their meaning.

pub mod backup;
pub mod checkpoint;
pub mod error;
pub mod format;
pub mod frame;
pub mod layout;
pub mod raft;
pub mod recovery;
pub mod repair;
pub mod writer;

use alluxio_proto::journal::JournalEntry;
use tokio::sync::oneshot;

pub use error::JournalError;
pub use layout::Layout;
pub use recovery::{recover, Origin, Recovered};
pub use writer::{LocalJournal, WriterOptions};

/// A log of metadata changes. Implementations: [`LocalJournal`] (UFS journal on a local
/// folder), [`raft::RaftJournal`] (the embedded journal), [`NoopJournal`].
pub trait Journal: Send + Sync + 'static {
    /// Assigns sequence numbers to `entries` and queues them to be made durable. Callers
    /// call it in the order they applied the entries (under their state lock) and must not
    /// acknowledge the change before the ticket resolves.
    fn append(&self, entries: Vec<JournalEntry>) -> Ticket;
    /// The sequence number the next entry will get.
    fn next_sequence(&self) -> i64;
    /// `alluxio.master.journal.type` of this journal.
    fn kind(&self) -> &'static str;
}

/// Resolves when appended entries are durable (or failed to be).
pub struct Ticket(TicketInner);

enum TicketInner {
    Ready(Option<Result<(), JournalError>>),
    Pending(oneshot::Receiver<Result<(), JournalError>>),
}

impl Ticket {
    pub fn ready(r: Result<(), JournalError>) -> Self {
        Ticket(TicketInner::Ready(Some(r)))
    }
    pub(crate) fn pending(rx: oneshot::Receiver<Result<(), JournalError>>) -> Self {
        Ticket(TicketInner::Pending(rx))
    }

    /// Waits until the entries are durable.
    pub async fn wait(self) -> Result<(), JournalError> {
        match self.0 {
            TicketInner::Ready(r) => r.unwrap_or(Ok(())),
            TicketInner::Pending(rx) => rx.await.unwrap_or(Err(JournalError::Closed)),
        }
    }
}

/// A journal that keeps nothing (`alluxio.master.journal.type=NOOP`): metadata is lost at
/// restart. For tests and throw-away clusters.
#[derive(Default)]
pub struct NoopJournal {
    next: std::sync::atomic::AtomicI64,
}

impl Journal for NoopJournal {
    fn append(&self, entries: Vec<JournalEntry>) -> Ticket {
        self.next.fetch_add(entries.len() as i64, std::sync::atomic::Ordering::SeqCst);
        Ticket::ready(Ok(()))
    }
    fn next_sequence(&self) -> i64 {
        self.next.load(std::sync::atomic::Ordering::SeqCst)
    }
    fn kind(&self) -> &'static str {
        "NOOP"
    }
}
