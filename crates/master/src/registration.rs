//! Whether a registering worker's blocks may be reconciled with this master's namespace.
//!
//! At registration the master tells a worker to delete the blocks of files it deleted. That is
//! only right when the master's namespace is the same history the blocks were written in: a
//! formatted journal, another cluster's journal or a journal older than the worker's data
//! would make the master order the deletion of acknowledged data. So the worker is refused
//! (with both cluster ids and what to do), and nothing is deleted, whenever that cannot be
//! ruled out. Pure logic: the caller gathers the facts.

use alluxio_common::id;

/// What the master knows when a worker registers.
#[derive(Debug, Clone, Copy)]
pub struct MasterSide<'a> {
    pub cluster_id: &'a str,
    /// Containers below this may have been handed out by this namespace's history.
    pub container_reserved: i64,
    /// Whether the namespace holds any file.
    pub has_files: bool,
    /// False with the NOOP journal: nothing survives a restart, so nothing can be compared.
    pub durable: bool,
}

/// What a registering worker reports.
#[derive(Debug, Clone, Copy)]
pub struct WorkerSide<'a> {
    pub address: &'a str,
    /// Empty when the worker has none recorded.
    pub cluster_id: &'a str,
    pub block_count: usize,
    /// Its blocks that belong to no file of the namespace.
    pub unknown: &'a [i64],
}

const DISCARD: &str = "To discard the worker's cached data instead (data not persisted to the under storage is lost), \
stop it and run `alluxio formatWorker` on its host";

/// Why a registering worker is refused; each names what was found and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "worker {worker} holds {blocks} blocks of cluster {worker_cluster}, but this master's journal belongs to \
         cluster {master_cluster}: the journal was formatted, or is another cluster's, since the worker's data was \
         written. The worker was refused and nothing was deleted. Start the master on the journal of cluster \
         {worker_cluster} (alluxio.master.journal.folder). {DISCARD}"
    )]
    OtherCluster { worker: String, blocks: usize, worker_cluster: String, master_cluster: String },
    #[error(
        "worker {worker} holds {count} blocks (e.g. block {first}) with ids this master's journal never handed \
         out: the journal is older than the worker's data (an old copy of the journal folder?). The worker was \
         refused and nothing was deleted. Start the master on the newest journal of cluster {cluster}. {DISCARD}"
    )]
    NewerThanJournal { worker: String, count: usize, first: i64, cluster: String },
    #[error(
        "worker {worker} holds {blocks} blocks, none of which this master knows, and this master's namespace \
         holds no file: it may have been started on a new journal. The worker was refused and nothing was \
         deleted. Start the master on the journal the worker's data belongs to. {DISCARD}"
    )]
    EmptyNamespace { worker: String, blocks: usize },
}

/// `Ok` when the unknown blocks are orphans of deleted files the worker may delete; otherwise
/// the refusal to send the worker.
pub fn check(m: MasterSide<'_>, w: WorkerSide<'_>) -> Result<(), Refusal> {
    if !m.durable || w.block_count == 0 {
        return Ok(());
    }
    if !w.cluster_id.is_empty() && !m.cluster_id.is_empty() && w.cluster_id != m.cluster_id {
        return Err(Refusal::OtherCluster {
            worker: w.address.into(),
            blocks: w.block_count,
            worker_cluster: w.cluster_id.into(),
            master_cluster: m.cluster_id.into(),
        });
    }
    let newer: Vec<i64> = w.unknown.iter().copied().filter(|b| id::container_id(*b) >= m.container_reserved).collect();
    if let Some(first) = newer.first() {
        return Err(Refusal::NewerThanJournal {
            worker: w.address.into(),
            count: newer.len(),
            first: *first,
            cluster: m.cluster_id.into(),
        });
    }
    if w.cluster_id.is_empty() && !w.unknown.is_empty() && !m.has_files {
        return Err(Refusal::EmptyNamespace { worker: w.address.into(), blocks: w.unknown.len() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn master(cluster: &str) -> MasterSide<'_> {
        MasterSide { cluster_id: cluster, container_reserved: 2000, has_files: true, durable: true }
    }

    fn worker<'a>(cluster: &'a str, blocks: usize, unknown: &'a [i64]) -> WorkerSide<'a> {
        WorkerSide { address: "w1:29999", cluster_id: cluster, block_count: blocks, unknown }
    }

    #[test]
    fn another_cluster_is_refused_naming_both_ids() {
        let err = check(master("new"), worker("old", 3, &[])).unwrap_err();
        assert!(matches!(&err, Refusal::OtherCluster { blocks: 3, .. }));
        let err = err.to_string();
        assert!(err.contains("cluster old") && err.contains("cluster new") && err.contains("w1:29999"), "{err}");
        assert!(err.contains("formatWorker") && err.contains("nothing was deleted"), "{err}");
        // A worker with nothing to lose simply joins.
        check(master("new"), worker("old", 0, &[])).unwrap();
    }

    #[test]
    fn blocks_newer_than_the_journal_are_refused() {
        let newer = id::block_id(id::file_id_of_container(2500), 0);
        let err = check(master("c"), worker("c", 5, &[newer])).unwrap_err();
        assert!(matches!(&err, Refusal::NewerThanJournal { first, .. } if *first == newer));
        let err = err.to_string();
        assert!(err.contains(&format!("block {newer}")) && err.contains("older than the worker's data"), "{err}");
    }

    #[test]
    fn an_unrecorded_worker_meeting_an_empty_namespace_is_refused() {
        let orphan = id::block_id(id::file_id_of_container(5), 0);
        let empty = MasterSide { has_files: false, ..master("c") };
        assert!(check(empty, worker("", 1, &[orphan])).unwrap_err().to_string().contains("holds no file"));
        // Same cluster: files were deleted, their blocks are orphans.
        check(empty, worker("c", 1, &[orphan])).unwrap();
        // Without a durable journal there is nothing to compare with.
        check(MasterSide { durable: false, ..empty }, worker("x", 1, &[orphan])).unwrap();
    }

    proptest! {
        /// The only accepted deletions: blocks of containers this namespace handed out, reported
        /// by a worker of the same cluster (or, with no id recorded, to a namespace with files).
        #[test]
        fn accepted_orphans_are_always_of_this_history(
            containers in proptest::collection::vec(1i64..4000, 0..20),
            wc in prop_oneof![Just(""), Just("c"), Just("d")],
            has_files in any::<bool>(),
            extra in 0usize..5,
        ) {
            let unknown: Vec<i64> = containers.iter().map(|c| id::block_id(id::file_id_of_container(*c), 0)).collect();
            let m = MasterSide { has_files, ..master("c") };
            let w = worker(wc, unknown.len() + extra, &unknown);
            if check(m, w).is_ok() && w.block_count > 0 {
                prop_assert!(wc != "d");
                prop_assert!(containers.iter().all(|c| *c < m.container_reserved));
                prop_assert!(unknown.is_empty() || wc == "c" || has_files);
            }
        }
    }
}
