//! The master's side of the embedded journal: the namespace as Raft's replicated state,
//! and the checks made before joining a quorum.

use std::sync::Arc;

use alluxio_journal::raft::{ReplicatedState, StateError};
use alluxio_proto::journal::JournalEntry;
use parking_lot::RwLock;

use crate::error::MasterError;
use crate::namespace::Namespace;

/// The namespace seen by the embedded journal's state machine.
pub struct NamespaceState(pub Arc<RwLock<Namespace>>);

impl ReplicatedState for NamespaceState {
    fn apply(&self, entries: &[JournalEntry], applied: &mut dyn FnMut()) -> Result<(), StateError> {
        apply_locked(&mut self.0.write(), entries, applied)
    }

    fn try_apply(&self, entries: &[JournalEntry], applied: &mut dyn FnMut()) -> Option<Result<(), StateError>> {
        let mut ns = self.0.try_write()?;
        Some(apply_locked(&mut ns, entries, applied))
    }

    fn snapshot(
        &self,
        quiesce: &mut dyn FnMut(),
        emit: &mut dyn FnMut(JournalEntry) -> Result<(), StateError>,
    ) -> Result<(), StateError> {
        let ns = self.0.read();
        quiesce();
        ns.snapshot(|e| emit(JournalEntry { sequence_number: 0, entry: Some(e) }))
    }

    fn reset(&self, entries: Vec<JournalEntry>, applied: &mut dyn FnMut()) -> Result<(), StateError> {
        let mut fresh = Namespace::new();
        let mut removed = Vec::new();
        for e in &entries {
            removed.clear();
            fresh.apply(e, &mut removed)?;
        }
        let mut ns = self.0.write();
        *ns = fresh;
        applied();
        Ok(())
    }
}

fn apply_locked(ns: &mut Namespace, entries: &[JournalEntry], applied: &mut dyn FnMut()) -> Result<(), StateError> {
    let mut removed = Vec::new();
    for e in entries {
        removed.clear();
        ns.apply(e, &mut removed)?;
    }
    applied();
    Ok(())
}

/// `alluxio.master.embedded.journal.addresses` must name this master, and every member must
/// be a `host:port`.
pub fn check_members(me: &str, members: &[String]) -> Result<(), MasterError> {
    for m in members {
        let ok = m.rsplit_once(':').is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
        if !ok {
            return Err(MasterError::BadValue {
                property: "alluxio.master.embedded.journal.addresses",
                value: m.clone(),
                expected: "expected host:port".into(),
            });
        }
    }
    if !members.iter().any(|m| m.eq_ignore_ascii_case(me)) {
        return Err(MasterError::NotAMember { me: me.to_owned(), members: members.join(",") });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_must_include_this_master() {
        let m = vec!["a:19200".to_owned(), "b:19200".to_owned()];
        assert!(check_members("a:19200", &m).is_ok());
        let e = check_members("c:19200", &m).unwrap_err();
        assert!(matches!(e, MasterError::NotAMember { .. }));
        let e = e.to_string();
        assert!(e.contains("c:19200") && e.contains("alluxio.master.embedded.journal.addresses"), "{e}");
        let e = check_members("a:19200", &["a:19200".into(), "b".into()]).unwrap_err();
        assert!(e.to_string().contains("host:port"));
    }
}
