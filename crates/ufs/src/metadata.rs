//! Reading the UFS namespace: statuses and listings (object-store prefixes as directories,
//! owners and modes from the local file system).

use opendal::ErrorKind;

use crate::{local_owner, map_err, rel_name, UfsError, UfsStatus, UnderFileSystem};

impl UnderFileSystem {
    /// Status of a path; `None` when it does not exist.
    pub async fn stat(&self, rel: &str) -> Result<Option<UfsStatus>, UfsError> {
        let p = Self::file_path(rel);
        if p.is_empty() && self.local_root.is_none() {
            return self.stat_remote_root().await;
        }
        let target = if p.is_empty() { "/".to_owned() } else { p.clone() };
        match self.op.stat(&target).await {
            Ok(m) => Ok(Some(self.status_of(rel_name(&p), &p, &m).await)),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                // Object stores: a prefix with children is a directory.
                if self.is_object_store() && !p.is_empty() {
                    match self.op.stat(&Self::dir_path(&p)).await {
                        Ok(m) => return Ok(Some(self.status_of(rel_name(&p), &p, &m).await)),
                        Err(e) if e.kind() == ErrorKind::NotFound => {}
                        Err(e) => return Err(map_err("stat", &self.full_path(rel), e)),
                    }
                    // No marker object: a prefix with objects below is still a directory.
                    if self.is_prefix(&p).await? {
                        return Ok(Some(UfsStatus::dir(rel_name(&p))));
                    }
                }
                Ok(None)
            }
            Err(e) => Err(map_err("stat", &self.full_path(rel), e)),
        }
    }

    /// The root of a remote UFS. OpenDAL answers a stat of its root without asking the
    /// service, so a missing bucket, an unreachable namenode or a wrong path would pass
    /// for a directory: listing one entry makes the service answer.
    async fn stat_remote_root(&self) -> Result<Option<UfsStatus>, UfsError> {
        use futures::TryStreamExt;
        let probe = async {
            let mut l = self.op.lister_with("/").limit(1).await?;
            l.try_next().await
        };
        match probe.await {
            Ok(_) => Ok(Some(UfsStatus::dir(String::new()))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            // OpenDAL reports S3's NoSuchBucket as a configuration error.
            Err(e) if e.to_string().contains("NoSuchBucket") => Ok(None),
            Err(e) => Err(map_err("stat", &self.full_path(""), e)),
        }
    }

    /// Whether some object lies below `p/` (object stores).
    async fn is_prefix(&self, p: &str) -> Result<bool, UfsError> {
        use futures::TryStreamExt;
        let mut l = self.op.lister(&Self::dir_path(p)).await.map_err(|e| map_err("list", &self.full_path(p), e))?;
        let dir = Self::dir_path(p);
        while let Some(e) = l.try_next().await.map_err(|e| map_err("list", &self.full_path(p), e))? {
            if e.path() != dir {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn status_of(&self, name: String, rel: &str, m: &opendal::Metadata) -> UfsStatus {
        let mtime_ms = m.last_modified().map(|t| t.timestamp_millis()).unwrap_or(0);
        let length = if m.is_dir() { 0 } else { m.content_length() };
        let mut st = UfsStatus {
            name,
            is_dir: m.is_dir(),
            length,
            mtime_ms,
            owner: None,
            group: None,
            mode: None,
            content_hash: m.etag().map(str::to_owned).unwrap_or_else(|| format!("(len:{length},_modtime:{mtime_ms})")),
        };
        if let Some(root) = &self.local_root {
            let path = root.join(rel);
            if let Ok(Ok((owner, group, mode, mtime))) = tokio::task::spawn_blocking(move || local_owner(&path)).await {
                st.owner = Some(owner);
                st.group = Some(group);
                st.mode = Some(mode);
                // OpenDAL leaves directory times unset in listings; the local file system has them.
                if st.mtime_ms == 0 {
                    st.mtime_ms = mtime;
                    st.content_hash = format!("(len:{},_modtime:{mtime})", st.length);
                }
            }
        }
        st
    }

    /// Direct children of a directory.
    pub async fn list(&self, rel: &str) -> Result<Vec<UfsStatus>, UfsError> {
        let dir = Self::dir_path(rel);
        let entries = self.op.list(&dir).await.map_err(|e| map_err("list", &self.full_path(rel), e))?;
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let path = e.path().trim_end_matches('/').to_owned();
            if path.is_empty() || Self::dir_path(&path) == dir {
                continue; // the directory itself
            }
            let name = rel_name(&path);
            if name.is_empty() {
                continue;
            }
            let meta = if e.metadata().mode().is_dir() || self.local_root.is_none() {
                e.metadata().clone()
            } else {
                // Local listings carry no sizes: stat each file.
                match self.op.stat(&path).await {
                    Ok(m) => m,
                    Err(err) if err.kind() == ErrorKind::NotFound => continue,
                    Err(err) => return Err(map_err("stat", &self.full_path(&path), err)),
                }
            };
            out.push(self.status_of(name, &path, &meta).await);
        }
        Ok(out)
    }
}
