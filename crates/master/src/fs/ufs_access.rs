//! Which under file system serves a path, and whether it may be written.

use super::*;

impl FileSystemMaster {
    /// The UFS of a mount (opened once, cached by mount id).
    pub fn ufs_of(&self, m: &MountInfo) -> Result<UnderFileSystem> {
        if let Some(u) = self.ufs_cache.read().get(&m.mount_id) {
            return Ok(u.clone());
        }
        let u = UnderFileSystem::open(&m.ufs_uri, &m.properties)?;
        self.ufs_cache.write().insert(m.mount_id, u.clone());
        Ok(u)
    }

    /// The mount of `path`, its UFS and the path relative to the UFS root.
    pub(super) fn resolve_ufs(
        &self,
        ns: &Namespace,
        path: &AlluxioPath,
    ) -> Result<(MountInfo, UnderFileSystem, String)> {
        let (m, rel) = ns.mounts().resolve(path).ok_or_else(|| MasterError::NoMount { path: path.to_string() })?;
        let m = m.clone();
        let ufs = self.ufs_of(&m)?;
        Ok((m, ufs, rel))
    }

    /// Full UFS path of an Alluxio path.
    pub fn ufs_path_of(&self, path: &AlluxioPath) -> Result<(i64, String)> {
        let ns = self.ns.read();
        let (m, ufs, rel) = self.resolve_ufs(&ns, path)?;
        Ok((m.mount_id, ufs.full_path(&rel)))
    }

    /// Mount info for a worker (`GetUfsInfo`), credentials included.
    pub fn mount_by_id(&self, mount_id: i64) -> Option<MountInfo> {
        self.ns.read().mounts().by_id(mount_id).cloned()
    }

    pub(super) fn check_writable(ns: &Namespace, m: &MountInfo, path: &AlluxioPath) -> Result<()> {
        if m.read_only {
            return Err(plan::FsError::ReadOnlyMount { path: path.clone(), mount: m.alluxio_path.clone() }.into());
        }
        let mode = ufs_mode_of(ns, &m.ufs_uri);
        if mode != UfsMode::ReadWrite {
            let (ufs, mode) = (m.ufs_uri.clone(), mode.as_str_name());
            return Err(plan::FsError::UfsNotWritable { path: path.clone(), ufs, mode }.into());
        }
        Ok(())
    }

    /// `fsadmin ufs --mode`: sets the access mode of a mounted under storage (journaled).
    pub async fn update_ufs_mode(&self, ufs_path: &str, mode: UfsMode) -> Result<()> {
        let key = ufs_path.trim_end_matches('/').to_owned();
        self.journaled(|ns| {
            if !ns.mounts().iter().any(|m| m.ufs_uri == key || m.ufs_uri.starts_with(&format!("{key}/"))) {
                return Err(MasterError::NotFound { path: format!("mounted under storage {ufs_path}") });
            }
            Ok(vec![Entry::UpdateUfsMode(UpdateUfsModeEntry { ufs_path: key.clone(), ufs_mode: mode as i32 })])
        })
        .await?;
        Ok(())
    }

    /// The access mode of the under storage of a mount (`fsadmin ufs --mode`).
    pub fn ufs_mode(&self, m: &MountInfo) -> UfsMode {
        ufs_mode_of(&self.ns.read(), &m.ufs_uri)
    }
}
