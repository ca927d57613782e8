//! POSIX permission bits as Alluxio stores and prints them.

/// Formats mode bits as `rwxr-xr-x`; `dir` prefixes `d`, otherwise `-`.
pub fn format_mode(mode: i32, dir: bool) -> String {
    let mut s = String::with_capacity(10);
    s.push(if dir { 'd' } else { '-' });
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

/// Parses an octal mode such as `755` or `0644`; `None` when it is not one.
pub fn parse_octal(s: &str) -> Option<i32> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    i32::from_str_radix(s, 8).ok()
}

/// Applies a umask: the mode of a new file is `0666 & !umask`, of a directory `0777 & !umask`.
pub fn apply_umask(mode: i32, umask: i32) -> i32 {
    mode & !umask & 0o7777
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_ls() {
        assert_eq!(format_mode(0o755, true), "drwxr-xr-x");
        assert_eq!(format_mode(0o644, false), "-rw-r--r--");
        assert_eq!(apply_umask(0o777, 0o022), 0o755);
        assert_eq!(parse_octal("0750"), Some(0o750));
        assert_eq!(parse_octal("8"), None);
    }
}
