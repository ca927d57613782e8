//! Access control lists, as Alluxio (and HDFS, and POSIX.1e) define them: named users and
//! groups beyond a file's owner, group and other, a mask capping them, and on directories a
//! default ACL that new children inherit.
//!
//! Representation: the owner and other entries *are* the mode's owner and other bits, and
//! with named entries the mode's group bits are the mask (so `chmod g=` sets the mask, as in
//! POSIX), the owning group's own bits being kept in [`AccessAcl::group_obj`]. Everything here
//! is pure: parsing and printing entries, applying `setfacl` actions, the permission a caller
//! gets, and what a new child inherits.

use std::collections::BTreeMap;
use std::fmt;

/// `rwx` as 4, 2, 1.
pub type Actions = u8;

/// What an access ACL adds to the mode: named users and groups and the owning group's own
/// bits (the mode's group bits are the mask).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessAcl {
    pub users: BTreeMap<String, Actions>,
    pub groups: BTreeMap<String, Actions>,
    pub group_obj: Actions,
}

/// A directory's default ACL: the access ACL its new children start from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefaultAcl {
    pub user_obj: Actions,
    pub group_obj: Actions,
    pub other: Actions,
    pub users: BTreeMap<String, Actions>,
    pub groups: BTreeMap<String, Actions>,
    /// Present exactly when there are named entries.
    pub mask: Option<Actions>,
}

/// An inode's ACLs beyond its mode; `None` parts are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acl {
    pub access: Option<AccessAcl>,
    pub default: Option<DefaultAcl>,
}

impl Acl {
    pub fn is_empty(&self) -> bool {
        self.access.is_none() && self.default.is_none()
    }
}

/// Who an entry is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tag {
    /// `user::` (no name, the owner) or `user:<name>:`.
    User(Option<String>),
    /// `group::` (the owning group) or `group:<name>:`.
    Group(Option<String>),
    Mask,
    Other,
}

/// One `[default:]type:[name]:rwx` entry (`actions` is `None` in a removal spec).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub default: bool,
    pub tag: Tag,
    pub actions: Actions,
}

/// A malformed entry or a request ACLs cannot satisfy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AclError {
    #[error("Invalid ACL entry {entry}: {reason}")]
    Malformed { entry: String, reason: &'static str },
    #[error("Invalid ACL: {0}")]
    Invalid(&'static str),
}

fn parse_actions(s: &str) -> Option<Actions> {
    let b = s.as_bytes();
    if b.len() != 3 {
        return None;
    }
    let bit = |i: usize, ch: u8, v: u8| match b[i] {
        c if c == ch => Some(v),
        b'-' => Some(0),
        _ => None,
    };
    Some(bit(0, b'r', 4)? | bit(1, b'w', 2)? | bit(2, b'x', 1)?)
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.default {
            f.write_str("default:")?;
        }
        let (kind, name) = match &self.tag {
            Tag::User(n) => ("user", n.as_deref().unwrap_or("")),
            Tag::Group(n) => ("group", n.as_deref().unwrap_or("")),
            Tag::Mask => ("mask", ""),
            Tag::Other => ("other", ""),
        };
        // `rwx` as the permission checks print bits.
        write!(f, "{kind}:{name}:{}", crate::namespace::plan::Bits(self.actions))
    }
}

impl Entry {
    /// Parses `[default:]user|group|mask|other:[name][:rwx]`; `with_actions` false is the
    /// form `setfacl -x` takes (actions optional and ignored).
    pub fn parse(text: &str, with_actions: bool) -> Result<Entry, AclError> {
        let bad = |reason| AclError::Malformed { entry: text.to_owned(), reason };
        let (default, rest) = match text.strip_prefix("default:") {
            Some(r) => (true, r),
            None => (false, text),
        };
        let parts: Vec<&str> = rest.split(':').collect();
        let (kind, name, actions) = match (parts.as_slice(), with_actions) {
            ([k, n, a], _) => (*k, *n, Some(*a)),
            ([k, n], false) => (*k, *n, None),
            ([k], false) => (*k, "", None),
            _ => return Err(bad("expected type:name:permissions, e.g. user:alice:rwx")),
        };
        let name = (!name.is_empty()).then(|| name.to_owned());
        let tag = match kind {
            "user" => Tag::User(name),
            "group" => Tag::Group(name),
            "mask" if name.is_none() => Tag::Mask,
            "other" if name.is_none() => Tag::Other,
            "mask" | "other" => return Err(bad("mask and other entries take no name")),
            _ => return Err(bad("the type must be user, group, mask or other")),
        };
        let actions = match actions {
            Some(a) => parse_actions(a).ok_or_else(|| bad("permissions are three of r, w, x or -, e.g. r-x"))?,
            None => 0,
        };
        Ok(Entry { default, tag, actions })
    }

    /// Parses a comma-separated list.
    pub fn parse_list(text: &str, with_actions: bool) -> Result<Vec<Entry>, AclError> {
        text.split(',').filter(|s| !s.trim().is_empty()).map(|s| Entry::parse(s.trim(), with_actions)).collect()
    }

    fn access(tag: Tag, actions: Actions) -> Entry {
        Entry { default: false, tag, actions }
    }

    fn default(tag: Tag, actions: Actions) -> Entry {
        Entry { default: true, tag, actions }
    }
}

/// What `setfacl` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `-m`: add or change these entries.
    Modify(Vec<Entry>),
    /// `-x`: remove these (named or mask) entries.
    Remove(Vec<Entry>),
    /// `-b`: back to the mode alone (the default ACL goes too).
    RemoveAll,
    /// `-k`: remove the default ACL.
    RemoveDefault,
    /// `--set`: exactly these entries (user::, group:: and other:: required).
    Replace(Vec<Entry>),
}

impl Action {
    /// The same action for a file below a directory `setfacl -R` changes: default entries
    /// apply to directories only.
    pub fn without_defaults(&self) -> Action {
        let keep = |v: &[Entry]| v.iter().filter(|e| !e.default).cloned().collect();
        match self {
            Action::Modify(v) => Action::Modify(keep(v)),
            Action::Remove(v) => Action::Remove(keep(v)),
            Action::Replace(v) => Action::Replace(keep(v)),
            other => other.clone(),
        }
    }
}

/// Every entry of an inode, in getfacl's order: the access entries, then the default ones.
pub fn entries(mode: i32, acl: Option<&Acl>) -> Vec<Entry> {
    let bits = |shift: i32| ((mode >> shift) & 7) as Actions;
    let mut out = vec![Entry::access(Tag::User(None), bits(6))];
    match acl.and_then(|a| a.access.as_ref()) {
        None => out.push(Entry::access(Tag::Group(None), bits(3))),
        Some(a) => {
            out.extend(a.users.iter().map(|(n, x)| Entry::access(Tag::User(Some(n.clone())), *x)));
            out.push(Entry::access(Tag::Group(None), a.group_obj));
            out.extend(a.groups.iter().map(|(n, x)| Entry::access(Tag::Group(Some(n.clone())), *x)));
            out.push(Entry::access(Tag::Mask, bits(3)));
        }
    }
    out.push(Entry::access(Tag::Other, bits(0)));
    if let Some(d) = acl.and_then(|a| a.default.as_ref()) {
        out.push(Entry::default(Tag::User(None), d.user_obj));
        out.extend(d.users.iter().map(|(n, x)| Entry::default(Tag::User(Some(n.clone())), *x)));
        out.push(Entry::default(Tag::Group(None), d.group_obj));
        out.extend(d.groups.iter().map(|(n, x)| Entry::default(Tag::Group(Some(n.clone())), *x)));
        if let Some(m) = d.mask {
            out.push(Entry::default(Tag::Mask, m));
        }
        out.push(Entry::default(Tag::Other, d.other));
    }
    out
}

/// The entries of one kind (access or default) as a map, for editing.
type Set = BTreeMap<Tag, Actions>;

/// Applies a `setfacl` action to an inode's mode and ACL; returns the new mode and ACL
/// (`None` when only the mode remains). Default entries on a file are refused.
pub fn apply(mode: i32, acl: Option<&Acl>, action: &Action, is_dir: bool) -> Result<(i32, Option<Acl>), AclError> {
    let current = entries(mode, acl);
    let split = |v: &[Entry], default: bool| -> Set {
        v.iter().filter(|e| e.default == default).map(|e| (e.tag.clone(), e.actions)).collect()
    };
    let (mut access, mut default) = (split(&current, false), split(&current, true));
    let given: &[Entry] = match action {
        Action::Modify(v) | Action::Remove(v) | Action::Replace(v) => v,
        _ => &[],
    };
    if !is_dir && given.iter().any(|e| e.default) {
        return Err(AclError::Invalid("only directories have a default ACL"));
    }
    let mask_given = |default: bool| given.iter().any(|e| e.default == default && e.tag == Tag::Mask);
    match action {
        Action::Modify(v) => {
            for e in v {
                let set = if e.default { &mut default } else { &mut access };
                set.insert(e.tag.clone(), e.actions);
            }
        }
        Action::Remove(v) => {
            for e in v {
                if matches!(e.tag, Tag::User(None) | Tag::Group(None) | Tag::Other) {
                    return Err(AclError::Invalid("the user::, group:: and other:: entries cannot be removed"));
                }
                let set = if e.default { &mut default } else { &mut access };
                set.remove(&e.tag);
            }
        }
        Action::RemoveAll => {
            access.retain(|t, _| matches!(t, Tag::User(None) | Tag::Group(None) | Tag::Other));
            default.clear();
        }
        Action::RemoveDefault => default.clear(),
        Action::Replace(v) => {
            access = split(v, false);
            for base in [Tag::User(None), Tag::Group(None), Tag::Other] {
                if !access.contains_key(&base) {
                    return Err(AclError::Invalid("--set needs the user::, group:: and other:: entries"));
                }
            }
            default = split(v, true);
        }
    }
    let new_mode = build_access(mode, &mut access, mask_given(false));
    let default = build_default(&mut default, &access, mask_given(true));
    let access_acl = extended(&access);
    let acl = Acl { access: access_acl, default };
    Ok((new_mode, (!acl.is_empty()).then_some(acl)))
}

fn named(set: &Set) -> impl Iterator<Item = (&Tag, &Actions)> {
    set.iter().filter(|(t, _)| matches!(t, Tag::User(Some(_)) | Tag::Group(Some(_))))
}

/// The mode an access entry set gives: the mask (recomputed unless given) as group bits when
/// there are named entries. Drops a lone mask.
fn build_access(mode: i32, access: &mut Set, mask_given: bool) -> i32 {
    let get = |s: &Set, t: &Tag| *s.get(t).unwrap_or(&0) as i32;
    let has_named = named(access).next().is_some();
    if has_named && !mask_given {
        let union = named(access).fold(get(access, &Tag::Group(None)) as Actions, |m, (_, a)| m | a);
        access.insert(Tag::Mask, union);
    }
    if !has_named {
        access.remove(&Tag::Mask);
    }
    let group_bits = if has_named { get(access, &Tag::Mask) } else { get(access, &Tag::Group(None)) };
    (mode & !0o777) | get(access, &Tag::User(None)) << 6 | group_bits << 3 | get(access, &Tag::Other)
}

fn extended(access: &Set) -> Option<AccessAcl> {
    let mut out = AccessAcl { group_obj: *access.get(&Tag::Group(None)).unwrap_or(&0), ..Default::default() };
    for (t, a) in named(access) {
        match t {
            Tag::User(Some(n)) => out.users.insert(n.clone(), *a),
            Tag::Group(Some(n)) => out.groups.insert(n.clone(), *a),
            _ => None,
        };
    }
    (!out.users.is_empty() || !out.groups.is_empty()).then_some(out)
}

/// A default entry set made whole: missing base entries copied from the access ones (as
/// setfacl does), the mask recomputed unless given. `None` when empty.
fn build_default(default: &mut Set, access: &Set, mask_given: bool) -> Option<DefaultAcl> {
    if default.is_empty() {
        return None;
    }
    for base in [Tag::User(None), Tag::Group(None), Tag::Other] {
        if !default.contains_key(&base) {
            default.insert(base.clone(), *access.get(&base).unwrap_or(&0));
        }
    }
    let has_named = named(default).next().is_some();
    let get = |t: &Tag| *default.get(t).unwrap_or(&0);
    let mask = match (has_named, mask_given) {
        (false, _) => None,
        (true, true) => Some(get(&Tag::Mask)),
        (true, false) => Some(named(default).fold(get(&Tag::Group(None)), |m, (_, a)| m | a)),
    };
    let mut out = DefaultAcl {
        user_obj: get(&Tag::User(None)),
        group_obj: get(&Tag::Group(None)),
        other: get(&Tag::Other),
        mask,
        ..Default::default()
    };
    for (t, a) in named(default) {
        match t {
            Tag::User(Some(n)) => out.users.insert(n.clone(), *a),
            Tag::Group(Some(n)) => out.groups.insert(n.clone(), *a),
            _ => None,
        };
    }
    Some(out)
}

/// The bits a caller gets on an inode with `mode` and access ACL `acl`, by POSIX.1e's
/// algorithm: owner; else a named user entry (masked); else the owning group and named
/// groups it belongs to (masked, any of them); else, only when in none of those groups, other.
pub fn granted(
    mode: i32,
    owner: &str,
    group: &str,
    acl: Option<&AccessAcl>,
    user: &str,
    in_group: impl Fn(&str) -> bool,
) -> Actions {
    let bits = |shift: i32| ((mode >> shift) & 7) as Actions;
    if owner == user {
        return bits(6);
    }
    let Some(acl) = acl else {
        return if in_group(group) { bits(3) } else { bits(0) };
    };
    let mask = bits(3);
    if let Some(a) = acl.users.get(user) {
        return a & mask;
    }
    let mut matched = false;
    let mut union = 0;
    if in_group(group) {
        matched = true;
        union |= acl.group_obj;
    }
    for (g, a) in &acl.groups {
        if in_group(g) {
            matched = true;
            union |= a;
        }
    }
    if matched {
        union & mask
    } else {
        bits(0)
    }
}

/// What a new child of a directory with default ACL `d` gets, created with `mode` (umask
/// not applied: the default ACL replaces it): its mode, its access ACL, and for a directory
/// the same default ACL.
pub fn inherit(d: &DefaultAcl, mode: i32, is_dir: bool) -> (i32, Option<Acl>) {
    let req = |shift: i32| ((mode >> shift) & 7) as Actions;
    let has_named = !d.users.is_empty() || !d.groups.is_empty();
    let group_bits = if has_named { d.mask.unwrap_or(d.group_obj) } else { d.group_obj };
    let new_mode = (mode & !0o777)
        | ((d.user_obj & req(6)) as i32) << 6
        | ((group_bits & req(3)) as i32) << 3
        | (d.other & req(0)) as i32;
    let access =
        has_named.then(|| AccessAcl { users: d.users.clone(), groups: d.groups.clone(), group_obj: d.group_obj });
    let acl = Acl { access, default: is_dir.then(|| d.clone()) };
    (new_mode, (!acl.is_empty()).then_some(acl))
}

/// The journal's form of an ACL: its non-mode entries as text (`user:alice:rwx`,
/// `group::r-x` for the owning group when there are named entries, `default:...`).
pub fn to_journal(acl: Option<&Acl>) -> Vec<String> {
    let Some(acl) = acl else { return Vec::new() };
    entries(0, Some(acl))
        .into_iter()
        .filter(|e| {
            e.default
                || matches!(e.tag, Tag::User(Some(_)) | Tag::Group(Some(_)))
                || (e.tag == Tag::Group(None) && acl.access.is_some())
        })
        .map(|e| e.to_string())
        .collect()
}

/// Rebuilds an ACL from [`to_journal`]'s entries; `None` when there are none.
pub fn from_journal(lines: &[String]) -> Result<Option<Acl>, AclError> {
    if lines.is_empty() {
        return Ok(None);
    }
    let parsed = lines.iter().map(|l| Entry::parse(l, true)).collect::<Result<Vec<_>, _>>()?;
    let mut access = AccessAcl::default();
    let mut def: Set = BTreeMap::new();
    for e in &parsed {
        match (e.default, &e.tag) {
            (true, t) => {
                def.insert(t.clone(), e.actions);
            }
            (false, Tag::User(Some(n))) => {
                access.users.insert(n.clone(), e.actions);
            }
            (false, Tag::Group(Some(n))) => {
                access.groups.insert(n.clone(), e.actions);
            }
            (false, Tag::Group(None)) => access.group_obj = e.actions,
            _ => return Err(AclError::Invalid("the journal holds a mode entry in an ACL")),
        }
    }
    let has_access = !access.users.is_empty() || !access.groups.is_empty();
    let mask_given = def.contains_key(&Tag::Mask);
    let default = build_default(&mut def, &BTreeMap::new(), mask_given);
    let acl = Acl { access: has_access.then_some(access), default };
    Ok((!acl.is_empty()).then_some(acl))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(s: &str) -> Vec<Entry> {
        Entry::parse_list(s, true).unwrap()
    }

    fn shown(mode: i32, acl: Option<&Acl>) -> Vec<String> {
        entries(mode, acl).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn entries_parse_and_print() {
        for s in ["user::rwx", "user:alice:r-x", "group:staff:-w-", "mask::rwx", "other::---", "default:user:bob:rwx"] {
            assert_eq!(Entry::parse(s, true).unwrap().to_string(), s);
        }
        for bad in ["user:alice", "bogus::rwx", "mask:x:rwx", "user::rwz", "user::rw"] {
            assert!(Entry::parse(bad, true).is_err(), "{bad}");
        }
        assert_eq!(Entry::parse("user:alice", false).unwrap().tag, Tag::User(Some("alice".into())));
    }

    #[test]
    fn a_named_user_brings_a_mask_and_chmod_moves_it() {
        let (mode, acl) = apply(0o640, None, &Action::Modify(e("user:bob:rwx")), false).unwrap();
        assert_eq!(mode, 0o670, "the mask (group bits) covers bob's rwx");
        assert_eq!(shown(mode, acl.as_ref()), ["user::rw-", "user:bob:rwx", "group::r--", "mask::rwx", "other::---"]);
        let a = acl.as_ref().unwrap().access.as_ref().unwrap();
        assert_eq!(granted(mode, "alice", "staff", Some(a), "bob", |_| false), 7);
        // chmod 640 narrows the mask: bob keeps only r--.
        assert_eq!(granted(0o640, "alice", "staff", Some(a), "bob", |_| false), 4);
        // -b: back to the mode; the owning group's own bits return as group bits.
        let (mode, acl) = apply(mode, acl.as_ref(), &Action::RemoveAll, false).unwrap();
        assert_eq!((mode, acl), (0o640, None));
    }

    #[test]
    fn groups_deny_without_falling_through_to_other() {
        let (mode, acl) = apply(0o604, None, &Action::Modify(e("group:interns:---")), false).unwrap();
        let a = acl.unwrap().access.unwrap();
        let interns = |g: &str| g == "interns";
        assert_eq!(granted(mode, "alice", "staff", Some(&a), "carol", interns), 0, "interns get nothing");
        assert_eq!(granted(mode, "alice", "staff", Some(&a), "dave", |_| false), 4, "others read");
    }

    #[test]
    fn remove_set_and_defaults() {
        let (m, acl) = apply(0o750, None, &Action::Modify(e("user:bob:r-x,default:user:bob:rwx")), true).unwrap();
        let acl = acl.unwrap();
        assert_eq!(
            shown(m, Some(&acl)),
            [
                "user::rwx",
                "user:bob:r-x",
                "group::r-x",
                "mask::r-x",
                "other::---",
                "default:user::rwx",
                "default:user:bob:rwx",
                "default:group::r-x",
                "default:mask::rwx",
                "default:other::---"
            ]
        );
        let (m2, acl2) = apply(m, Some(&acl), &Action::Remove(e("user:bob:---")), true).unwrap();
        assert_eq!(m2, 0o750);
        assert!(acl2.as_ref().unwrap().access.is_none() && acl2.as_ref().unwrap().default.is_some());
        let (_, acl3) = apply(m2, acl2.as_ref(), &Action::RemoveDefault, true).unwrap();
        assert_eq!(acl3, None);
        assert!(apply(m, Some(&acl), &Action::Remove(e("user::rwx")), true).is_err());
        assert!(apply(0o644, None, &Action::Modify(e("default:user:bob:rwx")), false).is_err());
        assert!(apply(0o644, None, &Action::Replace(e("user::rwx,other::---")), false).is_err());
        let (m4, acl4) = apply(0o777, None, &Action::Replace(e("user::rw-,group::r--,other::---")), false).unwrap();
        assert_eq!((m4, acl4), (0o640, None));
    }

    #[test]
    fn children_inherit_the_default_acl_without_the_umask() {
        let (_, acl) = apply(0o755, None, &Action::Modify(e("default:user:bob:rwx,default:other::---")), true).unwrap();
        let d = acl.unwrap().default.unwrap();
        let (fmode, facl) = inherit(&d, 0o666, false);
        assert_eq!(fmode, 0o660, "file: rw of user::rwx, mask rwx & rw-, other --- ");
        let facl = facl.unwrap();
        assert_eq!(facl.access.as_ref().unwrap().users["bob"], 7);
        assert!(facl.default.is_none());
        let (dmode, dacl) = inherit(&d, 0o777, true);
        assert_eq!(dmode, 0o770);
        assert_eq!(dacl.unwrap().default.unwrap(), d);
    }

    /// POSIX.1e's access check read off getfacl's entries (the text a user sees): the model
    /// [`granted`] must agree with.
    fn model(entries: &[Entry], owner: &str, group: &str, user: &str, groups: &[&str]) -> Actions {
        let get = |t: &Tag| entries.iter().find(|e| !e.default && e.tag == *t).map(|e| e.actions);
        if user == owner {
            return get(&Tag::User(None)).unwrap();
        }
        let mask = get(&Tag::Mask).unwrap_or(7);
        if let Some(a) = get(&Tag::User(Some(user.to_owned()))) {
            return a & mask;
        }
        let mut matched = None;
        for e in entries.iter().filter(|e| !e.default) {
            let hit = match &e.tag {
                Tag::Group(None) => groups.contains(&group),
                Tag::Group(Some(g)) => groups.contains(&g.as_str()),
                _ => false,
            };
            if hit {
                matched = Some(matched.unwrap_or(0) | e.actions);
            }
        }
        match matched {
            Some(a) => a & mask,
            None => get(&Tag::Other).unwrap(),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]
        /// After any sequence of setfacl actions and chmods, what a user gets is what the
        /// entries getfacl prints say, for the owner, named users, group members and others.
        #[test]
        fn checks_match_the_entries_getfacl_shows(
            mode in 0..0o1000i32,
            steps in proptest::collection::vec((0..4u8, 0..3usize, 0..3usize, 0..8u8, 0..0o1000i32), 0..6),
            user in 0..4usize,
            in_groups in proptest::collection::vec(proptest::bool::ANY, 3),
        ) {
            let users = ["alice", "bob", "carol", "dave"];
            let groups = ["staff", "ops", "interns"];
            let (mut mode, mut acl) = (mode, None::<Acl>);
            for (kind, u, g, bits, chmod) in steps {
                let action = match kind {
                    0 => Action::Modify(vec![Entry::access(Tag::User(Some(users[1 + u].into())), bits)]),
                    1 => Action::Modify(vec![Entry::access(Tag::Group(Some(groups[g].into())), bits)]),
                    2 => Action::Remove(vec![Entry::access(Tag::User(Some(users[1 + u].into())), 0)]),
                    _ => {
                        mode = chmod; // chmod: the group bits are the mask when there is an ACL
                        continue;
                    }
                };
                let (m, a) = apply(mode, acl.as_ref(), &action, false).unwrap();
                mode = m;
                acl = a;
            }
            let member: Vec<&str> = groups.iter().zip(&in_groups).filter(|(_, m)| **m).map(|(g, _)| *g).collect();
            let shown = entries(mode, acl.as_ref());
            let access = acl.as_ref().and_then(|a| a.access.as_ref());
            let got = granted(mode, "alice", "staff", access, users[user], |g| member.contains(&g));
            proptest::prop_assert_eq!(got, model(&shown, "alice", "staff", users[user], &member));
        }
    }

    #[test]
    fn journal_form_round_trips() {
        let (_, acl) =
            apply(0o750, None, &Action::Modify(e("user:bob:r-x,group:ops:rw-,default:user:bob:rwx")), true).unwrap();
        let lines = to_journal(acl.as_ref());
        assert_eq!(from_journal(&lines).unwrap(), acl);
        assert_eq!(from_journal(&[]).unwrap(), None);
        assert_eq!(to_journal(None), Vec::<String>::new());
    }
}
