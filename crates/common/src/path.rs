//! Alluxio paths: absolute, `/`-separated, normalised.
//!
//! Accepted forms are `/a/b` and `alluxio://host:port/a/b` (the authority is dropped: it
//! names the master, not part of the namespace). Normalising collapses repeated slashes,
//! drops `.` and a trailing slash, and resolves `..`; a `..` above the root is refused.

use std::fmt;

/// A normalised absolute Alluxio path. The root is `/`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlluxioPath(String);

/// Why a string is not an Alluxio path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid path {path}: {reason}")]
pub struct PathError {
    pub path: String,
    pub reason: &'static str,
}

impl AlluxioPath {
    /// The root path `/`.
    pub fn root() -> Self {
        AlluxioPath("/".into())
    }

    /// Parses and normalises a user-supplied path.
    pub fn parse(input: &str) -> Result<Self, PathError> {
        let err = |reason| PathError { path: input.to_owned(), reason };
        let rest = if let Some(r) = input.strip_prefix("alluxio://") {
            match r.find('/') {
                Some(i) => &r[i..],
                None => "/",
            }
        } else if input.contains("://") {
            return Err(err("only alluxio:// URIs and absolute paths name Alluxio files"));
        } else {
            input
        };
        if rest.is_empty() {
            return Err(err("the path is empty"));
        }
        if !rest.starts_with('/') {
            return Err(err("the path is not absolute (it must start with /)"));
        }
        if rest.contains('\0') {
            return Err(err("the path contains a NUL character"));
        }
        let mut parts: Vec<&str> = Vec::new();
        for c in rest.split('/') {
            match c {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        return Err(err("the path goes above the root"));
                    }
                }
                c => parts.push(c),
            }
        }
        if parts.is_empty() {
            return Ok(Self::root());
        }
        let mut s = String::with_capacity(rest.len());
        for p in parts {
            s.push('/');
            s.push_str(p);
        }
        Ok(AlluxioPath(s))
    }

    /// The path as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is `/`.
    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// The path's components, without the root: `/a/b` gives `["a", "b"]`.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|c| !c.is_empty())
    }

    /// Number of components (the root has depth 0).
    pub fn depth(&self) -> usize {
        self.components().count()
    }

    /// The last component; empty for the root.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or("")
    }

    /// The parent path; `None` for the root.
    pub fn parent(&self) -> Option<AlluxioPath> {
        if self.is_root() {
            return None;
        }
        let i = self.0.rfind('/').unwrap_or(0);
        Some(if i == 0 { Self::root() } else { AlluxioPath(self.0[..i].to_owned()) })
    }

    /// This path with one more component. `name` must not contain `/`.
    pub fn join(&self, name: &str) -> AlluxioPath {
        debug_assert!(!name.contains('/'));
        if self.is_root() {
            AlluxioPath(format!("/{name}"))
        } else {
            AlluxioPath(format!("{}/{name}", self.0))
        }
    }

    /// Whether `self` is `other` or one of its ancestors.
    pub fn is_ancestor_of(&self, other: &AlluxioPath) -> bool {
        self.is_root()
            || other.0 == self.0
            || (other.0.starts_with(&self.0) && other.0.as_bytes().get(self.0.len()) == Some(&b'/'))
    }

    /// The part of `self` below `ancestor`, without a leading slash; `None` if not below it.
    pub fn strip_ancestor(&self, ancestor: &AlluxioPath) -> Option<&str> {
        if !ancestor.is_ancestor_of(self) {
            return None;
        }
        if ancestor.is_root() {
            Some(&self.0[1..])
        } else {
            Some(self.0[ancestor.0.len()..].trim_start_matches('/'))
        }
    }
}

impl fmt::Display for AlluxioPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AlluxioPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl std::str::FromStr for AlluxioPath {
    type Err = PathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AlluxioPath::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> String {
        AlluxioPath::parse(s).unwrap().to_string()
    }

    #[test]
    fn normalises() {
        assert_eq!(p("/"), "/");
        assert_eq!(p("//a///b/"), "/a/b");
        assert_eq!(p("/a/./b/../c"), "/a/c");
        assert_eq!(p("alluxio://localhost:19998/x/y"), "/x/y");
        assert_eq!(p("alluxio://localhost:19998"), "/");
        assert!(AlluxioPath::parse("a/b").is_err());
        assert!(AlluxioPath::parse("/..").is_err());
        assert!(AlluxioPath::parse("s3://b/k").is_err());
    }

    #[test]
    fn navigates() {
        let a = AlluxioPath::parse("/a/b/c").unwrap();
        assert_eq!(a.name(), "c");
        assert_eq!(a.parent().unwrap().to_string(), "/a/b");
        assert_eq!(AlluxioPath::parse("/a").unwrap().parent().unwrap(), AlluxioPath::root());
        assert!(AlluxioPath::parse("/a").unwrap().is_ancestor_of(&a));
        assert!(!AlluxioPath::parse("/a/b/cd").unwrap().is_ancestor_of(&a));
        assert!(!AlluxioPath::parse("/a/bc").unwrap().is_ancestor_of(&AlluxioPath::parse("/a/b").unwrap()));
        assert_eq!(a.strip_ancestor(&AlluxioPath::parse("/a").unwrap()), Some("b/c"));
        assert_eq!(a.strip_ancestor(&AlluxioPath::root()), Some("a/b/c"));
        assert_eq!(AlluxioPath::root().join("x").to_string(), "/x");
    }

    proptest! {
        #[test]
        fn normalising_is_idempotent(parts in proptest::collection::vec("[a-z.]{0,3}", 0..8)) {
            let s = format!("/{}", parts.join("/"));
            if let Ok(once) = AlluxioPath::parse(&s) {
                let twice = AlluxioPath::parse(once.as_str()).unwrap();
                prop_assert_eq!(&once, &twice);
                prop_assert!(!once.as_str().contains("//"));
                prop_assert!(once.is_root() || !once.as_str().ends_with('/'));
                // Joining the parent with the name rebuilds the path.
                if let Some(parent) = once.parent() {
                    prop_assert_eq!(parent.join(once.name()), once.clone());
                }
            }
        }
    }
}
