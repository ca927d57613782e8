//! The embedded journal (`alluxio.master.journal.type=EMBEDDED`): journal entries are the
//! log of a Raft group of masters (openraft), checkpoints are Raft snapshots.
//!
//! Like Alluxio, the leading master applies a change to its namespace first and journals it
//! in the same critical section ("apply then journal"); the change is acknowledged only once
//! a quorum holds it. Standbys apply committed entries through the state machine. So that the
//! two paths never apply one entry twice, a master becomes *primary* only after its state
//! machine applied the whole log it holds as leader; from then on the state machine skips
//! entries at or past that index (the master applied them). A primary that loses leadership
//! may hold changes that will never commit: it must drop its memory and restart from the
//! log (the master process re-executes itself).
//!
//! Layout: `<alluxio.master.journal.folder>/v1/raft/`: `log/` (segments, vote, purge point;
//! see [`segments`]) and `snapshot`.

// openraft's storage and RPC error types are large; its traits dictate them.
#[allow(clippy::result_large_err)]
pub mod dump;
pub mod log_store;
#[allow(clippy::result_large_err)]
pub mod network;
mod role;
pub mod segments;
#[allow(clippy::result_large_err)]
pub mod state_machine;
pub mod wire;

pub use role::Role;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alluxio_proto::journal::JournalEntry;
use openraft::{BasicNode, ChangeMembers, Raft};
use parking_lot::Mutex;
use prost::Message;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, watch};

use crate::{Journal, JournalError, Ticket};

openraft::declare_raft_types!(
    /// openraft's types for the master journal.
    pub TypeConfig:
        D = Batch,
        R = (),
        NodeId = u64,
        Node = BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = std::io::Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);

/// One Raft entry: the journal entries of one or more metadata changes (group commit),
/// each length-delimited protobuf.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch(pub bytes::Bytes);

impl Batch {
    pub fn encode(entries: &[JournalEntry]) -> Self {
        let mut out = Vec::with_capacity(entries.iter().map(|e| e.encoded_len() + 5).sum());
        for e in entries {
            // Encoding into a Vec cannot fail.
            let _ = e.encode_length_delimited(&mut out);
        }
        Batch(out.into())
    }

    pub fn decode(&self) -> Result<Vec<JournalEntry>, JournalError> {
        let mut buf = &self.0[..];
        let mut out = Vec::new();
        while !buf.is_empty() {
            let e = JournalEntry::decode_length_delimited(&mut buf).map_err(|e| JournalError::Undecodable {
                what: "a replicated journal batch".into(),
                reason: e.to_string(),
            })?;
            if e.entry.is_none() {
                return Err(JournalError::Undecodable {
                    what: format!("journal entry {}", e.sequence_number),
                    reason: "it is of a kind this alluxio-rs does not know (written by a newer version?)".into(),
                });
            }
            out.push(e);
        }
        Ok(out)
    }
}

/// The Raft node id of a master: a stable hash of its embedded journal address, so every
/// master derives the same ids from `alluxio.master.embedded.journal.addresses`.
pub fn node_id(address: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in address.trim().to_ascii_lowercase().bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h & (i64::MAX as u64)
}

/// A failure of the replicated state: its own typed error, boxed so the trait stays usable as
/// `dyn ReplicatedState`.
pub type StateError = Box<dyn std::error::Error + Send + Sync>;

/// The state the journal replicates (the master's namespace), as the state machine sees it.
pub trait ReplicatedState: Send + Sync + 'static {
    /// Applies committed entries, then calls `applied` while still holding the state's lock,
    /// so nobody sees the state without the matching applied index.
    fn apply(&self, entries: &[JournalEntry], applied: &mut dyn FnMut()) -> Result<(), StateError>;
    /// [`ReplicatedState::apply`] if the state's lock can be taken without waiting; `None`
    /// (nothing applied) otherwise. Lets small batches be applied on an async task.
    fn try_apply(&self, entries: &[JournalEntry], applied: &mut dyn FnMut()) -> Option<Result<(), StateError>>;
    /// Emits the whole state as entries. Takes the state's read lock, calls `quiesce` under it
    /// (it waits for in-flight changes and records the applied index), then emits.
    fn snapshot(
        &self,
        quiesce: &mut dyn FnMut(),
        emit: &mut dyn FnMut(JournalEntry) -> Result<(), StateError>,
    ) -> Result<(), StateError>;
    /// Replaces the whole state with `entries` (a snapshot), calling `applied` under the lock.
    fn reset(&self, entries: Vec<JournalEntry>, applied: &mut dyn FnMut()) -> Result<(), StateError>;
}

/// Settings of the embedded journal.
#[derive(Debug, Clone)]
pub struct RaftOptions {
    /// `<alluxio.master.journal.folder>`.
    pub folder: PathBuf,
    /// This master's `host:port` in `alluxio.master.embedded.journal.addresses`.
    pub address: String,
    /// All of `alluxio.master.embedded.journal.addresses`.
    pub members: Vec<String>,
    /// This master's RPC address, told to others so standbys can name the leader.
    pub rpc_address: String,
    pub election_timeout_min: Duration,
    pub election_timeout_max: Duration,
    pub heartbeat_interval: Duration,
    /// Snapshot after this many Raft entries (`alluxio.master.journal.checkpoint.period.entries`).
    pub snapshot_period_entries: u64,
    /// Plaintext or TLS between masters.
    pub transport: alluxio_proto::transport::Transport,
}

/// The applied index and membership, changed only together with the state.
#[derive(Debug, Clone, Default)]
pub(crate) struct Applied {
    pub last: Option<openraft::LogId<u64>>,
    pub membership: openraft::StoredMembership<u64, BasicNode>,
}

/// A snapshot's metadata and bytes.
pub(crate) type StoredSnapshot = (openraft::SnapshotMeta<u64, BasicNode>, Vec<u8>);

/// What the state machine, network and journal share.
pub(crate) struct Shared {
    pub me: u64,
    pub opts: RaftOptions,
    pub state: Arc<dyn ReplicatedState>,
    pub applied: Mutex<Applied>,
    /// Entries at or past this index were applied by the master itself (primary); u64::MAX before.
    pub own_from: AtomicU64,
    /// The queue of changes to propose (set once Raft runs): a snapshot puts a barrier in it.
    pub proposals: std::sync::OnceLock<mpsc::UnboundedSender<Proposal>>,
    /// A change this master applied failed to commit: its namespace is no longer the log's.
    pub lost_changes: std::sync::atomic::AtomicBool,
    /// The newest snapshot: its metadata and bytes.
    pub snapshot: Mutex<Option<StoredSnapshot>>,
    /// Last successful RPC to each peer (availability in `quorum info`).
    pub seen: Mutex<HashMap<u64, Instant>>,
    /// RPC addresses of peers, learned from their `NodeInfo`.
    pub rpc_addresses: Mutex<HashMap<u64, String>>,
}

impl Shared {
    pub fn dir(&self) -> PathBuf {
        self.opts.folder.join("v1").join("raft")
    }
}

/// What the proposal queue carries, in the order the master applied its changes.
pub(crate) enum Proposal {
    /// The journal entries of applied changes, and who waits for them to commit.
    Changes { entries: Vec<JournalEntry>, done: oneshot::Sender<Result<(), JournalError>> },
    /// Answered with the applied state once every change queued before it is committed and
    /// applied (a snapshot of the leader's namespace covers exactly those), or `None` when a
    /// change this leader applied failed to commit (its namespace holds changes Raft lost).
    Barrier(oneshot::Sender<Option<Applied>>),
}

/// The embedded journal of one master.
pub struct RaftJournal {
    pub raft: Raft<TypeConfig>,
    shared: Arc<Shared>,
    proposals: mpsc::UnboundedSender<Proposal>,
    next_sequence: AtomicI64,
    role: watch::Receiver<Role>,
}

/// Where the Raft folder of a journal lives.
pub fn raft_dir(folder: &std::path::Path) -> PathBuf {
    folder.join("v1").join("raft")
}

/// A member of `members` (other than `me`) that belongs to an already formed quorum, asking
/// each for up to `wait`; `None` when none answers that it does.
pub async fn formed_quorum_member(
    transport: &alluxio_proto::transport::Transport,
    me: &str,
    members: &[String],
    wait: Duration,
) -> Option<String> {
    let others: Vec<&String> = members.iter().filter(|a| *a != me).collect();
    let deadline = Instant::now() + wait;
    loop {
        for a in &others {
            if network::node_info(transport, a).await.is_ok_and(|info| info.initialized) {
                return Some((*a).clone());
            }
        }
        if Instant::now() >= deadline || others.is_empty() {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

impl RaftJournal {
    /// Opens the log, loads the newest snapshot into `state`, starts Raft and the role
    /// watcher. The caller serves [`network::RaftService`] on the journal port and then
    /// calls [`RaftJournal::bootstrap`].
    pub async fn start(opts: RaftOptions, state: Arc<dyn ReplicatedState>) -> Result<Arc<Self>, JournalError> {
        let me = node_id(&opts.address);
        let dir = raft_dir(&opts.folder);
        alluxio_common::private::create_dir_all(&dir).map_err(crate::error::io("create", &dir))?;
        let shared = Arc::new(Shared {
            me,
            opts: opts.clone(),
            state,
            applied: Mutex::new(Applied::default()),
            own_from: AtomicU64::new(u64::MAX),
            proposals: std::sync::OnceLock::new(),
            lost_changes: Default::default(),
            snapshot: Mutex::new(None),
            seen: Mutex::new(HashMap::new()),
            rpc_addresses: Mutex::new(HashMap::new()),
        });
        let sh = shared.clone();
        tokio::task::spawn_blocking(move || state_machine::load_snapshot(&sh))
            .await
            .map_err(|e| JournalError::Apply(e.to_string()))??;
        let log_dir = dir.join("log");
        let log = tokio::task::spawn_blocking(move || log_store::LogStore::open(&log_dir))
            .await
            .map_err(|e| JournalError::Apply(e.to_string()))??;
        let config = openraft::Config {
            cluster_name: "alluxio-master".into(),
            election_timeout_min: opts.election_timeout_min.as_millis() as u64,
            election_timeout_max: opts.election_timeout_max.as_millis() as u64,
            heartbeat_interval: opts.heartbeat_interval.as_millis() as u64,
            install_snapshot_timeout: 10_000,
            snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(opts.snapshot_period_entries.max(1)),
            max_in_snapshot_log_to_keep: opts.snapshot_period_entries.min(1000),
            snapshot_max_chunk_size: 4 << 20,
            ..Default::default()
        };
        let config = Arc::new(config.validate().map_err(|e| JournalError::Apply(format!("Raft settings: {e}")))?);
        let sm = state_machine::StateMachine { shared: shared.clone() };
        let net = network::Network { shared: shared.clone() };
        let raft = Raft::new(me, config, net, log, sm)
            .await
            .map_err(|e| JournalError::Apply(format!("cannot start the embedded journal: {e}")))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = shared.proposals.set(tx.clone());
        let (role_tx, role_rx) = watch::channel(Role::Standby { leader: None });
        let next = shared.applied.lock().last.map(|l| l.index as i64 + 1).unwrap_or(0);
        let j = Arc::new(RaftJournal {
            raft: raft.clone(),
            shared: shared.clone(),
            proposals: tx,
            next_sequence: AtomicI64::new(next),
            role: role_rx,
        });
        tokio::spawn(propose_loop(raft.clone(), shared.clone(), rx));
        tokio::spawn(role::watch_role(raft, shared, role_tx));
        Ok(j)
    }

    /// Forms the quorum on first start: if another member already belongs to a formed
    /// quorum, asks its leader to add this master; otherwise initializes with every
    /// configured member (all first-time members do the same, which openraft allows).
    pub async fn bootstrap(&self) -> Result<(), JournalError> {
        if self.raft.is_initialized().await.map_err(|e| JournalError::Apply(e.to_string()))? {
            return Ok(());
        }
        // Give peers started together a moment to come up before deciding.
        let opts = &self.shared.opts;
        if let Some(peer) =
            formed_quorum_member(&opts.transport, &opts.address, &opts.members, Duration::from_secs(2)).await
        {
            return self.join(&peer).await;
        }
        let members: BTreeMap<u64, BasicNode> =
            self.shared.opts.members.iter().map(|a| (node_id(a), BasicNode { addr: a.clone() })).collect();
        tracing::info!(
            "forming the embedded journal quorum of {} masters: {:?}",
            members.len(),
            self.shared.opts.members
        );
        match self.raft.initialize(members).await {
            Ok(()) => Ok(()),
            Err(openraft::error::RaftError::APIError(openraft::error::InitializeError::NotAllowed(_))) => Ok(()),
            Err(e) => Err(JournalError::Apply(format!("cannot form the embedded journal quorum: {e}"))),
        }
    }

    /// Asks the quorum (through `peer`, then its leader) to add this master.
    async fn join(&self, peer: &str) -> Result<(), JournalError> {
        let mut target = peer.to_owned();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match network::join(
                &self.shared.opts.transport,
                &target,
                &self.shared.opts.address,
                &self.shared.opts.rpc_address,
            )
            .await
            {
                Ok(()) => {
                    tracing::info!("joined the embedded journal quorum through {target}");
                    return Ok(());
                }
                Err(network::JoinError::NotLeader(Some(l))) if !l.is_empty() && l != target => target = l,
                Err(e) if Instant::now() < deadline => {
                    // Already a member of the configuration the quorum was formed with.
                    if self.raft.is_initialized().await.unwrap_or(false) {
                        return Ok(());
                    }
                    tracing::info!("waiting to join the embedded journal quorum through {target}: {e}");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    target = peer.to_owned();
                }
                Err(e) => return Err(JournalError::Apply(format!("cannot join the embedded journal quorum: {e}"))),
            }
        }
    }

    /// Changes of this master's role.
    pub fn role(&self) -> watch::Receiver<Role> {
        self.role.clone()
    }

    pub fn node_id(&self) -> u64 {
        self.shared.me
    }

    pub fn address(&self) -> &str {
        &self.shared.opts.address
    }

    /// The quorum as this master sees it: (journal address, available, is leader).
    pub fn quorum(&self) -> Vec<(String, bool, bool)> {
        let m = self.raft.metrics().borrow().clone();
        let leader = m.current_leader;
        let window = self.shared.opts.election_timeout_max * 2;
        let seen = self.shared.seen.lock().clone();
        m.membership_config
            .membership()
            .nodes()
            .map(|(id, n)| {
                let available = *id == self.shared.me || seen.get(id).is_some_and(|t| t.elapsed() < window);
                (n.addr.clone(), available, leader == Some(*id))
            })
            .collect()
    }

    /// Removes a member; refused when the members left that are available would not form a
    /// majority of the new quorum.
    pub async fn remove_member(&self, address: &str) -> Result<(), JournalError> {
        let id = node_id(address);
        let q = self.quorum();
        let Some((_, _, is_leader)) = q.iter().find(|(a, _, _)| node_id(a) == id) else {
            return Err(JournalError::NotFound(format!(
                "{address} is not a member of the embedded journal quorum ({})",
                q.iter().map(|(a, _, _)| a.as_str()).collect::<Vec<_>>().join(", ")
            )));
        };
        if *is_leader {
            return Err(JournalError::Precondition(format!(
                "{address} is the leading master; move leadership first (alluxio fsadmin journal quorum elect -address <other>)"
            )));
        }
        let left: Vec<_> = q.iter().filter(|(a, _, _)| node_id(a) != id).collect();
        let available = left.iter().filter(|(_, ok, _)| *ok).count();
        if available < left.len() / 2 + 1 {
            return Err(JournalError::Precondition(format!(
                "removing {address} would leave {} members of which only {available} are available: no majority. \
                 Bring members back first",
                left.len()
            )));
        }
        let ids: BTreeSet<u64> = [id].into();
        let change = self.raft.change_membership(ChangeMembers::RemoveVoters(ids), false);
        match tokio::time::timeout(Duration::from_secs(20), change).await {
            Ok(r) => r.map_err(|e| JournalError::Precondition(format!("cannot remove {address}: {e}")))?,
            Err(_) => {
                return Err(JournalError::Precondition(format!(
                    "removing {address} did not commit within 20 s: too few members answer"
                )))
            }
        };
        tracing::info!("removed {address} from the embedded journal quorum");
        Ok(())
    }

    /// Adds a member (a new master asking through `Join`), waiting until it caught up.
    pub(crate) async fn add_member(&self, address: &str) -> Result<(), JournalError> {
        let refused = |e: &dyn std::fmt::Display| JournalError::Membership {
            change: format!("add {address}"),
            reason: e.to_string(),
        };
        let id = node_id(address);
        let m = self.raft.metrics().borrow().clone();
        if m.membership_config.membership().voter_ids().any(|v| v == id) {
            return Ok(());
        }
        self.raft.add_learner(id, BasicNode { addr: address.to_owned() }, true).await.map_err(|e| refused(&e))?;
        let ids: BTreeSet<u64> = [id].into();
        self.raft.change_membership(ChangeMembers::AddVoterIds(ids), false).await.map_err(|e| refused(&e))?;
        tracing::info!("added {address} to the embedded journal quorum");
        Ok(())
    }

    /// Hands leadership to `address`: this leader stops its heartbeats so the followers'
    /// leader lease runs out, and asks `address` to start elections until it wins (openraft
    /// 0.9 has no leadership transfer of its own). On success this master is demoted.
    pub async fn transfer_leadership(&self, address: &str) -> Result<(), JournalError> {
        let id = node_id(address);
        let q = self.quorum();
        if !q.iter().any(|(a, _, _)| node_id(a) == id) {
            return Err(JournalError::NotFound(format!("{address} is not a member of the embedded journal quorum")));
        }
        if id == self.shared.me {
            return Ok(());
        }
        tracing::info!("handing the embedded journal leadership to {address}");
        self.raft.runtime_config().heartbeat(false);
        self.raft.runtime_config().elect(false);
        let deadline = Instant::now() + self.shared.opts.election_timeout_max * 5;
        let mut last_err = String::new();
        while Instant::now() < deadline {
            if let Err(e) = network::elect(&self.shared.opts.transport, address).await {
                last_err = e.message().to_owned();
            }
            tokio::time::sleep(self.shared.opts.election_timeout_min / 4).await;
            if self.raft.metrics().borrow().current_leader == Some(id) {
                return Ok(());
            }
        }
        self.raft.runtime_config().heartbeat(true);
        self.raft.runtime_config().elect(true);
        Err(JournalError::Precondition(format!(
            "{address} did not win the election (is its journal up to date? {last_err})"
        )))
    }

    /// The index of the last entry applied to the state.
    pub fn applied_index(&self) -> u64 {
        self.shared.applied.lock().last.map(|l| l.index).unwrap_or(0)
    }

    /// Waits until the state holds every entry up to `index` (at most `timeout`).
    pub async fn wait_applied(&self, index: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.applied_index() < index {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// Journal addresses of the standbys that answered recently.
    pub fn available_standbys(&self) -> Vec<String> {
        self.quorum()
            .into_iter()
            .filter(|(a, ok, leader)| *ok && !*leader && node_id(a) != self.shared.me)
            .map(|(a, _, _)| a)
            .collect()
    }

    /// The embedded journal address of the current leader, if known.
    pub fn leader_address(&self) -> Option<String> {
        let m = self.raft.metrics().borrow().clone();
        let l = m.current_leader?;
        m.membership_config.membership().get_node(&l).map(|n| n.addr.clone())
    }

    /// The RPC addresses of the members known so far (leader first is not guaranteed).
    pub fn rpc_address_of(&self, journal_address: &str) -> Option<String> {
        let id = node_id(journal_address);
        if id == self.shared.me {
            return Some(self.shared.opts.rpc_address.clone());
        }
        self.shared.rpc_addresses.lock().get(&id).cloned()
    }

    /// While primary, learns the RPC address of every member every 2 s (for `masterInfo`
    /// and the leader hints of standbys).
    pub fn refresh_members_loop(self: &Arc<Self>) {
        let j = self.clone();
        tokio::spawn(async move {
            while j.shared.own_from.load(Ordering::SeqCst) != u64::MAX {
                let members: Vec<(u64, String)> = {
                    let m = j.raft.metrics().borrow().clone();
                    m.membership_config.membership().nodes().map(|(id, n)| (*id, n.addr.clone())).collect()
                };
                for (id, addr) in members {
                    if id != j.shared.me && !j.shared.rpc_addresses.lock().contains_key(&id) {
                        if let Ok(info) = network::node_info(&j.shared.opts.transport, &addr).await {
                            j.shared.rpc_addresses.lock().insert(id, info.rpc_address);
                        }
                    }
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
    }

    /// Takes a snapshot now (`fsadmin journal checkpoint`).
    pub async fn snapshot_now(&self) -> Result<u64, JournalError> {
        let before = self.raft.metrics().borrow().snapshot.map(|l| l.index);
        self.raft.trigger().snapshot().await.map_err(|e| JournalError::Apply(e.to_string()))?;
        let mut m = self.raft.metrics();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let s = m.borrow().snapshot.map(|l| l.index);
            if s.is_some() && s != before {
                return Ok(s.unwrap_or(0));
            }
            match tokio::time::timeout_at(deadline, m.changed()).await {
                Ok(Ok(())) => {}
                _ => return Err(JournalError::Apply("the snapshot did not complete within 60 s".into())),
            }
        }
    }

    /// Stops Raft (on shutdown).
    pub async fn shutdown(&self) {
        let _ = self.raft.shutdown().await;
    }
}

impl Journal for RaftJournal {
    fn append(&self, entries: Vec<JournalEntry>) -> Ticket {
        if self.shared.own_from.load(Ordering::SeqCst) == u64::MAX {
            return Ticket::ready(Err(JournalError::NotLeader(self.leader_address())));
        }
        self.next_sequence.fetch_add(entries.len() as i64, Ordering::SeqCst);
        let (done, rx) = oneshot::channel();
        if self.proposals.send(Proposal::Changes { entries, done }).is_err() {
            return Ticket::ready(Err(JournalError::Closed));
        }
        Ticket::pending(rx)
    }
    fn next_sequence(&self) -> i64 {
        self.next_sequence.load(Ordering::SeqCst)
    }
    fn kind(&self) -> &'static str {
        "EMBEDDED"
    }
}

/// Turns queued changes into Raft entries in order. At most `IN_FLIGHT` entries are being
/// committed at a time; whatever queues meanwhile goes into the next entry (group commit), so
/// concurrent changes share Raft round trips and fsyncs instead of queueing one by one.
async fn propose_loop(raft: Raft<TypeConfig>, shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Proposal>) {
    const MAX_BATCH_BYTES: usize = 4 << 20;
    const IN_FLIGHT: usize = 1;
    let slots = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let mut next = None;
    loop {
        let first = match next.take() {
            Some(p) => p,
            None => match rx.recv().await {
                Some(p) => p,
                None => return,
            },
        };
        let Ok(slot) = slots.clone().acquire_owned().await else { return };
        let (mut entries, mut waiters) = match first {
            Proposal::Changes { entries, done } => (entries, vec![done]),
            Proposal::Barrier(answer) => {
                // Every change before the barrier is committed and applied: the slots are free.
                let Ok(all) = slots.clone().acquire_many_owned(IN_FLIGHT as u32 - 1).await else { return };
                let lost = shared.lost_changes.load(Ordering::SeqCst);
                let _ = answer.send((!lost).then(|| shared.applied.lock().clone()));
                drop((slot, all));
                continue;
            }
        };
        let mut size: usize = entries.iter().map(|e| e.encoded_len()).sum();
        while size < MAX_BATCH_BYTES {
            match rx.try_recv() {
                Ok(Proposal::Changes { entries: more, done }) => {
                    size += more.iter().map(|e| e.encoded_len()).sum::<usize>();
                    entries.extend(more);
                    waiters.push(done);
                }
                Ok(barrier) => {
                    // A batch never spans a barrier.
                    next = Some(barrier);
                    break;
                }
                Err(_) => break,
            }
        }
        let result = raft.client_write_ff(Batch::encode(&entries)).await;
        let shared = shared.clone();
        tokio::spawn(async move {
            let outcome = match result {
                Ok(rx) => match rx.await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(openraft::error::ClientWriteError::ForwardToLeader(f))) => {
                        Err(JournalError::NotLeader(f.leader_node.map(|n| n.addr)))
                    }
                    Ok(Err(e)) => Err(JournalError::NotLeader(Some(e.to_string()))),
                    Err(_) => Err(JournalError::NotLeader(None)),
                },
                Err(e) => Err(JournalError::WriterFailed(e.to_string())),
            };
            if outcome.is_err() {
                shared.lost_changes.store(true, Ordering::SeqCst);
            }
            drop(slot);
            for w in waiters {
                let _ = w.send(match &outcome {
                    Ok(()) => Ok(()),
                    Err(JournalError::NotLeader(l)) => Err(JournalError::NotLeader(l.clone())),
                    Err(e) => Err(JournalError::WriterFailed(e.to_string())),
                });
            }
        });
    }
}
