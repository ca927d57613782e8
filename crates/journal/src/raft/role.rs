//! A master's role in the quorum (standby, primary, demoted), followed from Raft's metrics.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use openraft::{Raft, ServerState};
use tokio::sync::watch;

use super::{network, Shared, TypeConfig};

/// What a master is at the moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Not leading; the leader's RPC address when known.
    Standby { leader: Option<String> },
    /// Leading, with the whole log applied: serves clients.
    Primary,
    /// Was primary and lost leadership: memory may hold uncommitted changes.
    Demoted,
    /// The Raft core stopped on an error.
    Failed(String),
}

/// Follows Raft's metrics: becomes primary once leading with the whole log applied, reports
/// the leader to standbys, and reports demotion.
pub(super) async fn watch_role(raft: Raft<TypeConfig>, shared: Arc<Shared>, role: watch::Sender<Role>) {
    let mut metrics = raft.metrics();
    let mut looked_up: Option<u64> = None;
    loop {
        let m = metrics.borrow_and_update().clone();
        if let Err(e) = &m.running_state {
            let _ = role.send(Role::Failed(e.to_string()));
            return;
        }
        let primary = shared.own_from.load(Ordering::SeqCst) != u64::MAX;
        if primary {
            if m.state != ServerState::Leader || m.current_leader != Some(shared.me) {
                tracing::warn!("this master lost the embedded journal leadership (term {})", m.current_term);
                let _ = role.send(Role::Demoted);
                return;
            }
        } else if m.state == ServerState::Leader
            && m.current_leader == Some(shared.me)
            && m.last_applied.map(|l| l.index) == m.last_log_index
            && m.last_applied.is_some_and(|l| l.leader_id.term == m.current_term)
        {
            let from = m.last_log_index.map(|i| i + 1).unwrap_or(0);
            shared.own_from.store(from, Ordering::SeqCst);
            tracing::info!("this master is now the leader (term {}); journal index {from} onwards", m.current_term);
            let _ = role.send(Role::Primary);
        } else {
            let leader = m.current_leader.filter(|l| *l != shared.me);
            let mut rpc = leader.and_then(|l| shared.rpc_addresses.lock().get(&l).cloned());
            if let (Some(l), None) = (leader, &rpc) {
                if looked_up != Some(l) {
                    looked_up = Some(l);
                    if let Some(n) = m.membership_config.membership().get_node(&l) {
                        if let Ok(info) = network::node_info(&shared.opts.transport, &n.addr).await {
                            shared.rpc_addresses.lock().insert(l, info.rpc_address.clone());
                            rpc = Some(info.rpc_address);
                        }
                    }
                }
            }
            role.send_if_modified(|r| {
                let new = Role::Standby { leader: rpc.clone() };
                if *r != new {
                    *r = new;
                    true
                } else {
                    false
                }
            });
        }
        if metrics.changed().await.is_err() {
            return;
        }
    }
}
