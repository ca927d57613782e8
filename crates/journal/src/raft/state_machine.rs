//! The Raft state machine: the master's namespace behind [`ReplicatedState`], plus the
//! newest snapshot (in memory and in `<raft dir>/snapshot`).
//!
//! Snapshot file: `ALXRSSNP` | u32 meta length | bincode `SnapshotMeta` | data | crc32c of
//! everything before it. The data is a journal file (format header, then framed
//! `JournalEntry` records), the same encoding as checkpoints.

use std::io::Cursor;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    AnyError, BasicNode, EntryPayload, LogId, RaftSnapshotBuilder, SnapshotMeta, StorageError, StorageIOError,
    StoredMembership,
};

use super::{Applied, Proposal, Shared, TypeConfig};
use crate::format::{self, FileKind};
use crate::JournalError;

type Err = StorageError<u64>;
const MAGIC: &[u8; 8] = b"ALXRSSNP";

fn sm_err(e: impl std::fmt::Display) -> Err {
    StorageIOError::write_state_machine(AnyError::error(e.to_string())).into()
}
fn snap_err(e: impl std::fmt::Display) -> Err {
    StorageIOError::write_snapshot(None, AnyError::error(e.to_string())).into()
}

/// Handed to openraft; all state is in [`Shared`].
#[derive(Clone)]
pub struct StateMachine {
    pub(crate) shared: Arc<Shared>,
}

/// Encodes a snapshot file.
pub fn encode_snapshot_file(meta: &SnapshotMeta<u64, BasicNode>, data: &[u8]) -> Result<Vec<u8>, JournalError> {
    let m = bincode::serialize(meta)
        .map_err(|e| JournalError::Encode { what: "the snapshot's metadata", reason: e.to_string() })?;
    let mut out = Vec::with_capacity(16 + m.len() + data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(m.len() as u32).to_le_bytes());
    out.extend_from_slice(&m);
    out.extend_from_slice(data);
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// Decodes the bytes of snapshot `file`; any damage is an error naming the file and what is
/// wrong.
pub fn decode_snapshot_file(
    file: &Path,
    bytes: &[u8],
) -> Result<(SnapshotMeta<u64, BasicNode>, Vec<u8>), JournalError> {
    let corrupt = |reason: String| JournalError::Corrupt { file: file.into(), offset: 0, reason };
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return Err(corrupt("not an alluxio-rs Raft snapshot (bad magic)".into()));
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    if crc32c::crc32c(body) != u32::from_le_bytes(crc.try_into().unwrap_or_default()) {
        return Err(corrupt("checksum mismatch".into()));
    }
    let mlen = u32::from_le_bytes(body[8..12].try_into().unwrap_or_default()) as usize;
    if 12 + mlen > body.len() {
        return Err(corrupt("metadata runs past the end".into()));
    }
    let meta = bincode::deserialize(&body[12..12 + mlen]).map_err(|e| corrupt(format!("bad metadata: {e}")))?;
    Ok((meta, body[12 + mlen..].to_vec()))
}

/// The journal entries held in snapshot data.
pub fn snapshot_entries(data: &[u8]) -> Result<Vec<alluxio_proto::journal::JournalEntry>, JournalError> {
    let file = Path::new("<raft snapshot>");
    format::decode_header(file, data)?;
    let mut out = Vec::new();
    if let Some(d) = format::read_records(file, data, |_, e| {
        out.push(e);
        Ok(())
    })? {
        return Err(JournalError::Corrupt { file: file.into(), offset: 0, reason: format!("{d:?}") });
    }
    Ok(out)
}

/// At start: loads `<raft dir>/snapshot` into the state, if there is one.
pub(crate) fn load_snapshot(shared: &Shared) -> Result<(), JournalError> {
    let path = shared.dir().join("snapshot");
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(JournalError::Io { op: "read", path, source: e }),
    };
    let (meta, data) = decode_snapshot_file(&path, &bytes)?;
    let entries = snapshot_entries(&data)?;
    let n = entries.len();
    install(shared, &meta, entries).map_err(|e| JournalError::Apply(e.to_string()))?;
    *shared.snapshot.lock() = Some((meta.clone(), data));
    tracing::info!("embedded journal: loaded snapshot {} ({n} entries) from {}", meta.snapshot_id, path.display());
    Ok(())
}

fn install(
    shared: &Shared,
    meta: &SnapshotMeta<u64, BasicNode>,
    entries: Vec<alluxio_proto::journal::JournalEntry>,
) -> Result<(), super::StateError> {
    shared.state.reset(entries, &mut || {
        *shared.applied.lock() = Applied { last: meta.last_log_id, membership: meta.last_membership.clone() };
    })
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachine {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, Err> {
        let shared = self.shared.clone();
        let started = Instant::now();
        // The namespace is copied under its read lock. A standby's namespace is its applied
        // state. The leader's runs ahead by the changes it queued but Raft has not committed
        // yet: a barrier after them (queued under the same lock, so exactly those) answers once
        // they are applied, with the index the copy then matches. The wait is outside the lock:
        // writers, and the commits they wait for, go on meanwhile.
        let (data, count, at, barrier) = tokio::task::spawn_blocking(move || {
            let mut data = format::encode_header(FileKind::Checkpoint, 0).to_vec();
            let (mut count, mut at, mut barrier) = (0u64, Applied::default(), None);
            shared
                .state
                .snapshot(
                    &mut || {
                        at = shared.applied.lock().clone();
                        if shared.own_from.load(Ordering::SeqCst) != u64::MAX {
                            let (tx, rx) = tokio::sync::oneshot::channel();
                            if shared.proposals.get().is_some_and(|q| q.send(Proposal::Barrier(tx)).is_ok()) {
                                barrier = Some(rx);
                            }
                        }
                    },
                    &mut |e| {
                        format::encode_record(&e, &mut data);
                        count += 1;
                        Ok(())
                    },
                )
                .map_err(snap_err)?;
            Ok::<_, Err>((data, count, at, barrier))
        })
        .await
        .map_err(snap_err)??;
        let at = match barrier {
            Some(rx) => match rx.await {
                Ok(Some(at)) => at,
                Ok(None) => {
                    return Err(snap_err("changes this master applied were not committed; no snapshot of them"))
                }
                Err(_) => return Err(snap_err("the journal stopped while a snapshot was taken")),
            },
            None => at,
        };
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || {
            let id = format!(
                "{}-{}-{}",
                at.last.map(|l| l.leader_id.term).unwrap_or(0),
                at.last.map(|l| l.index).unwrap_or(0),
                alluxio_common::now_ms()
            );
            let meta = SnapshotMeta { last_log_id: at.last, last_membership: at.membership, snapshot_id: id };
            let file = encode_snapshot_file(&meta, &data).map_err(snap_err)?;
            alluxio_common::private::write_atomically(&shared.dir(), "snapshot", &file).map_err(snap_err)?;
            tracing::info!(
                "embedded journal snapshot {} of {count} entries written in {} ms",
                meta.snapshot_id,
                started.elapsed().as_millis()
            );
            *shared.snapshot.lock() = Some((meta.clone(), data.clone()));
            Ok(Snapshot { meta, snapshot: Box::new(Cursor::new(data)) })
        })
        .await
        .map_err(snap_err)?
    }
}

/// Committed batches up to this size are applied without leaving the state machine's task.
const INLINE_APPLY_BYTES: usize = 256 << 10;

/// Applies one committed entry. With `inline`, a batch for the namespace is applied only if
/// its lock is free at once; otherwise the entry comes back, to be applied on a blocking thread.
fn apply_entry(
    shared: &Shared,
    e: openraft::Entry<TypeConfig>,
    inline: bool,
) -> Result<Option<openraft::Entry<TypeConfig>>, Err> {
    let own_from = shared.own_from.load(Ordering::SeqCst);
    match &e.payload {
        EntryPayload::Normal(batch) if e.log_id.index < own_from => {
            let je = batch.decode().map_err(sm_err)?;
            let mut applied = || shared.applied.lock().last = Some(e.log_id);
            let r = if inline {
                match shared.state.try_apply(&je, &mut applied) {
                    Some(r) => r,
                    None => return Ok(Some(e)),
                }
            } else {
                shared.state.apply(&je, &mut applied)
            };
            r.map_err(|why| sm_err(format!("journal index {} cannot be applied: {why}", e.log_id.index)))?;
        }
        EntryPayload::Membership(m) => {
            let mut a = shared.applied.lock();
            a.last = Some(e.log_id);
            a.membership = StoredMembership::new(Some(e.log_id), m.clone());
        }
        _ => shared.applied.lock().last = Some(e.log_id),
    }
    Ok(None)
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = StateMachine;

    async fn applied_state(&mut self) -> Result<(Option<LogId<u64>>, StoredMembership<u64, BasicNode>), Err> {
        let a = self.shared.applied.lock().clone();
        Ok((a.last, a.membership))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<()>, Err>
    where
        I: IntoIterator<Item = openraft::Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let entries: Vec<_> = entries.into_iter().collect();
        let n = entries.len();
        let shared = self.shared.clone();
        // Small batches are applied here when the namespace lock is free (it is, but while a
        // snapshot is being written): a trip to a blocking thread per batch cost standbys more
        // than the apply. The leader's own entries only record the applied index.
        let own_from = shared.own_from.load(Ordering::SeqCst);
        let bytes: usize = entries
            .iter()
            .filter(|e| e.log_id.index < own_from)
            .map(|e| match &e.payload {
                EntryPayload::Normal(b) => b.0.len(),
                _ => 0,
            })
            .sum();
        let mut rest = entries.into_iter();
        let mut blocked = None;
        if bytes <= INLINE_APPLY_BYTES {
            for e in rest.by_ref() {
                if let Some(e) = apply_entry(&shared, e, true)? {
                    blocked = Some(e);
                    break;
                }
            }
        }
        let rest: Vec<_> = blocked.into_iter().chain(rest).collect();
        if !rest.is_empty() {
            tokio::task::spawn_blocking(move || {
                rest.into_iter().try_for_each(|e| apply_entry(&shared, e, false).map(|_| ()))
            })
            .await
            .map_err(sm_err)??;
        }
        Ok(vec![(); n])
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, Err> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<u64, BasicNode>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), Err> {
        let shared = self.shared.clone();
        let meta = meta.clone();
        let data = snapshot.into_inner();
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let entries = snapshot_entries(&data).map_err(snap_err)?;
            let n = entries.len();
            let file = encode_snapshot_file(&meta, &data).map_err(snap_err)?;
            alluxio_common::private::write_atomically(&shared.dir(), "snapshot", &file).map_err(snap_err)?;
            install(&shared, &meta, entries).map_err(snap_err)?;
            *shared.snapshot.lock() = Some((meta.clone(), data));
            tracing::info!(
                "embedded journal: installed snapshot {} ({n} entries) from the leader in {} ms",
                meta.snapshot_id,
                started.elapsed().as_millis()
            );
            Ok(())
        })
        .await
        .map_err(snap_err)?
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, Err> {
        Ok(self
            .shared
            .snapshot
            .lock()
            .as_ref()
            .map(|(meta, data)| Snapshot { meta: meta.clone(), snapshot: Box::new(Cursor::new(data.clone())) }))
    }
}
