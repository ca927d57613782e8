//! Who may do what: POSIX permission checks with Alluxio's rules (its DefaultPermissionChecker),
//! decided on the namespace alone so every operation runs them under the same lock as its plan.
//!
//! - Traversal needs execute on every existing ancestor of the path.
//! - The superuser (the user that started the master, or a member of the supergroup) passes
//!   every check; `alluxio.security.authorization.permission.enabled=false` turns them off.
//! - A path's permission is read from its owner, group or other bits, in that order: the first
//!   class the caller belongs to decides.
//! - Beyond Alluxio: the sticky bit of a directory keeps deleting and renaming its entries to
//!   their owners and the directory's owner (as POSIX does), and only the superuser mounts.

use alluxio_common::AlluxioPath;

use super::{Caller, FsError, Permissions, PlanResult};
use crate::inode::Inode;
use crate::namespace::Namespace;

/// Permission bits asked for: a mode's `rwx` triple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bits(pub u8);

impl Bits {
    pub const NONE: Bits = Bits(0);
    pub const EXECUTE: Bits = Bits(1);
    pub const WRITE: Bits = Bits(2);
    pub const READ: Bits = Bits(4);

    /// The bits of a mode's octal digit (`mode & 7`).
    pub fn of(digit: i32) -> Bits {
        Bits((digit & 7) as u8)
    }

    fn contains(self, other: Bits) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Bits {
    type Output = Bits;

    fn bitor(self, other: Bits) -> Bits {
        Bits(self.0 | other.0)
    }
}

/// As Alluxio prints `Mode.Bits`: `r--`, `-w-`, `r-x`...
impl std::fmt::Display for Bits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = |bit: u8, ch: char| if self.0 & bit != 0 { ch } else { '-' };
        write!(f, "{}{}{}", c(4, 'r'), c(2, 'w'), c(1, 'x'))
    }
}

/// A mode as Alluxio prints it: `rwxr-xr-x` (the sticky bit is not shown, as in Alluxio).
pub fn mode_string(mode: i32) -> String {
    format!("{}{}{}", Bits::of(mode >> 6), Bits::of(mode >> 3), Bits::of(mode))
}

/// The sticky bit of a directory's mode.
pub const STICKY: i32 = 0o1000;

/// A refused access: who asked for which bits on which path, and the inode that said no.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub user: String,
    pub access: Bits,
    pub path: AlluxioPath,
    /// The name of the inode that refused (`/` for the root).
    pub failed_at: String,
    pub owner: String,
    pub group: String,
    pub mode: i32,
}

/// Alluxio's wording (after "Permission denied: ").
impl std::fmt::Display for Denial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "user={}, access={}, path={}: failed at {}, inode owner={}, inode group={}, inode mode={}",
            self.user,
            self.access,
            self.path,
            self.failed_at,
            self.owner,
            self.group,
            mode_string(self.mode)
        )
    }
}

/// An operation, with the paths it touches, as far as permissions are concerned.
#[derive(Debug, Clone, Copy)]
pub enum Op<'a> {
    /// `getStatus` without block locations: search access to the parent.
    GetStatus(&'a AlluxioPath),
    /// Reading a file or its block locations, `free`: read on the path.
    Read(&'a AlluxioPath),
    /// `listStatus` of a directory: read and execute on it (a file: read).
    List(&'a AlluxioPath),
    /// `createFile`, `createDirectory`: write on the deepest existing ancestor.
    Create(&'a AlluxioPath),
    /// Writing an existing file (new blocks, `completeFile`, persisting): write on it, unless
    /// the caller owns the file and it is still being written.
    Write(&'a AlluxioPath),
    /// `delete`: write on the parent; with `recursive`, write on everything below too.
    Delete { path: &'a AlluxioPath, recursive: bool },
    /// `rename`: write on both parents.
    Rename { src: &'a AlluxioPath, dst: &'a AlluxioPath },
    /// `setAttribute`: chown by the superuser, chgrp and chmod by the owner (chgrp to one of the
    /// owner's groups), anything else with write on the path (and below with `recursive`).
    SetAttribute { path: &'a AlluxioPath, owner: Option<&'a str>, group: Option<&'a str>, mode: bool, recursive: bool },
    /// `mount`, `unmount`, `updateMount`: the superuser only.
    Mount(&'a AlluxioPath),
    /// `checkAccess`: the asked bits on the path.
    Check(&'a AlluxioPath, Bits),
}

/// The caller of an operation and the rules it is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Access<'a> {
    pub caller: &'a Caller,
    pub perms: &'a Permissions,
}

impl Access<'_> {
    /// Decides whether the caller may run `op` on `ns`; the refusal names the user, the bits,
    /// the path and the inode that failed, as Alluxio words it. Paths that do not exist pass
    /// (the plan then reports them).
    pub fn authorize(&self, ns: &Namespace, op: Op<'_>) -> PlanResult<()> {
        if !self.perms.enabled || self.perms.is_super(self.caller) {
            return Ok(());
        }
        match op {
            Op::GetStatus(p) => self.check_parent(ns, p, Bits::EXECUTE),
            Op::Read(p) => self.check(ns, p, Bits::READ),
            Op::List(p) => match ns.find(p) {
                Some(n) if n.is_dir() => self.check(ns, p, Bits::READ | Bits::EXECUTE),
                _ => self.check(ns, p, Bits::READ),
            },
            Op::Create(p) => self.check_parent(ns, p, Bits::WRITE),
            Op::Write(p) => match ns.find(p) {
                Some(n) if *n.owner == *self.caller.user && n.file().is_some_and(|f| !f.completed) => {
                    self.check(ns, p, Bits::NONE)
                }
                _ => self.check(ns, p, Bits::WRITE),
            },
            Op::Delete { path, recursive } => {
                self.check_parent(ns, path, Bits::WRITE)?;
                self.check_sticky(ns, path, "delete")?;
                if recursive {
                    self.check_subtree(ns, path)?;
                }
                Ok(())
            }
            Op::Rename { src, dst } => {
                self.check_parent(ns, src, Bits::WRITE)?;
                self.check_sticky(ns, src, "rename")?;
                self.check_parent(ns, dst, Bits::WRITE)
            }
            Op::SetAttribute { path, owner, group, mode, recursive } => {
                self.check_set_attribute(ns, path, owner, group, mode, recursive)
            }
            Op::Mount(_) => Err(self.not_super()),
            Op::Check(p, bits) => self.check(ns, p, bits),
        }
    }

    /// The superuser only (when permissions are checked).
    pub fn require_super(&self) -> PlanResult<()> {
        if !self.perms.enabled || self.perms.is_super(self.caller) {
            return Ok(());
        }
        Err(self.not_super())
    }

    /// Whether `n` grants `bits` to the caller by its owner, group or other bits and its ACL.
    pub fn allows(&self, n: &Inode, bits: Bits) -> bool {
        let c = self.caller;
        let acl = n.acl.as_ref().and_then(|a| a.access.as_ref());
        let granted = crate::acl::granted(n.mode, &n.owner, &n.group, acl, &c.user, |g| c.in_group(g));
        Bits(granted).contains(bits)
    }

    /// Alluxio's checkPermission: execute on the ancestors, `bits` on the path itself (or on
    /// its deepest existing ancestor when it does not exist).
    fn check(&self, ns: &Namespace, path: &AlluxioPath, bits: Bits) -> PlanResult<()> {
        let (chain, _) = chain(ns, path);
        self.check_chain(&chain, path, bits)
    }

    /// Alluxio's checkParentPermission: as [`check`](Self::check), on the parent.
    fn check_parent(&self, ns: &Namespace, path: &AlluxioPath, bits: Bits) -> PlanResult<()> {
        if path.is_root() {
            return Ok(());
        }
        let (mut chain, exists) = chain(ns, path);
        if exists {
            chain.pop();
        }
        self.check_chain(&chain, path, bits)
    }

    fn check_chain(&self, chain: &[&Inode], path: &AlluxioPath, bits: Bits) -> PlanResult<()> {
        let Some((last, ancestors)) = chain.split_last() else { return Ok(()) };
        for n in ancestors {
            self.check_inode(n, path, Bits::EXECUTE)?;
        }
        self.check_inode(last, path, bits)
    }

    fn check_inode(&self, n: &Inode, path: &AlluxioPath, bits: Bits) -> PlanResult<()> {
        if self.allows(n, bits) {
            return Ok(());
        }
        Err(FsError::AccessDenied(Box::new(Denial {
            user: self.caller.user.clone(),
            access: bits,
            path: path.clone(),
            failed_at: if n.name.is_empty() { "/".into() } else { n.name.to_string() },
            owner: n.owner.to_string(),
            group: n.group.to_string(),
            mode: n.mode,
        })))
    }

    /// The sticky bit of the parent keeps `path` to its owner and the parent's owner.
    fn check_sticky(&self, ns: &Namespace, path: &AlluxioPath, op: &'static str) -> PlanResult<()> {
        let Some(parent) = path.parent().and_then(|p| ns.find(&p)) else { return Ok(()) };
        let Some(n) = ns.find(path) else { return Ok(()) };
        let user = &*self.caller.user;
        if parent.mode & STICKY == 0 || *n.owner == *user || *parent.owner == *user {
            return Ok(());
        }
        Err(FsError::StickyBit {
            user: user.to_owned(),
            op,
            path: path.clone(),
            owner: n.owner.to_string(),
            dir_owner: parent.owner.to_string(),
        })
    }

    /// A recursive delete: write on everything below `path`, execute on the directories to
    /// reach it.
    fn check_subtree(&self, ns: &Namespace, path: &AlluxioPath) -> PlanResult<()> {
        let Some(top) = ns.find(path) else { return Ok(()) };
        for n in ns.subtree(top.id) {
            let has_children = n.dir().is_some_and(|d| !d.children.is_empty());
            let mut bits = if has_children { Bits::EXECUTE } else { Bits::NONE };
            if n.id != top.id {
                bits = bits | Bits::WRITE;
            }
            if !self.allows(n, bits) {
                let at = ns.path_of(n.id).unwrap_or_else(|| path.clone());
                return self.check_inode(n, &at, bits);
            }
        }
        Ok(())
    }

    fn check_set_attribute(
        &self,
        ns: &Namespace,
        path: &AlluxioPath,
        owner: Option<&str>,
        group: Option<&str>,
        mode: bool,
        recursive: bool,
    ) -> PlanResult<()> {
        if owner.is_some() {
            return Err(self.not_super());
        }
        if group.is_some() || mode {
            let (chain, _) = chain(ns, path);
            let Some((last, ancestors)) = chain.split_last() else { return Ok(()) };
            for n in ancestors {
                self.check_inode(n, path, Bits::EXECUTE)?;
            }
            if *last.owner != *self.caller.user {
                return Err(FsError::NotOwner { user: self.caller.user.clone(), path: path.clone() });
            }
            if let Some(g) = group.filter(|g| !self.caller.in_group(g)) {
                return Err(FsError::NotInGroup {
                    user: self.caller.user.clone(),
                    group: g.to_owned(),
                    path: path.clone(),
                });
            }
            return Ok(());
        }
        self.check(ns, path, Bits::WRITE)?;
        if recursive {
            if let Some(top) = ns.find(path) {
                for n in ns.subtree(top.id).into_iter().filter(|n| n.id != top.id) {
                    if !self.allows(n, Bits::WRITE) {
                        let at = ns.path_of(n.id).unwrap_or_else(|| path.clone());
                        return self.check_inode(n, &at, Bits::WRITE);
                    }
                }
            }
        }
        Ok(())
    }

    fn not_super(&self) -> FsError {
        FsError::NotSuperUser { user: self.caller.user.clone() }
    }
}

/// The existing inodes on `path` from the root down, and whether the whole path exists.
fn chain<'a>(ns: &'a Namespace, path: &AlluxioPath) -> (Vec<&'a Inode>, bool) {
    let Some(mut cur) = ns.root_id().and_then(|r| ns.get(r)) else { return (Vec::new(), false) };
    let mut out = vec![cur];
    for name in path.components() {
        let next = cur.dir().and_then(|d| d.children.get(name)).and_then(|id| ns.get(*id));
        match next {
            Some(n) => {
                out.push(n);
                cur = n;
            }
            None => return (out, false),
        }
    }
    (out, true)
}

#[cfg(test)]
mod tests {
    use alluxio_proto::journal::journal_entry::Entry;
    use alluxio_proto::journal::{InodeDirectoryEntry, InodeFileEntry};
    use proptest::prelude::*;

    use super::*;
    use crate::inode::NO_PARENT;
    use crate::namespace::tests::{dir_entry, file_entry};
    use crate::namespace::IdAllocator;

    fn p(s: &str) -> AlluxioPath {
        AlluxioPath::parse(s).unwrap()
    }

    /// An owner, a group and a mode.
    type Perm = (&'static str, &'static str, i32);

    /// `/` (root:root 0755), `/d` and `/d/f` (complete) with the given permissions.
    fn tree(d: Perm, f: Perm) -> Namespace {
        tree_under(("root", "root", 0o755), d, f)
    }

    fn tree_under(root_perm: Perm, d: Perm, f: Perm) -> Namespace {
        let mut ns = Namespace::new();
        let mut ids = IdAllocator::new(&ns);
        let mut entries = Vec::new();
        let (root, dir) = (ids.directory_id(&mut entries), ids.directory_id(&mut entries));
        let file = ids.file_id(&mut entries);
        let set_dir = |e: Entry, (o, g, m): Perm| match e {
            Entry::InodeDirectory(x) => {
                Entry::InodeDirectory(InodeDirectoryEntry { owner: o.into(), group: g.into(), mode: m, ..x })
            }
            e => e,
        };
        entries.push(set_dir(dir_entry(root, NO_PARENT, ""), root_perm));
        entries.push(set_dir(dir_entry(dir, root, "d"), d));
        entries.push(match file_entry(file, dir, "f", 3) {
            Entry::InodeFile(x) => {
                Entry::InodeFile(InodeFileEntry { owner: f.0.into(), group: f.1.into(), mode: f.2, ..x })
            }
            e => e,
        });
        for e in &entries {
            ns.apply_entry(e, &mut Vec::new()).unwrap();
        }
        ns
    }

    fn caller(user: &str) -> Caller {
        let groups: Vec<String> = match user {
            "alice" => vec!["staff".into()],
            "bob" => vec!["other".into()],
            "carol" => vec!["other".into(), "staff".into()],
            "admin" => vec!["admin".into(), "supergroup".into()],
            _ => vec![user.into()],
        };
        Caller { user: user.into(), group: groups[0].clone(), groups }
    }

    fn perms(enabled: bool) -> Permissions {
        Permissions { enabled, super_user: "root".into(), supergroup: "supergroup".into() }
    }

    /// POSIX, written out: the bits a class of users gets from an inode.
    fn bits(c: &Caller, (o, g, m): Perm) -> i32 {
        if c.user == o {
            (m >> 6) & 7
        } else if c.groups.iter().any(|x| x == g) {
            (m >> 3) & 7
        } else {
            m & 7
        }
    }

    #[derive(Debug, Clone, Copy)]
    enum Case {
        Stat,
        Open,
        List,
        Create,
        Write,
        Delete,
        Rename,
        Chmod,
        Chown,
        Chgrp,
        Pin,
        Mount,
    }

    /// The model's answer: may `c` do `case` on `/d/f` (`/d` for listing and creating `/d/g`)?
    fn model(c: &Caller, case: Case, d: Perm, f: Perm) -> bool {
        if c.user == "root" || c.groups.iter().any(|g| g == "supergroup") {
            return true;
        }
        let (r, w, x) = (4, 2, 1);
        let has = |bits_of: i32, want: i32| bits_of & want == want;
        let (bd, bf) = (bits(c, d), bits(c, f));
        // The root is 0755 root:root: everyone may search it.
        let sticky_ok = d.2 & STICKY == 0 || c.user == f.0 || c.user == d.0;
        match case {
            Case::Stat => has(bd, x),
            Case::Open => has(bd, x) && has(bf, r),
            Case::List => has(bd, r | x),
            Case::Create => has(bd, w),
            Case::Write | Case::Pin => has(bd, x) && has(bf, w),
            Case::Delete | Case::Rename => has(bd, w) && sticky_ok,
            Case::Chmod => has(bd, x) && c.user == f.0,
            Case::Chgrp => has(bd, x) && c.user == f.0 && c.groups.iter().any(|g| g == "staff"),
            Case::Chown | Case::Mount => false,
        }
    }

    fn ask(ns: &Namespace, c: &Caller, case: Case) -> PlanResult<()> {
        let (d, f, g, h) = (p("/d"), p("/d/f"), p("/d/g"), p("/d/h"));
        let perms = perms(true);
        let access = Access { caller: c, perms: &perms };
        let set = |owner, group, mode| Op::SetAttribute { path: &f, owner, group, mode, recursive: false };
        let op = match case {
            Case::Stat => Op::GetStatus(&f),
            Case::Open => Op::Read(&f),
            Case::List => Op::List(&d),
            Case::Create => Op::Create(&g),
            Case::Write => Op::Write(&f),
            Case::Delete => Op::Delete { path: &f, recursive: false },
            Case::Rename => Op::Rename { src: &f, dst: &h },
            Case::Chmod => set(None, None, true),
            Case::Chown => set(Some("bob"), None, false),
            Case::Chgrp => set(None, Some("staff"), false),
            Case::Pin => set(None, None, false),
            Case::Mount => Op::Mount(&g),
        };
        access.authorize(ns, op)
    }

    fn perm() -> impl Strategy<Value = Perm> {
        (prop_oneof![Just("alice"), Just("bob")], prop_oneof![Just("staff"), Just("other")], 0..0o2000i32)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Every operation x owner/group/other x each mode bit x the sticky bit, against the model.
        #[test]
        fn every_operation_agrees_with_posix(d in perm(), f in perm()) {
            let ns = tree(d, f);
            let cases = [Case::Stat, Case::Open, Case::List, Case::Create, Case::Write, Case::Delete,
                Case::Rename, Case::Chmod, Case::Chown, Case::Chgrp, Case::Pin, Case::Mount];
            for user in ["alice", "bob", "carol", "root", "admin"] {
                let c = caller(user);
                for case in cases {
                    let got = ask(&ns, &c, case);
                    prop_assert_eq!(got.is_ok(), model(&c, case, d, f), "{} {:?} d={:?} f={:?}: {:?}", user, case, d, f, got);
                    if let Err(e) = got {
                        prop_assert_eq!(alluxio_common::status::HasCode::code(&e), alluxio_common::status::Code::PermissionDenied);
                    }
                }
            }
        }
    }

    #[test]
    fn refusals_are_worded_as_alluxio_words_them() {
        let ns = tree(("alice", "staff", 0o750), ("alice", "staff", 0o640));
        let bob = caller("bob");
        let e = ask(&ns, &bob, Case::Open).unwrap_err().to_string();
        assert_eq!(
            e,
            "Permission denied: user=bob, access=--x, path=/d/f: failed at d, inode owner=alice, \
             inode group=staff, inode mode=rwxr-x---"
        );
        let e = ask(&ns, &bob, Case::Chown).unwrap_err().to_string();
        assert_eq!(e, "Permission denied: bob is not a super user or in super group");
        let ns = tree(("alice", "staff", 0o755), ("alice", "staff", 0o644));
        let e = ask(&ns, &bob, Case::Chmod).unwrap_err().to_string();
        assert_eq!(e, "Permission denied: user=bob is not the owner of path=/d/f");
        let e = ask(&ns, &caller("carol"), Case::Write).unwrap_err().to_string();
        assert!(e.contains("access=-w-") && e.contains("failed at f") && e.contains("inode mode=rw-r--r--"), "{e}");
    }

    #[test]
    fn checks_off_and_missing_paths_pass() {
        let ns = tree(("alice", "staff", 0o700), ("alice", "staff", 0o600));
        let off = perms(false);
        let bob = caller("bob");
        let access = Access { caller: &bob, perms: &off };
        assert!(access.authorize(&ns, Op::Delete { path: &p("/d/f"), recursive: false }).is_ok());
        // Creating below a missing directory is judged on its deepest existing ancestor.
        let on = perms(true);
        let access = Access { caller: &bob, perms: &on };
        assert!(access.authorize(&ns, Op::Create(&p("/x/y/z"))).is_err());
        assert!(access.authorize(&ns, Op::GetStatus(&p("/x/y"))).is_ok());
    }

    #[test]
    fn a_recursive_delete_needs_write_on_everything_below() {
        let open_root = ("root", "root", 0o777);
        let perms = perms(true);
        let bob = caller("bob");
        let access = Access { caller: &bob, perms: &perms };
        let ns = tree_under(open_root, ("alice", "staff", 0o777), ("alice", "staff", 0o444));
        let e = access.authorize(&ns, Op::Delete { path: &p("/d"), recursive: true }).unwrap_err();
        assert!(e.to_string().contains("access=-w-, path=/d/f: failed at f"), "{e}");
        assert!(access.authorize(&ns, Op::Delete { path: &p("/d/f"), recursive: false }).is_ok());
        let ns = tree_under(open_root, ("alice", "staff", 0o777), ("alice", "staff", 0o666));
        assert!(access.authorize(&ns, Op::Delete { path: &p("/d"), recursive: true }).is_ok());
    }
}
