//! Objects as Alluxio files: lookups, writes through a temporary file renamed into place,
//! streamed reads, deletes that prune emptied directories.

use super::*;

/// What a finished upload wrote: its length and ETag.
pub(super) struct Written {
    pub length: u64,
    pub etag: String,
}

impl AlluxioS3 {
    pub(super) async fn status(&self, p: &AlluxioPath) -> S3Result<Option<FileInfo>> {
        match self.fs.get_status(p).await {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.code == Code::NotFound => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    pub(super) async fn require_bucket(&self, bucket: &str) -> S3Result<AlluxioPath> {
        let p = bucket_path(bucket)?;
        match self.status(&p).await? {
            Some(f) if f.folder => Ok(p),
            _ => Err(s3_error!(NoSuchBucket, "The specified bucket {bucket} does not exist")),
        }
    }

    pub(super) async fn require_object(&self, bucket: &str, key: &str) -> S3Result<(AlluxioPath, FileInfo)> {
        self.require_bucket(bucket).await?;
        let p = object_path(bucket, key)?;
        match self.status(&p).await? {
            Some(f) if !f.folder || key.ends_with('/') => Ok((p, f)),
            _ => Err(s3_error!(NoSuchKey, "The specified key {key} does not exist")),
        }
    }

    pub(super) fn temp_path(&self, bucket: &str) -> S3Result<AlluxioPath> {
        apath(&format!("/{bucket}/{TMP_PREFIX}{:016x}", rand_u64()))
    }

    /// Writes `chunks` to a new file at `p`, checking the size limit and the Content-MD5 (if
    /// given); removes it on any error. The file is completed with `xattr` plus its ETag (`etag`,
    /// or the hex MD5 of the bytes) in one journal commit.
    pub(super) async fn write_file<S>(
        &self,
        p: &AlluxioPath,
        mut chunks: S,
        content_md5: Option<&str>,
        mut xattr: HashMap<String, Vec<u8>>,
        etag: Option<String>,
    ) -> S3Result<Written>
    where
        S: futures::Stream<Item = S3Result<Bytes>> + Unpin + Send,
    {
        let o = CreateFileOptions { write_type: Some(self.write_type), recursive: true, ..Default::default() };
        let mut out = self.fs.create_file(p, o).await.map_err(err)?;
        let mut h = Md5::new();
        let mut length = 0u64;
        let result: S3Result<()> = async {
            while let Some(c) = chunks.next().await {
                let c = c?;
                length += c.len() as u64;
                if length > self.max_body {
                    return Err(s3_error!(
                        EntityTooLarge,
                        "Your proposed upload exceeds the maximum allowed size ({} bytes)",
                        self.max_body
                    ));
                }
                h.update(&c);
                out.write(c).await.map_err(err)?;
            }
            Ok(())
        }
        .await;
        let md5: [u8; 16] = h.finalize().into();
        let result = result.and_then(|()| match content_md5 {
            Some(want) if base64_encode(&md5) != want => {
                Err(s3_error!(BadDigest, "The Content-MD5 you specified did not match what was received"))
            }
            _ => Ok(()),
        });
        if let Err(e) = result {
            out.abort().await;
            let _ = self.fs.delete(p, false, false).await;
            return Err(e);
        }
        let etag = etag.unwrap_or_else(|| hex(&md5));
        xattr.insert(X_ETAG.to_owned(), etag.clone().into_bytes());
        for (k, v) in xattr {
            out.set_xattr(k, v);
        }
        out.close().await.map_err(err)?;
        Ok(Written { length, etag })
    }

    /// Moves a finished temporary file over `dst` (replacing an object there).
    pub(super) async fn publish(&self, tmp: &AlluxioPath, dst: &AlluxioPath) -> S3Result<()> {
        let cleanup = |e: S3Error| async move {
            let _ = self.fs.delete(tmp, false, false).await;
            e
        };
        let existed = match self.status(dst).await {
            Ok(Some(f)) if f.folder => {
                let e = s3_error!(InvalidRequest, "{dst} is a directory: an object cannot replace it");
                return Err(cleanup(e).await);
            }
            Ok(Some(_)) => {
                if let Err(e) = self.fs.delete(dst, false, false).await {
                    return Err(cleanup(err(e)).await);
                }
                true
            }
            Ok(None) => false,
            Err(e) => return Err(cleanup(e).await),
        };
        match dst.parent() {
            Some(parent) if !existed => {
                if let Err(e) = self.fs.create_directory(&parent, true, true, Some(self.write_type)).await {
                    return Err(cleanup(err(e)).await);
                }
            }
            _ => {}
        }
        if let Err(e) = self.fs.rename(tmp, dst).await {
            return Err(cleanup(err(e)).await);
        }
        Ok(())
    }

    /// The chunks of a file from `offset`, `len` bytes, read ahead on a task.
    pub(super) async fn read_stream(&self, p: &AlluxioPath, offset: u64, len: u64) -> S3Result<StreamingBlob> {
        let mut input = self.fs.open_file(p, None).await.map_err(err)?;
        input.seek(offset);
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
        tokio::spawn(async move {
            let mut left = len;
            while left > 0 {
                match input.read_chunk().await {
                    Ok(Some(mut b)) => {
                        if b.len() as u64 > left {
                            b.truncate(left as usize);
                        }
                        left -= b.len() as u64;
                        if tx.send(Ok(b)).await.is_err() {
                            return;
                        }
                    }
                    Ok(None) => {
                        let _ = tx.send(Err(std::io::Error::other("file ended early"))).await;
                        return;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(std::io::Error::other(e.message))).await;
                        return;
                    }
                }
            }
        });
        Ok(StreamingBlob::wrap(tokio_stream::wrappers::ReceiverStream::new(rx)))
    }

    pub(super) fn body_chunks(
        body: Option<StreamingBlob>,
    ) -> impl futures::Stream<Item = S3Result<Bytes>> + Unpin + Send {
        let s =
            body.map(|b| b.map(|c| c.map_err(|e| S3Error::with_message(S3ErrorCode::IncompleteBody, e.to_string()))));
        futures::stream::iter(s).flatten()
    }

    /// Every file and directory below `dir` as (key relative to the bucket, status), sorted.
    pub(super) async fn keys_below(
        &self,
        bucket: &str,
        dir: &AlluxioPath,
        recursive: bool,
    ) -> S3Result<Vec<(String, FileInfo)>> {
        let list = match self.fs.list_status(dir, recursive).await {
            Ok(l) => l,
            Err(e) if e.code == Code::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(err(e)),
        };
        let root = format!("/{bucket}/");
        let mut out: Vec<(String, FileInfo)> = list
            .into_iter()
            .filter(|f| !f.name.starts_with(TMP_PREFIX))
            .filter_map(|f| {
                let rel = f.path.strip_prefix(&root)?.to_owned();
                let key = if f.folder { format!("{rel}/") } else { rel };
                Some((key, f))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Deletes an object (or an empty "folder" key); a missing key is not an error.
    pub(super) async fn delete_key(&self, bucket: &str, key: &str) -> S3Result<()> {
        let p = object_path(bucket, key)?;
        match self.status(&p).await? {
            None => Ok(()),
            Some(f) if f.folder && !key.ends_with('/') => Ok(()),
            Some(f) if f.folder && f.child_count > 0 => {
                Err(s3_error!(InvalidRequest, "The directory {key} is not empty"))
            }
            Some(_) => {
                match self.fs.delete(&p, false, false).await {
                    Ok(()) => {}
                    Err(e) if e.code == Code::NotFound => {}
                    Err(e) => return Err(err(e)),
                }
                self.prune_parents(bucket, &p).await;
                Ok(())
            }
        }
    }

    /// Removes the directories a PUT created implicitly above `p` once they hold nothing, as
    /// prefixes vanish in S3 with their last object. Explicit folders (`dir/` keys) and mount
    /// points stay.
    pub(super) async fn prune_parents(&self, bucket: &str, p: &AlluxioPath) {
        let root = format!("/{bucket}");
        let mut cur = p.parent();
        while let Some(dir) = cur {
            if dir.to_string() == root || dir.is_root() {
                return;
            }
            match self.status(&dir).await {
                Ok(Some(f)) if f.folder && f.child_count == 0 && !f.mount_point && !f.xattr.contains_key(X_FOLDER) => {
                    if self.fs.delete(&dir, false, false).await.is_err() {
                        return;
                    }
                }
                _ => return,
            }
            cur = dir.parent();
        }
    }
}
