//! Changing the UFS namespace: directories, deletes, renames, leftovers of crashed writers.

use opendal::ErrorKind;

use crate::{is_temp_name, map_err, UfsError, UnderFileSystem};

impl UnderFileSystem {
    /// Creates a directory and its missing parents.
    pub async fn mkdirs(&self, rel: &str) -> Result<(), UfsError> {
        if rel.trim_matches('/').is_empty() {
            return Ok(());
        }
        self.op.create_dir(&Self::dir_path(rel)).await.map_err(|e| map_err("create directory", &self.full_path(rel), e))
    }

    /// Deletes a file; a missing file is not an error.
    pub async fn delete_file(&self, rel: &str) -> Result<(), UfsError> {
        self.op.delete(&Self::file_path(rel)).await.map_err(|e| map_err("delete", &self.full_path(rel), e))
    }

    /// Deletes the temporary files a writer of `rel` left behind (a worker killed in the middle
    /// of a write never renames or deletes its `<name>.alluxio.0x<hex>.tmp`), those last written
    /// before `before_ms` only: a new writer of the same path may have started since. Returns
    /// how many were deleted. Object stores write in place and have none.
    pub async fn remove_temp_files_of(&self, rel: &str, before_ms: i64) -> Result<usize, UfsError> {
        if self.is_object_store() {
            return Ok(0);
        }
        let file = Self::file_path(rel);
        let (parent, name) = match file.rsplit_once('/') {
            Some((p, n)) => (p.to_owned(), n.to_owned()),
            None => (String::new(), file.clone()),
        };
        let prefix = format!("{name}.alluxio.0x");
        let mut n = 0;
        let entries = match self.list(&parent).await {
            Ok(e) => e,
            Err(UfsError::NotFound { .. }) => return Ok(0),
            Err(e) => return Err(e),
        };
        for e in entries {
            if !e.is_dir && is_temp_name(&e.name) && e.name.starts_with(&prefix) && e.mtime_ms <= before_ms {
                let path = if parent.is_empty() { e.name.clone() } else { format!("{parent}/{}", e.name) };
                self.delete_file(&path).await?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Deletes a directory and everything below it.
    pub async fn delete_dir(&self, rel: &str) -> Result<(), UfsError> {
        if rel.trim_matches('/').is_empty() {
            return Err(UfsError::Io {
                op: "delete",
                path: self.uri.clone(),
                message: "refusing to delete a UFS root".into(),
            });
        }
        self.op.remove_all(&Self::dir_path(rel)).await.map_err(|e| map_err("delete", &self.full_path(rel), e))
    }

    /// Renames a file or directory. On object stores this is copy + delete and not atomic.
    pub async fn rename(&self, from: &str, to: &str) -> Result<(), UfsError> {
        let (f, t) = (Self::file_path(from), Self::file_path(to));
        if let Some(parent) = t.rsplit_once('/').map(|(p, _)| p) {
            self.mkdirs(parent).await?;
        }
        if let Some(root) = &self.local_root {
            // OpenDAL's fs rename handles files only; directories move with one rename(2).
            let (src, dst) = (root.join(&f), root.join(&t));
            return tokio::task::spawn_blocking(move || std::fs::rename(&src, &dst))
                .await
                .map_err(|e| UfsError::Io { op: "rename", path: self.full_path(from), message: e.to_string() })?
                .map_err(|e| UfsError::Io { op: "rename", path: self.full_path(from), message: e.to_string() });
        }
        if self.op.info().full_capability().rename {
            return self.op.rename(&f, &t).await.map_err(|e| map_err("rename", &self.full_path(from), e));
        }
        // Object stores: copy every object, then delete the sources (not atomic).
        let err = |e| map_err("rename", &self.full_path(from), e);
        match self.op.stat(&f).await {
            Ok(m) if !m.is_dir() => {
                self.op.copy(&f, &t).await.map_err(err)?;
                return self.op.delete(&f).await.map_err(err);
            }
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(err(e)),
        }
        let (fd, td) = (Self::dir_path(&f), Self::dir_path(&t));
        let entries = self.op.list_with(&fd).recursive(true).await.map_err(err)?;
        if entries.is_empty() {
            return Err(UfsError::NotFound { path: self.full_path(from) });
        }
        for e in &entries {
            let src = e.path();
            let dst = format!("{td}{}", &src[fd.len().min(src.len())..]);
            if src.ends_with('/') {
                self.op.create_dir(&dst).await.map_err(err)?;
            } else {
                self.op.copy(src, &dst).await.map_err(err)?;
            }
        }
        if !entries.iter().any(|e| e.path() == fd) {
            self.op.create_dir(&td).await.map_err(err)?;
        }
        self.op.remove_all(&fd).await.map_err(err)
    }
}
