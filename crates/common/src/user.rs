//! Users and groups: the identity of the local process (SIMPLE authentication asserts it) and
//! the names of file owners. Every lookup goes through the reentrant `getpw*_r`/`getgr*_r`
//! calls, written once here, because lookups run on concurrent blocking threads and the
//! non-reentrant forms return shared static storage.

use std::ffi::{CStr, CString};

/// The password-database entry fields this project needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    pub name: String,
    pub gid: u32,
}

/// Runs a reentrant lookup with a growing buffer until it fits. `call` fills `out` and returns
/// the libc error number (0 on success, found or not).
fn with_buffer<T>(mut call: impl FnMut(&mut [libc::c_char], *mut *mut T) -> libc::c_int) -> Option<Vec<libc::c_char>> {
    let mut size = 1024;
    loop {
        let mut buf = vec![0 as libc::c_char; size];
        let mut result: *mut T = std::ptr::null_mut();
        let rc = call(&mut buf, &mut result);
        if rc == libc::ERANGE && size < 1 << 20 {
            size *= 4;
            continue;
        }
        return (rc == 0 && !result.is_null()).then_some(buf);
    }
}

/// Copies a C string owned by a lookup's buffer.
///
/// # Safety
/// `p` is null or points to a NUL-terminated string that outlives the call.
unsafe fn owned(p: *const libc::c_char) -> Option<String> {
    (!p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
}

/// The password-database entry of `uid`.
pub fn user_by_uid(uid: u32) -> Option<UserEntry> {
    // SAFETY: an all-zero passwd is a valid value to be overwritten by getpwuid_r.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    // SAFETY: the buffer and its length are passed together; the result points into `pw`.
    let _buf = with_buffer(|buf, res| unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), res) })?;
    // SAFETY: on success the strings of `pw` point into `_buf`, alive here.
    unsafe { owned(pw.pw_name) }.map(|name| UserEntry { name, gid: pw.pw_gid })
}

/// The password-database entry of the user `name`.
pub fn user_by_name(name: &str) -> Option<UserEntry> {
    let c = CString::new(name).ok()?;
    // SAFETY: as in `user_by_uid`.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    // SAFETY: as in `user_by_uid`.
    let _buf =
        with_buffer(|buf, res| unsafe { libc::getpwnam_r(c.as_ptr(), &mut pw, buf.as_mut_ptr(), buf.len(), res) })?;
    // SAFETY: as in `user_by_uid`; `_buf` holds the strings.
    unsafe { owned(pw.pw_name) }.map(|name| UserEntry { name, gid: pw.pw_gid })
}

/// The name of group `gid`.
pub fn group_name(gid: u32) -> Option<String> {
    // SAFETY: an all-zero group is a valid value to be overwritten by getgrgid_r.
    let mut gr: libc::group = unsafe { std::mem::zeroed() };
    // SAFETY: the buffer and its length are passed together.
    let _buf = with_buffer(|buf, res| unsafe { libc::getgrgid_r(gid, &mut gr, buf.as_mut_ptr(), buf.len(), res) })?;
    // SAFETY: the name points into `_buf`, alive here.
    unsafe { owned(gr.gr_name) }
}

/// The name of the user running this process, from the password database.
pub fn current_user() -> String {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    user_by_uid(uid).map(|u| u.name).unwrap_or_else(|| std::env::var("USER").unwrap_or_else(|_| "unknown".into()))
}

/// The primary group of the user running this process.
pub fn current_group() -> String {
    // SAFETY: getegid has no preconditions.
    group_name(unsafe { libc::getegid() }).unwrap_or_else(current_user)
}

/// The owner name of a file owned by `uid`: its user name, or the number when it has none.
pub fn owner_name(uid: u32) -> String {
    user_by_uid(uid).map(|u| u.name).unwrap_or_else(|| uid.to_string())
}

/// The group name of a file owned by `gid`: its name, or the number when it has none.
pub fn group_name_or_id(gid: u32) -> String {
    group_name(gid).unwrap_or_else(|| gid.to_string())
}

/// This host's name as other processes should reach it.
pub fn local_hostname() -> String {
    hostname::get().ok().and_then(|h| h.into_string().ok()).unwrap_or_else(|| "localhost".into())
}

/// The primary group of a named user, from the local group database; the user's own name
/// when the user is unknown here (SIMPLE authentication trusts the name it is given).
pub fn primary_group_of(user: &str) -> String {
    // The group database is read from files on every lookup: remember answers.
    static CACHE: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, String>>> =
        std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(g) = cache.lock().ok().and_then(|m| m.get(user).cloned()) {
        return g;
    }
    let g = user_by_name(user).and_then(|u| group_name(u.gid)).unwrap_or_else(|| user.to_owned());
    if let Ok(mut m) = cache.lock() {
        m.insert(user.to_owned(), g.clone());
    }
    g
}

/// Every group of the user `name` from the local user database, its primary group first (as
/// Alluxio's shell-based group mapping answers `id -gn; id -Gn`); empty for an unknown user.
/// Answers are remembered for a minute (`alluxio.security.group.mapping.cache.timeout`).
pub fn groups_of(name: &str) -> Vec<String> {
    if let Some(g) = groups_if_cached(name) {
        return g;
    }
    let groups = lookup_groups(name);
    if let Ok(mut m) = group_cache().lock() {
        m.insert(name.to_owned(), (std::time::Instant::now(), groups.clone()));
    }
    groups
}

/// [`groups_of`] when the answer is remembered and fresh: never reads the user database, so
/// async code can call it and go to a blocking thread only when it answers `None`.
pub fn groups_if_cached(name: &str) -> Option<Vec<String>> {
    let ttl = std::time::Duration::from_millis(GROUP_CACHE_MS.load(std::sync::atomic::Ordering::Relaxed));
    let (at, g) = group_cache().lock().ok()?.get(name).cloned()?;
    (at.elapsed() < ttl).then_some(g)
}

/// How long group answers are remembered (`alluxio.security.group.mapping.cache.timeout`,
/// one minute by default; zero: never).
static GROUP_CACHE_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(60_000);

/// Sets how long group answers are remembered (the master calls it at start).
pub fn set_group_cache_timeout(d: std::time::Duration) {
    GROUP_CACHE_MS.store(d.as_millis() as u64, std::sync::atomic::Ordering::Relaxed);
}

type GroupCache = std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, Vec<String>)>>;

fn group_cache() -> &'static GroupCache {
    static CACHE: std::sync::OnceLock<GroupCache> = std::sync::OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn lookup_groups(name: &str) -> Vec<String> {
    let (Some(user), Ok(c)) = (user_by_name(name), CString::new(name)) else { return Vec::new() };
    let mut n: libc::c_int = 32;
    loop {
        let mut gids = vec![0 as libc::gid_t; n as usize];
        let mut got = n;
        // SAFETY: `gids` holds `got` elements; getgrouplist writes at most that many and
        // stores the count it needs in `got` (it is MT-safe, unlike the getgr* walk).
        let rc = unsafe { libc::getgrouplist(c.as_ptr(), user.gid, gids.as_mut_ptr(), &mut got) };
        if rc < 0 && got > n && n < 65536 {
            n = got;
            continue;
        }
        gids.truncate(got.max(0) as usize);
        let mut out = vec![group_name_or_id(user.gid)];
        for g in gids.into_iter().filter(|g| *g != user.gid) {
            let name = group_name_or_id(g);
            if !out.contains(&name) {
                out.push(name);
            }
        }
        return out;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_start_with_the_primary_one() {
        let g = groups_of("root");
        assert_eq!(g.first().map(String::as_str), Some(primary_group_of("root").as_str()), "{g:?}");
        assert!(groups_of("no-such-user-here").is_empty());
    }

    #[test]
    fn root_is_found_by_id_and_name_and_unknown_ids_fall_back_to_numbers() {
        let root = user_by_uid(0).expect("uid 0 is in every password database");
        assert_eq!(root.name, "root");
        assert_eq!(user_by_name("root"), Some(root.clone()));
        assert_eq!(group_name(root.gid).as_deref(), Some("root"));
        assert_eq!(primary_group_of("root"), "root");
        assert_eq!(owner_name(4_000_000_123), "4000000123");
        assert_eq!(group_name_or_id(4_000_000_123), "4000000123");
        assert_eq!(primary_group_of("no-such-user-here"), "no-such-user-here");
        assert!(user_by_name("nul\0inside").is_none());
    }

    #[test]
    fn concurrent_lookups_agree() {
        let threads: Vec<_> = (0..8)
            .map(|i| {
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        let uid = if i % 2 == 0 { 0 } else { 4_000_000_000 };
                        let expected = if uid == 0 { "root".to_owned() } else { uid.to_string() };
                        assert_eq!(owner_name(uid), expected);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }
}
