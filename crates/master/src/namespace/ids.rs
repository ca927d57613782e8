//! Inode ids: containers reserved in the journal a thousand at a time, one container per file,
//! directories numbered inside a container of their own (Alluxio's id scheme, `common::id`).

use alluxio_common::id;
use alluxio_proto::journal::journal_entry::Entry;
use alluxio_proto::journal::*;

use super::Namespace;

/// Container ids are reserved in the journal this many at a time.
pub const CONTAINER_RESERVATION: i64 = 1000;

/// Id generators' state.
#[derive(Debug, Clone, Default)]
pub struct Ids {
    /// Containers below this may have been handed out (journaled).
    pub container_reserved: i64,
    /// The next container to hand out (in memory; starts at `container_reserved` after a restart).
    pub next_container: i64,
    /// Container from which directory ids are taken, and its next sequence number.
    pub dir_container: i64,
    pub dir_next_seq: i64,
}

/// Hands out ids for one planned change without touching the namespace. It works on a copy
/// of the generators; applying the entries it emitted, and the inodes that carry its ids,
/// moves the namespace's generators to the same place (see `apply`), so a plan that is
/// dropped uses up nothing.
#[derive(Debug, Clone)]
pub struct IdAllocator {
    ids: Ids,
}

impl IdAllocator {
    pub fn new(ns: &Namespace) -> Self {
        IdAllocator { ids: ns.ids.clone() }
    }

    /// A new file id (one container per file). The entry reserving more containers, when
    /// one is needed, is pushed to `entries`.
    pub fn file_id(&mut self, entries: &mut Vec<Entry>) -> i64 {
        let c = self.take_container(entries);
        id::file_id_of_container(c)
    }

    fn take_container(&mut self, entries: &mut Vec<Entry>) -> i64 {
        let ids = &mut self.ids;
        ids.next_container = ids.next_container.max(1);
        if ids.next_container >= ids.container_reserved {
            ids.container_reserved = ids.next_container + CONTAINER_RESERVATION;
            entries.push(Entry::BlockContainerIdGenerator(BlockContainerIdGeneratorEntry {
                next_container_id: ids.container_reserved,
            }));
        }
        let c = ids.next_container;
        ids.next_container += 1;
        c
    }

    /// A new directory id; may push a generator entry to `entries`.
    pub fn directory_id(&mut self, entries: &mut Vec<Entry>) -> i64 {
        if self.ids.dir_container == 0 || self.ids.dir_next_seq >= id::MAX_SEQUENCE {
            let c = self.take_container(entries);
            self.ids.dir_container = c;
            self.ids.dir_next_seq = 0;
            entries.push(Entry::InodeDirectoryIdGenerator(InodeDirectoryIdGeneratorEntry {
                container_id: c,
                sequence_number: 0,
            }));
        }
        let i = id::create_id(self.ids.dir_container, self.ids.dir_next_seq);
        self.ids.dir_next_seq += 1;
        i
    }
}

impl Namespace {
    /// The id generators (reports and tests).
    pub fn ids(&self) -> &Ids {
        &self.ids
    }

    /// Called once replay is over: never hand out an id that may have been used before the restart.
    pub fn finish_recovery(&mut self) {
        self.ids.next_container = self.ids.next_container.max(self.ids.container_reserved);
        // A fresh directory container on every start, so directory ids are never reused either.
        self.ids.dir_container = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applying what the allocator emitted, plus inodes with its ids, leaves the namespace's
    /// generators where the allocator's copy is: the next plan continues without reuse.
    #[test]
    fn applied_entries_move_the_namespace_to_the_allocators_state() {
        let mut ns = Namespace::new();
        let mut seen = std::collections::HashSet::new();
        for round in 0..3 {
            let mut alloc = IdAllocator::new(&ns);
            let mut entries = Vec::new();
            let root = if round == 0 { Some(alloc.directory_id(&mut entries)) } else { None };
            let dirs: Vec<i64> = (0..2).map(|_| alloc.directory_id(&mut entries)).collect();
            let files: Vec<i64> = (0..1500).map(|_| alloc.file_id(&mut entries)).collect();
            for e in &entries {
                ns.apply_entry(e, &mut Vec::new()).unwrap();
            }
            if let Some(r) = root {
                ns.apply_entry(&crate::namespace::tests::dir_entry(r, crate::inode::NO_PARENT, ""), &mut Vec::new())
                    .unwrap();
            }
            let parent = ns.root_id().unwrap();
            for (i, d) in dirs.iter().enumerate() {
                let name = format!("d{round}-{i}");
                ns.apply_entry(&crate::namespace::tests::dir_entry(*d, parent, &name), &mut Vec::new()).unwrap();
            }
            for (i, f) in files.iter().enumerate() {
                let name = format!("f{round}-{i}");
                ns.apply_entry(&crate::namespace::tests::file_entry(*f, parent, &name, 0), &mut Vec::new()).unwrap();
            }
            assert_eq!(ns.ids.next_container, alloc.ids.next_container);
            assert_eq!(ns.ids.container_reserved, alloc.ids.container_reserved);
            assert_eq!((ns.ids.dir_container, ns.ids.dir_next_seq), (alloc.ids.dir_container, alloc.ids.dir_next_seq));
            for i in root.into_iter().chain(dirs).chain(files) {
                assert!(seen.insert(i), "id {i} handed out twice");
            }
        }
    }

    #[test]
    fn ids_are_never_reused_after_recovery() {
        let ns = Namespace::new();
        let mut entries = Vec::new();
        let a = IdAllocator::new(&ns).file_id(&mut entries);
        assert_eq!(entries.len(), 1, "the first id reserves a range");
        // Replay only the reservation (the file itself was never journaled): no reuse.
        let mut replayed = Namespace::new();
        for e in &entries {
            replayed.apply_entry(e, &mut Vec::new()).unwrap();
        }
        replayed.finish_recovery();
        let b = IdAllocator::new(&replayed).file_id(&mut Vec::new());
        assert!(id::container_id(b) > id::container_id(a));
    }
}
