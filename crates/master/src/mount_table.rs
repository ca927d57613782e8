//! The mount table: which UFS URI backs each part of the namespace.

use std::collections::BTreeMap;

use alluxio_common::AlluxioPath;

/// Id of the root mount.
pub const ROOT_MOUNT_ID: i64 = 1;

/// One mount point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    pub alluxio_path: AlluxioPath,
    pub ufs_uri: String,
    pub read_only: bool,
    pub shared: bool,
    /// Mount options (`--option k=v`); may hold credentials, never printed unredacted.
    pub properties: BTreeMap<String, String>,
    pub mount_id: i64,
}

/// Alluxio path → mount.
#[derive(Debug, Clone, Default)]
pub struct MountTable {
    mounts: BTreeMap<AlluxioPath, MountInfo>,
}

pub use alluxio_common::conf::is_secret_key;

/// Mount options with secret values replaced, for display.
pub fn redacted(props: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    props.iter().map(|(k, v)| (k.clone(), if is_secret_key(k) { "******".to_owned() } else { v.clone() })).collect()
}

impl MountTable {
    pub fn add(&mut self, info: MountInfo) {
        self.mounts.insert(info.alluxio_path.clone(), info);
    }

    pub fn remove(&mut self, path: &AlluxioPath) -> Option<MountInfo> {
        self.mounts.remove(path)
    }

    pub fn get(&self, path: &AlluxioPath) -> Option<&MountInfo> {
        self.mounts.get(path)
    }

    pub fn by_id(&self, id: i64) -> Option<&MountInfo> {
        self.mounts.values().find(|m| m.mount_id == id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &MountInfo> {
        self.mounts.values()
    }

    pub fn len(&self) -> usize {
        self.mounts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.mounts.is_empty()
    }

    /// The mount a path lives in (the longest mount path that is its ancestor) and the
    /// path relative to the mount's UFS root.
    pub fn resolve(&self, path: &AlluxioPath) -> Option<(&MountInfo, String)> {
        let mut cur = Some(path.clone());
        while let Some(p) = cur {
            if let Some(m) = self.mounts.get(&p) {
                let rel = path.strip_ancestor(&p).unwrap_or("").to_owned();
                return Some((m, rel));
            }
            cur = p.parent();
        }
        None
    }

    /// Mount points strictly below `path`.
    pub fn mounts_below(&self, path: &AlluxioPath) -> Vec<&MountInfo> {
        self.mounts.values().filter(|m| m.alluxio_path != *path && path.is_ancestor_of(&m.alluxio_path)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, uri: &str, id: i64) -> MountInfo {
        MountInfo {
            alluxio_path: AlluxioPath::parse(p).unwrap(),
            ufs_uri: uri.into(),
            read_only: false,
            shared: false,
            properties: BTreeMap::new(),
            mount_id: id,
        }
    }

    #[test]
    fn resolves_longest_prefix() {
        let mut t = MountTable::default();
        t.add(m("/", "/ufs", 1));
        t.add(m("/mnt/a", "/other", 2));
        let (mi, rel) = t.resolve(&AlluxioPath::parse("/mnt/a/x/y").unwrap()).unwrap();
        assert_eq!((mi.mount_id, rel.as_str()), (2, "x/y"));
        let (mi, rel) = t.resolve(&AlluxioPath::parse("/mnt/ab").unwrap()).unwrap();
        assert_eq!((mi.mount_id, rel.as_str()), (1, "mnt/ab"));
        assert_eq!(t.mounts_below(&AlluxioPath::parse("/mnt").unwrap()).len(), 1);
        let mut props = BTreeMap::new();
        props.insert("s3a.secretKey".to_string(), "hunter2".to_string());
        props.insert("alluxio.underfs.s3.endpoint".to_string(), "http://x".to_string());
        let r = redacted(&props);
        assert_eq!(r["s3a.secretKey"], "******");
        assert_eq!(r["alluxio.underfs.s3.endpoint"], "http://x");
    }
}
