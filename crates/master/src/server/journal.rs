//! Choosing and opening the journal: UFS (a local folder, replayed here), EMBEDDED (Raft; the
//! state machine replays) or NOOP. Each refuses a folder it cannot trust, naming what it found.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use alluxio_common::conf::Conf;
use alluxio_common::lock::DirLock;
use alluxio_common::net;
use alluxio_journal::raft::{RaftJournal, RaftOptions};
use alluxio_journal::{recover, Journal, Layout, LocalJournal, NoopJournal, WriterOptions};
use alluxio_proto::transport::Transport;
use parking_lot::RwLock;

use crate::error::JournalType;
use crate::namespace::Namespace;
use crate::MasterError;

/// An opened journal and the namespace it recovered.
pub(super) struct Opened {
    pub ns: Arc<RwLock<Namespace>>,
    pub journal: Arc<dyn Journal>,
    /// The local folder (UFS journal), for checkpoints and backups.
    pub layout: Option<Layout>,
    /// The embedded journal and its port, bound.
    pub raft: Option<(Arc<RaftJournal>, std::net::TcpListener)>,
    /// Held for the process's life: one master per journal folder.
    pub lock: Option<DirLock>,
    /// The sequence number of the last checkpoint (UFS journal).
    pub last_checkpoint: i64,
}

/// Opens the journal `alluxio.master.journal.type` names.
pub(super) async fn open(
    conf: &Conf,
    host: &str,
    rpc_address: &str,
    transport: &Transport,
) -> Result<Opened, MasterError> {
    let journal_type = conf.get_enum("alluxio.master.journal.type")?;
    let folder = conf.get_str("alluxio.master.journal.folder")?;
    let ns = Arc::new(RwLock::new(Namespace::new()));
    match journal_type.as_str() {
        "UFS" => open_ufs(conf, &folder, ns).await,
        "EMBEDDED" => {
            let (j, listener, lock) = start_embedded(conf, host, rpc_address, &folder, ns.clone(), transport).await?;
            let journal: Arc<dyn Journal> = j.clone();
            Ok(Opened { ns, journal, layout: None, raft: Some((j, listener)), lock: Some(lock), last_checkpoint: 0 })
        }
        "NOOP" => {
            tracing::warn!("alluxio.master.journal.type=NOOP: metadata will not survive a restart");
            let journal = Arc::new(NoopJournal::default());
            Ok(Opened { ns, journal, layout: None, raft: None, lock: None, last_checkpoint: 0 })
        }
        other => Err(MasterError::BadValue {
            property: "alluxio.master.journal.type",
            value: other.to_owned(),
            expected: "use EMBEDDED, UFS (a local journal folder) or NOOP".into(),
        }),
    }
}

/// The UFS journal: checks the folder, restores a backup into an empty one
/// (`alluxio-start.sh -i`) or replays it, and starts the writer.
async fn open_ufs(conf: &Conf, folder: &str, ns: Arc<RwLock<Namespace>>) -> Result<Opened, MasterError> {
    let masters = conf.get_list("alluxio.master.embedded.journal.addresses")?;
    if masters.len() > 1 {
        return Err(MasterError::MixedJournalTypes { masters: masters.len() });
    }
    let layout = Layout::new(folder);
    layout.check_foreign()?;
    if !layout.is_formatted() {
        return Err(alluxio_journal::JournalError::Unformatted { folder: layout.folder.clone() }.into());
    }
    let lock = layout.lock("master")?;
    if dir_has_entries(&alluxio_journal::raft::raft_dir(layout.folder.as_path())) {
        return Err(MasterError::WrongJournalType { folder: folder.to_string(), found: JournalType::Embedded });
    }
    let restored = match conf.get("alluxio.master.journal.init.from.backup")? {
        Some(uri) => restore_if_empty(conf, &layout, &uri).await?,
        None => None,
    };
    let (next_sequence, last_checkpoint) = match restored {
        // The restored state is already in memory and in the journal (its checkpoint at 0).
        Some(restored) => {
            *ns.write() = restored;
            (0, 0)
        }
        None => replay(&layout, folder, &ns).await?,
    };
    let max_segment = conf.get_bytes("alluxio.master.journal.log.size.bytes.max")?;
    let j = LocalJournal::start(layout.clone(), next_sequence, WriterOptions { max_segment_bytes: max_segment })?;
    Ok(Opened { ns, journal: Arc::new(j), layout: Some(layout), raft: None, lock: Some(lock), last_checkpoint })
}

/// Replays the UFS journal's checkpoint and log into `ns` on a blocking thread; returns the
/// next sequence number and the checkpoint's.
async fn replay(layout: &Layout, folder: &str, ns: &RwLock<Namespace>) -> Result<(i64, i64), MasterError> {
    let l2 = layout.clone();
    let replay_started = Instant::now();
    let (ns2, rec) = tokio::task::spawn_blocking(move || {
        let mut ns = Namespace::new();
        let mut removed = Vec::new();
        let rec = recover(&l2, |_, e| {
            removed.clear();
            ns.apply(&e, &mut removed).map_err(|why| {
                alluxio_journal::JournalError::Apply(format!(
                    "journal entry {} cannot be applied ({why}); the journal does not match its own history",
                    e.sequence_number
                ))
            })
        })?;
        Ok::<_, alluxio_journal::JournalError>((ns, rec))
    })
    .await
    .map_err(MasterError::task("journal recovery"))??;
    *ns.write() = ns2;
    tracing::info!(
        "journal {folder}: loaded {} checkpoint entries and replayed {} log entries in {} ms; next sequence {}",
        rec.checkpoint_entries,
        rec.log_entries,
        replay_started.elapsed().as_millis(),
        rec.next_sequence
    );
    Ok((rec.next_sequence, rec.checkpoint_sequence.unwrap_or(0)))
}

/// Whether `dir` holds anything but a lock file.
fn dir_has_entries(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir)
        .map(|d| d.flatten().any(|e| e.file_name() != alluxio_common::lock::LOCK_FILE))
        .unwrap_or(false)
}

/// Opens the embedded journal: checks the quorum settings, refuses a folder that was never
/// formatted (unless this is a new member of a quorum that already runs) or holds a UFS
/// journal, locks it, binds the journal port and starts Raft.
async fn start_embedded(
    conf: &Conf,
    host: &str,
    rpc_address: &str,
    folder: &str,
    ns: Arc<RwLock<Namespace>>,
    transport: &Transport,
) -> Result<(Arc<RaftJournal>, std::net::TcpListener, DirLock), MasterError> {
    let port = conf.get_i64("alluxio.master.embedded.journal.port")?;
    let me = format!("{host}:{port}");
    let mut members = conf.get_list("alluxio.master.embedded.journal.addresses")?;
    if members.is_empty() {
        members = vec![me.clone()];
    }
    crate::embedded::check_members(&me, &members)?;
    let layout = Layout::new(folder);
    layout.check_foreign()?;
    let lock = if layout.is_formatted() {
        layout.lock("master")?
    } else {
        // A missing folder is a wrong path or a lost disk as often as a new master: only a
        // running quorum that this master can join makes an empty journal safe.
        let unformatted = || alluxio_journal::JournalError::Unformatted { folder: layout.folder.clone() };
        if dir_has_entries(&layout.folder) {
            return Err(unformatted().into());
        }
        let wait = std::time::Duration::from_secs(3);
        let Some(peer) = alluxio_journal::raft::formed_quorum_member(transport, &me, &members, wait).await else {
            return Err(unformatted().into());
        };
        tracing::info!(
            "the embedded journal quorum runs ({peer} belongs to it): formatting the new member's journal folder {folder}"
        );
        alluxio_common::private::create_dir_all(&layout.folder)
            .map_err(MasterError::io("create the journal folder", folder))?;
        let lock = layout.lock("master")?;
        layout.format_locked(&lock)?;
        lock
    };
    if !layout.is_empty()? {
        return Err(MasterError::WrongJournalType { folder: folder.to_string(), found: JournalType::Ufs });
    }
    let bind_host = conf.get_str("alluxio.master.bind.host")?;
    let listener = net::bind(&bind_host, port, "alluxio.master.embedded.journal.port")?;
    let opts = RaftOptions {
        folder: folder.into(),
        address: me,
        members,
        rpc_address: rpc_address.to_owned(),
        election_timeout_min: conf.get_duration("alluxio.master.embedded.journal.election.timeout.min")?,
        election_timeout_max: conf.get_duration("alluxio.master.embedded.journal.election.timeout.max")?,
        heartbeat_interval: conf.get_duration("alluxio.master.embedded.journal.heartbeat.interval")?,
        snapshot_period_entries: conf.get_i64("alluxio.master.journal.checkpoint.period.entries")?.max(1) as u64,
        transport: transport.clone(),
    };
    if opts.election_timeout_min >= opts.election_timeout_max || opts.heartbeat_interval >= opts.election_timeout_min {
        return Err(MasterError::BadValue {
            property: "alluxio.master.embedded.journal.heartbeat.interval",
            value: format!("{:?}", opts.heartbeat_interval),
            expected: format!(
                "heartbeat.interval < election.timeout.min ({:?}) < election.timeout.max ({:?}) must hold",
                opts.election_timeout_min, opts.election_timeout_max
            ),
        });
    }
    let j = RaftJournal::start(opts, Arc::new(crate::embedded::NamespaceState(ns))).await?;
    Ok((j, listener, lock))
}

/// `alluxio-start.sh -i <backup>`: restores the backup into a freshly formatted, empty
/// journal; a journal that already holds entries is left alone (and the backup ignored).
async fn restore_if_empty(conf: &Conf, layout: &Layout, uri: &str) -> Result<Option<Namespace>, MasterError> {
    layout.check_foreign()?;
    if !layout.is_formatted() {
        return Err(alluxio_journal::JournalError::Unformatted { folder: layout.folder.clone() }.into());
    }
    if !layout.is_empty()? {
        let msg = format!(
            "The journal {} is not empty (it holds entries), so the backup {uri} was not applied; the master \
             starts from its journal. To restore the backup: alluxio-stop.sh masters; alluxio formatMasters; \
             alluxio-start.sh -i {uri} masters",
            layout.folder.display()
        );
        tracing::warn!("{msg}");
        eprintln!("{msg}");
        return Ok(None);
    }
    let root_ufs = conf.get_str("alluxio.master.mount.table.root.ufs")?;
    let root_opts: BTreeMap<String, String> =
        conf.with_prefix("alluxio.master.mount.table.root.option.").into_iter().collect();
    tracing::info!("restoring the journal from backup {uri}");
    let started = Instant::now();
    let (ns, n) = crate::backup::restore_namespace(uri, &root_ufs, &root_opts).await?;
    let l2 = layout.clone();
    let ns = tokio::task::spawn_blocking(move || crate::backup::write_restored(&l2, &ns).map(|_| ns))
        .await
        .map_err(MasterError::task("restore"))??;
    tracing::info!("Restored {n} entries from backup {uri} in {} ms", started.elapsed().as_millis());
    Ok(Some(ns))
}
