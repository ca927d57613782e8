//! The identity of the local process (SIMPLE authentication asserts it).

use std::ffi::CStr;

/// The name of the user running this process, from the password database.
pub fn current_user() -> String {
    // SAFETY: getpwuid returns a pointer to static storage or null; we copy the name out
    // before any other call could overwrite it.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if !pw.is_null() && !(*pw).pw_name.is_null() {
            if let Ok(s) = CStr::from_ptr((*pw).pw_name).to_str() {
                return s.to_owned();
            }
        }
    }
    std::env::var("USER").unwrap_or_else(|_| "unknown".into())
}

/// The primary group of the user running this process.
pub fn current_group() -> String {
    // SAFETY: as in `current_user`, the group entry is copied out immediately.
    unsafe {
        let gr = libc::getgrgid(libc::getegid());
        if !gr.is_null() && !(*gr).gr_name.is_null() {
            if let Ok(s) = CStr::from_ptr((*gr).gr_name).to_str() {
                return s.to_owned();
            }
        }
    }
    current_user()
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
    let g = lookup_primary_group(user);
    if let Ok(mut m) = cache.lock() {
        m.insert(user.to_owned(), g.clone());
    }
    g
}

fn lookup_primary_group(user: &str) -> String {
    let Ok(c) = std::ffi::CString::new(user) else {
        return user.to_owned();
    };
    // SAFETY: getpwnam/getgrgid return static storage or null; values are copied out at once.
    unsafe {
        let pw = libc::getpwnam(c.as_ptr());
        if pw.is_null() {
            return user.to_owned();
        }
        let gr = libc::getgrgid((*pw).pw_gid);
        if !gr.is_null() && !(*gr).gr_name.is_null() {
            if let Ok(s) = CStr::from_ptr((*gr).gr_name).to_str() {
                return s.to_owned();
            }
        }
    }
    user.to_owned()
}
