//! The proxy's key pairs, when it checks who calls: `alluxio.proxy.s3.auth.access.key` and
//! `.secret.key`, plus one `<access key> <secret key>` per line of
//! `alluxio.proxy.s3.auth.credentials.file`. An access key names the Alluxio user its
//! requests act as; only its own secret reaches it. S3 requests prove the secret with a
//! SigV4 signature, REST v1 requests with HTTP Basic authentication.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use alluxio_common::Conf;

use crate::ProxyError;

/// Access key → secret key.
#[derive(Clone, Default)]
pub struct KeyPairs {
    pairs: HashMap<String, String>,
}

impl std::fmt::Debug for KeyPairs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never reach logs: only the access keys.
        f.debug_list().entries(self.pairs.keys()).finish()
    }
}

impl KeyPairs {
    /// The configured pairs; empty when signatures are not required.
    pub fn from_conf(conf: &Conf) -> Result<Self, ProxyError> {
        let mut pairs = HashMap::new();
        match (conf.get("alluxio.proxy.s3.auth.access.key")?, conf.get("alluxio.proxy.s3.auth.secret.key")?) {
            (Some(ak), Some(sk)) => {
                pairs.insert(ak, sk);
            }
            (None, None) => {}
            _ => return Err(ProxyError::HalfKeyPair),
        }
        if let Some(file) = conf.get("alluxio.proxy.s3.auth.credentials.file")? {
            pairs.extend(read_file(Path::new(&file))?);
        }
        Ok(KeyPairs { pairs })
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.pairs.iter()
    }

    /// The user of an `Authorization: Basic …` header whose secret matches, if any.
    pub fn basic_user(&self, header: &str) -> Option<String> {
        let encoded = header.strip_prefix("Basic ").or_else(|| header.strip_prefix("basic "))?;
        let decoded = String::from_utf8(crate::s3::base64_decode(encoded.trim())?).ok()?;
        let (user, secret) = decoded.split_once(':')?;
        let known = self.pairs.get(user)?;
        same_secret(known.as_bytes(), secret.as_bytes()).then(|| user.to_owned())
    }
}

/// Compares secrets in time that depends only on their lengths.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn read_file(path: &Path) -> Result<HashMap<String, String>, ProxyError> {
    let bad = |reason: String| ProxyError::CredentialsFile { path: path.display().to_string(), reason };
    let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(bad(format!(
            "it holds secrets but its mode is {mode:o}: make it readable by its owner only (chmod 600)"
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    parse(&text).map_err(|line| bad(format!("line {line} is not '<access key> <secret key>'")))
}

/// Parses `<access key> <secret key>` lines (blank lines and `#` comments skipped); the
/// error is the number of the first malformed line.
fn parse(text: &str) -> Result<HashMap<String, String>, usize> {
    let mut out = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some(ak), Some(sk), None) => {
                out.insert(ak.to_owned(), sk.to_owned());
            }
            _ => return Err(i + 1),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_comments_and_malformed_lines() {
        let m = parse("# users\nalice s3cret\n\n  bob   other \n").unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m["bob"], "other");
        assert_eq!(parse("alice s3cret\nbob\n"), Err(2));
        assert_eq!(parse("a b c\n"), Err(1));
    }

    #[test]
    fn basic_authentication_needs_the_users_own_secret() {
        let keys = KeyPairs { pairs: parse("alice s3cret\nbob other\n").unwrap() };
        // "alice:s3cret", "alice:other", "carol:s3cret"
        assert_eq!(keys.basic_user("Basic YWxpY2U6czNjcmV0").as_deref(), Some("alice"));
        assert_eq!(keys.basic_user("Basic YWxpY2U6b3RoZXI="), None);
        assert_eq!(keys.basic_user("Basic Y2Fyb2w6czNjcmV0"), None);
        assert_eq!(keys.basic_user("Bearer x"), None);
        assert!(!format!("{keys:?}").contains("s3cret"));
    }

    #[test]
    fn a_file_others_can_read_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("creds");
        std::fs::write(&f, "alice s3cret\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_file(&f).unwrap_err().to_string();
        assert!(e.contains("chmod 600") && e.contains("creds"), "{e}");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_file(&f).unwrap()["alice"], "s3cret");
    }
}
