//! File contents: ranged reads, streamed reads, and writes that never leave a half file
//! under its final name.

use bytes::Bytes;

use crate::{map_err, temp_name, UfsError, UfsStatus, UnderFileSystem};

impl UnderFileSystem {
    /// Reads exactly `len` bytes at `offset`; the range must lie inside the file.
    pub async fn read(&self, rel: &str, offset: u64, len: u64) -> Result<Bytes, UfsError> {
        let buf = self
            .op
            .read_with(&Self::file_path(rel))
            .range(offset..offset + len)
            .await
            .map_err(|e| map_err("read", &self.full_path(rel), e))?;
        Ok(buf.to_bytes())
    }

    /// Reads `len` bytes at `offset` as chunks of about `chunk` bytes, from one streamed request
    /// rather than one request per chunk (on S3 a ranged GET per MiB is ten times slower).
    /// A file shorter than the range ends the stream with an error.
    pub async fn read_chunks(
        &self,
        rel: &str,
        offset: u64,
        len: u64,
        chunk: usize,
    ) -> Result<impl futures::Stream<Item = Result<Bytes, UfsError>> + Send + Unpin + 'static, UfsError> {
        use futures::StreamExt;
        let path = self.full_path(rel);
        let reader = self.op.reader(&Self::file_path(rel)).await.map_err(|e| map_err("read", &path, e))?;
        let raw = reader.into_bytes_stream(offset..offset + len).await.map_err(|e| map_err("read", &path, e))?;
        let chunk = chunk.max(1);
        let state = (raw, bytes::BytesMut::new(), 0u64, false);
        Ok(Box::pin(futures::stream::unfold(state, move |(mut raw, mut buf, mut got, done)| {
            let path = path.clone();
            async move {
                if done {
                    return None;
                }
                while buf.len() < chunk {
                    match raw.next().await {
                        Some(Ok(b)) => {
                            got += b.len() as u64;
                            buf.extend_from_slice(&b);
                        }
                        Some(Err(e)) => {
                            let err = UfsError::Io { op: "read", path, message: e.to_string() };
                            return Some((Err(err), (raw, buf, got, true)));
                        }
                        None => break,
                    }
                }
                if buf.is_empty() {
                    if got < len {
                        let err = UfsError::Io {
                            op: "read",
                            path,
                            message: format!("the file ended after {got} of {len} bytes"),
                        };
                        return Some((Err(err), (raw, buf, got, true)));
                    }
                    return None;
                }
                let out = buf.split().freeze();
                Some((Ok(out), (raw, buf, got, false)))
            }
        })))
    }

    /// Starts writing a new file at `rel`; it appears there only when the writer closes.
    pub async fn create(&self, rel: &str) -> Result<UfsWriter, UfsError> {
        self.create_planned(self.plan_create(rel)).await
    }

    /// Where a write of `rel` will go, before anything exists in the UFS: a caller that must
    /// clean up after a crash records [`PlannedWrite::temp_path`] first, then
    /// [`UnderFileSystem::create_planned`] makes the file.
    pub fn plan_create(&self, rel: &str) -> PlannedWrite {
        let final_path = Self::file_path(rel);
        // An object appears only when its upload completes: it is written in place.
        let tmp = if self.is_object_store() { final_path.clone() } else { temp_name(&final_path) };
        PlannedWrite { rel: rel.to_owned(), final_path, tmp }
    }

    /// Starts the write [`UnderFileSystem::plan_create`] planned.
    pub async fn create_planned(&self, p: PlannedWrite) -> Result<UfsWriter, UfsError> {
        let PlannedWrite { rel, final_path, tmp } = p;
        if let Some(parent) = final_path.rsplit_once('/').map(|(p, _)| p) {
            self.mkdirs(parent).await?;
        }
        let err = |e| map_err("create", &self.full_path(&rel), e);
        let w = if self.is_object_store() {
            // In parts of 8 MiB.
            self.op.writer_with(&final_path).chunk(8 << 20).concurrent(4).await.map_err(err)?
        } else {
            self.op.writer(&tmp).await.map_err(err)?
        };
        Ok(UfsWriter { ufs: self.clone(), w: Some(w), tmp, final_path, written: 0 })
    }

    /// Sets owner and mode of a local file (no-op elsewhere); failures are only logged.
    pub async fn set_mode(&self, rel: &str, mode: i32) {
        if let Some(root) = &self.local_root {
            let p = root.join(Self::file_path(rel));
            let _ = tokio::task::spawn_blocking(move || {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode as u32 & 0o7777))
            })
            .await;
        }
    }
}

/// A write planned by [`UnderFileSystem::plan_create`], not started.
#[derive(Debug, Clone)]
pub struct PlannedWrite {
    rel: String,
    final_path: String,
    tmp: String,
}

impl PlannedWrite {
    /// The temporary path the write will use, when there is one (file systems).
    pub fn temp_path(&self) -> Option<&str> {
        (self.tmp != self.final_path).then_some(self.tmp.as_str())
    }
}

/// A file being written to the UFS under a temporary name.
pub struct UfsWriter {
    ufs: UnderFileSystem,
    w: Option<opendal::Writer>,
    tmp: String,
    final_path: String,
    written: u64,
}

impl UfsWriter {
    /// Appends bytes.
    pub async fn write(&mut self, data: Bytes) -> Result<(), UfsError> {
        let n = data.len() as u64;
        let Some(w) = self.w.as_mut() else {
            return Err(UfsError::Io {
                op: "write",
                path: self.ufs.full_path(&self.final_path),
                message: "writer closed".into(),
            });
        };
        w.write(data).await.map_err(|e| map_err("write", &self.ufs.full_path(&self.final_path), e))?;
        self.written += n;
        Ok(())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Finishes the file and renames it to its final name; returns the final status.
    pub async fn close(mut self) -> Result<UfsStatus, UfsError> {
        let path = self.ufs.full_path(&self.final_path);
        if let Some(mut w) = self.w.take() {
            if let Err(e) = w.close().await {
                let _ = self.ufs.op.delete(&self.tmp).await;
                return Err(map_err("write", &path, e));
            }
        }
        if self.tmp != self.final_path {
            if let Err(e) = self.ufs.rename(&self.tmp, &self.final_path).await {
                let _ = self.ufs.op.delete(&self.tmp).await;
                return Err(e);
            }
        }
        self.ufs.stat(&self.final_path).await?.ok_or(UfsError::NotFound { path })
    }

    /// Abandons the file, deleting what was written.
    pub async fn abort(mut self) {
        if let Some(mut w) = self.w.take() {
            let _ = w.abort().await;
        }
        if self.tmp != self.final_path {
            let _ = self.ufs.op.delete(&self.tmp).await;
        }
    }
}

impl Drop for UfsWriter {
    fn drop(&mut self) {
        if let Some(mut w) = self.w.take() {
            // Dropped without close/abort: cancel the upload, delete the temporary file.
            let op = self.ufs.op.clone();
            let tmp = (self.tmp != self.final_path).then(|| std::mem::take(&mut self.tmp));
            if let Ok(h) = tokio::runtime::Handle::try_current() {
                h.spawn(async move {
                    let _ = w.abort().await;
                    if let Some(tmp) = tmp {
                        let _ = op.delete(&tmp).await;
                    }
                });
            }
        }
    }
}
