//! The plans against a small model: a `BTreeMap` from path to what is there.
//!
//! Random sequences of operations on a few short paths run through the `plan_*` functions
//! (applying the entries they return) and through the model's rules, which say what Alluxio
//! does. After every step both agree on the outcome's status code and on the whole tree; at
//! the end a checkpoint of the namespace, replayed, gives the same tree, and no id was
//! handed out twice.

use std::collections::{BTreeMap, HashSet};

use alluxio_common::status::{Code, HasCode};
use alluxio_common::AlluxioPath;
use alluxio_proto::journal::journal_entry::Entry;
use alluxio_proto::journal::AddMountPointEntry;
use proptest::prelude::*;

use super::*;
use crate::inode::{PersistenceState, NO_PARENT};
use crate::namespace::tests::dir_entry;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Dir,
    File { completed: bool },
}

/// The model: every path but the root, and what it is.
#[derive(Debug, Default)]
struct Model(BTreeMap<String, Node>);

#[derive(Debug, Clone)]
enum Op {
    Mkdir { path: String, recursive: bool, allow_exists: bool },
    Create { path: String, recursive: bool },
    Complete { path: String },
    Delete { path: String, recursive: bool },
    Rename { src: String, dst: String },
    Persist { path: String },
}

fn parent(p: &str) -> String {
    match p.rfind('/') {
        Some(0) | None => "/".into(),
        Some(i) => p[..i].into(),
    }
}

fn prefixes(p: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in p.split('/').filter(|c| !c.is_empty()) {
        cur = format!("{cur}/{c}");
        out.push(cur.clone());
    }
    out
}

fn below(p: &str, q: &str) -> bool {
    q == p || q.starts_with(&format!("{p}/"))
}

impl Model {
    fn get(&self, p: &str) -> Option<Node> {
        if p == "/" {
            Some(Node::Dir)
        } else {
            self.0.get(p).copied()
        }
    }

    /// Where a create stands: the missing prefixes, or the refusal.
    fn creatable(&self, p: &str, recursive: bool) -> Result<Vec<String>, Code> {
        let all = prefixes(p);
        for (i, q) in all.iter().enumerate() {
            match self.get(q) {
                Some(Node::File { .. }) if i + 1 < all.len() => return Err(Code::InvalidArgument),
                Some(_) if i + 1 == all.len() => return Err(Code::AlreadyExists),
                Some(_) => {}
                None => {
                    if i + 1 < all.len() && !recursive {
                        return Err(Code::NotFound);
                    }
                    return Ok(all[i..].to_vec());
                }
            }
        }
        unreachable!("the root is never created")
    }

    fn apply(&mut self, op: &Op) -> Result<(), Code> {
        match op {
            Op::Mkdir { path, recursive, allow_exists } => {
                if *allow_exists && self.get(path) == Some(Node::Dir) {
                    return Ok(());
                }
                for q in self.creatable(path, *recursive)? {
                    self.0.insert(q, Node::Dir);
                }
            }
            Op::Create { path, recursive } => {
                let missing = self.creatable(path, *recursive)?;
                for q in &missing[..missing.len() - 1] {
                    self.0.insert(q.clone(), Node::Dir);
                }
                self.0.insert(path.clone(), Node::File { completed: false });
            }
            Op::Complete { path } => match self.get(path) {
                None => return Err(Code::NotFound),
                Some(Node::Dir) => return Err(Code::InvalidArgument),
                Some(Node::File { completed: true }) => return Err(Code::FailedPrecondition),
                Some(Node::File { completed: false }) => {
                    self.0.insert(path.clone(), Node::File { completed: true });
                }
            },
            Op::Persist { path } => match self.get(path) {
                None => return Err(Code::NotFound),
                Some(Node::Dir) => return Err(Code::InvalidArgument),
                Some(Node::File { completed: false }) => return Err(Code::FailedPrecondition),
                Some(Node::File { completed: true }) => {}
            },
            Op::Delete { path, recursive } => {
                if path == "/" {
                    return Err(Code::InvalidArgument);
                }
                self.get(path).ok_or(Code::NotFound)?;
                if !recursive && self.0.keys().any(|q| q != path && below(path, q)) {
                    return Err(Code::FailedPrecondition);
                }
                self.0.retain(|q, _| !below(path, q));
            }
            Op::Rename { src, dst } => {
                if src == "/" || dst == "/" {
                    return Err(Code::InvalidArgument);
                }
                self.get(src).ok_or(Code::NotFound)?;
                if below(src, dst) {
                    return Err(Code::InvalidArgument);
                }
                if self.get(dst).is_some() {
                    return Err(Code::AlreadyExists);
                }
                match self.get(&parent(dst)) {
                    None => return Err(Code::NotFound),
                    Some(Node::File { .. }) => return Err(Code::InvalidArgument),
                    Some(Node::Dir) => {}
                }
                let moved: Vec<(String, Node)> =
                    self.0.iter().filter(|(q, _)| below(src, q)).map(|(q, n)| (q.clone(), *n)).collect();
                self.0.retain(|q, _| !below(src, q));
                for (q, n) in moved {
                    self.0.insert(format!("{dst}{}", &q[src.len()..]), n);
                }
            }
        }
        Ok(())
    }
}

fn p(s: &str) -> AlluxioPath {
    AlluxioPath::parse(s).unwrap()
}

/// A namespace holding only the root and its mount.
fn namespace() -> Namespace {
    let mut ns = Namespace::new();
    let mut entries = Vec::new();
    let root = crate::namespace::IdAllocator::new(&ns).directory_id(&mut entries);
    entries.push(dir_entry(root, NO_PARENT, ""));
    entries.push(Entry::AddMountPoint(AddMountPointEntry {
        alluxio_path: "/".into(),
        ufs_path: "memory:///".into(),
        mount_id: 1,
        ..Default::default()
    }));
    for e in &entries {
        ns.apply_entry(e, &mut Vec::new()).unwrap();
    }
    ns
}

fn caller() -> Caller {
    Caller { user: "alice".into(), group: "staff".into(), groups: vec!["staff".into()] }
}

/// Runs `op` through its plan and applies the entries; returns the outcome's code.
fn run(ns: &mut Namespace, op: &Op, time: i64) -> Result<(), Code> {
    let entries = match op {
        Op::Mkdir { path, recursive, allow_exists } => {
            let req = NewDirectory {
                path: p(path),
                recursive: *recursive,
                allow_exists: *allow_exists,
                mode: 0o755,
                umask: 0,
                persisted: false,
                op_time_ms: time,
            };
            plan_create_directory(ns, &req, &caller())
        }
        Op::Create { path, recursive } => {
            let req = NewFile {
                path: p(path),
                recursive: *recursive,
                mode: 0o644,
                dir_mode: 0o755,
                umask: 0,
                persisted_dirs: false,
                block_size: 1 << 20,
                cacheable: true,
                ttl: -1,
                ttl_action: 0,
                replication_min: 0,
                replication_max: -1,
                op_time_ms: time,
            };
            plan_create_file(ns, &req, &caller()).map(|(_, e)| e)
        }
        Op::Complete { path } => {
            let req = Completion {
                path: p(path),
                file_id: 0,
                length: 7,
                state: PersistenceState::NotPersisted,
                fingerprint: String::new(),
                xattr: Default::default(),
                op_time_ms: time,
            };
            plan_complete_file(ns, &req).map(|(_, e)| e)
        }
        Op::Persist { path } => plan_schedule_persist(ns, &p(path)),
        Op::Delete { path, recursive } => {
            let req = Delete { path: p(path), recursive: *recursive, alluxio_only: false, op_time_ms: time };
            plan_delete(ns, &req)
        }
        Op::Rename { src, dst } => {
            plan_rename(ns, &Rename { src: p(src), dst: p(dst), in_ufs: false, op_time_ms: time })
        }
    }
    .map_err(|e| e.code())?;
    for e in &entries {
        ns.apply_entry(e, &mut Vec::new()).expect("a planned entry applies");
    }
    Ok(())
}

/// The tree of a namespace in the model's terms.
fn tree(ns: &Namespace) -> BTreeMap<String, Node> {
    let root = ns.root_id().unwrap();
    ns.subtree(root)
        .into_iter()
        .filter(|n| n.id != root)
        .map(|n| {
            let node = match n.file() {
                Some(f) => Node::File { completed: f.completed },
                None => Node::Dir,
            };
            (ns.path_of(n.id).unwrap().to_string(), node)
        })
        .collect()
}

fn path_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 1..4).prop_map(|c| format!("/{}", c.join("/")))
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let path = path_strategy;
    prop_oneof![
        (path(), any::<bool>(), any::<bool>()).prop_map(|(path, recursive, allow_exists)| Op::Mkdir {
            path,
            recursive,
            allow_exists
        }),
        (path(), any::<bool>()).prop_map(|(path, recursive)| Op::Create { path, recursive }),
        path().prop_map(|path| Op::Complete { path }),
        path().prop_map(|path| Op::Persist { path }),
        (prop_oneof![path(), Just("/".to_owned())], any::<bool>())
            .prop_map(|(path, recursive)| Op::Delete { path, recursive }),
        (path(), path()).prop_map(|(src, dst)| Op::Rename { src, dst }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn plans_follow_the_model(ops in prop::collection::vec(op_strategy(), 1..40)) {
        let mut ns = namespace();
        let mut model = Model::default();
        let mut ids = HashSet::new();
        for (i, op) in ops.iter().enumerate() {
            let got = run(&mut ns, op, i as i64 + 1);
            let want = model.apply(op);
            prop_assert_eq!(got, want, "step {} {:?}", i, op);
            prop_assert_eq!(&tree(&ns), &model.0, "tree after step {} {:?}", i, op);
            for n in ns.inodes() {
                ids.insert(n.id);
            }
        }
        // A checkpoint replayed gives the same tree and the same id generators.
        let mut replayed = Namespace::new();
        for e in ns.entries() {
            replayed.apply_entry(&e, &mut Vec::new()).unwrap();
        }
        prop_assert_eq!(tree(&replayed), tree(&ns));
        // Ids of inodes that lived and died are never handed out again.
        let next = crate::namespace::IdAllocator::new(&ns).file_id(&mut Vec::new());
        prop_assert!(!ids.contains(&next));
    }
}

#[test]
fn refusals_name_the_paths_and_change_nothing() {
    let mut ns = namespace();
    run(&mut ns, &Op::Create { path: "/a/f".into(), recursive: true }, 1).unwrap();
    let before = tree(&ns);
    let under_file = NewDirectory {
        path: p("/a/f/d"),
        recursive: true,
        allow_exists: false,
        mode: 0o755,
        umask: 0,
        persisted: false,
        op_time_ms: 2,
    };
    let e = plan_create_directory(&ns, &under_file, &caller()).unwrap_err();
    assert_eq!(e.to_string(), "Cannot create directory /a/f/d: ancestor /a/f is a file");
    let e =
        plan_delete(&ns, &Delete { path: p("/a"), recursive: false, alluxio_only: false, op_time_ms: 2 }).unwrap_err();
    assert_eq!(e, FsError::DirectoryNotEmpty { path: p("/a") });
    let e = plan_rename(&ns, &Rename { src: p("/a"), dst: p("/a/f/g"), in_ufs: false, op_time_ms: 2 }).unwrap_err();
    assert_eq!(e.to_string(), "Cannot rename /a to /a/f/g: a path cannot be moved into itself");
    let e = plan_set_attribute(
        &ns,
        &p("/a/f"),
        &Attributes { owner: Some("bob".into()), ..Default::default() },
        &caller(),
        &Permissions { enabled: true, super_user: "root".into(), supergroup: "supergroup".into() },
    )
    .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    assert_eq!(e.to_string(), "Permission denied: alice is not a super user or in super group");
    assert_eq!(tree(&ns), before);
}

#[test]
fn mounts_need_a_free_path_in_a_directory_and_a_ufs_no_other_mount_contains() {
    let mut ns = namespace();
    run(&mut ns, &Op::Create { path: "/f".into(), recursive: false }, 1).unwrap();
    let req = |path: &str, uri: &str| NewMount {
        path: p(path),
        ufs_uri: uri.into(),
        read_only: false,
        shared: false,
        properties: Default::default(),
        mount_id: 7,
        owner: "alice".into(),
        group: "staff".into(),
        mode: 0o755,
        mounted: vec![(p("/"), "/data/root".into())],
        op_time_ms: 2,
    };
    let code = |r: PlanResult<Vec<Entry>>| r.map(|_| ()).map_err(|e| e.code());
    assert_eq!(code(plan_mount(&ns, &req("/", "/data/x"))), Err(Code::InvalidArgument));
    assert_eq!(code(plan_mount(&ns, &req("/f", "/data/x"))), Err(Code::AlreadyExists));
    assert_eq!(code(plan_mount(&ns, &req("/f/m", "/data/x"))), Err(Code::InvalidArgument));
    let nested = plan_mount(&ns, &req("/m", "/data/root/sub")).unwrap_err();
    assert_eq!(nested.to_string(), "Mount point /data/root is a prefix of /data/root/sub: UFS paths of two mounts may not contain each other (already mounted at /)");
    // Prefixes are whole path components: /data/rootless is not below /data/root.
    for e in plan_mount(&ns, &req("/m", "/data/rootless")).unwrap() {
        ns.apply_entry(&e, &mut Vec::new()).unwrap();
    }
    let m = ns.find(&p("/m")).unwrap();
    assert!(m.dir().is_some_and(|d| d.mount_point) && ns.mounts().get(&p("/m")).is_some_and(|m| m.mount_id == 7));
}
