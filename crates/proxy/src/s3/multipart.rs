//! Multipart uploads: parts under the uploads directory, completed into the key at once.

use super::*;

/// Makes the uploads directory as the proxy's own user, open to every S3 user and sticky (as
/// `/tmp`): each upload is a directory of the user that started it, which only that user may
/// complete or abort. Without it, the first user to start an upload would own the directory
/// and every other user's uploads would be refused.
pub async fn prepare_uploads(fs: &FileSystem, write_type: WritePType) -> Result<(), alluxio_client::ClientError> {
    let dir = AlluxioPath::parse(UPLOADS).expect("a valid path");
    fs.create_directory(&dir, true, true, Some(write_type)).await?;
    fs.set_attribute(&dir, SetAttributeOptions { mode: Some(0o1777), ..Default::default() }).await
}

impl AlluxioS3 {
    pub(super) fn upload_dir(&self, upload_id: &str) -> S3Result<AlluxioPath> {
        if upload_id.is_empty() || !upload_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(s3_error!(NoSuchUpload, "The specified upload {upload_id} does not exist"));
        }
        apath(&format!("{UPLOADS}/{upload_id}"))
    }

    /// The upload directory of `upload_id`, checked to belong to `bucket`/`key`.
    pub(super) async fn require_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> S3Result<(AlluxioPath, FileInfo)> {
        let dir = self.upload_dir(upload_id)?;
        match self.status(&dir).await? {
            Some(f)
                if xattr_str(&f, X_BUCKET).as_deref() == Some(bucket)
                    && xattr_str(&f, X_KEY).as_deref() == Some(key) =>
            {
                Ok((dir, f))
            }
            _ => Err(s3_error!(NoSuchUpload, "The specified upload {upload_id} does not exist")),
        }
    }

    /// Uploaded parts of an upload directory, by part number.
    pub(super) async fn parts(&self, dir: &AlluxioPath) -> S3Result<Vec<(i32, FileInfo)>> {
        let mut parts: Vec<(i32, FileInfo)> = self
            .fs
            .list_status(dir, false)
            .await
            .map_err(err)?
            .into_iter()
            .filter_map(|f| f.name.parse::<i32>().ok().map(|n| (n, f)))
            .collect();
        parts.sort_by_key(|(n, _)| *n);
        Ok(parts)
    }

    pub(super) async fn start_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let i = req.input;
        self.require_bucket(&i.bucket).await?;
        object_path(&i.bucket, &i.key)?;
        let tags = i.tagging.as_deref().map(parse_tagging).transpose()?;
        let id = format!("{:016x}{:016x}", rand_u64(), rand_u64());
        let dir = self.upload_dir(&id)?;
        self.fs.create_directory(&dir, true, false, Some(self.write_type)).await.map_err(err)?;
        let mut x = HashMap::from([
            (X_BUCKET.to_owned(), i.bucket.clone().into_bytes()),
            (X_KEY.to_owned(), i.key.clone().into_bytes()),
        ]);
        if let Some(t) = &i.content_type {
            x.insert(X_TYPE.into(), t.to_string().into_bytes());
        }
        if let Some(t) = &tags {
            x.insert(X_TAGS.into(), encode_tags(t));
        }
        self.fs.set_attribute(&dir, SetAttributeOptions { xattr: x, ..Default::default() }).await.map_err(err)?;
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(i.bucket),
            key: Some(i.key),
            upload_id: Some(id),
            ..Default::default()
        }))
    }

    pub(super) async fn put_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        let i = req.input;
        if !(1..=10_000).contains(&i.part_number) {
            return Err(s3_error!(InvalidArgument, "Part number must be an integer between 1 and 10000"));
        }
        let (dir, _) = self.require_upload(&i.bucket, &i.key, &i.upload_id).await?;
        let part = apath(&format!("{dir}/{}", i.part_number))?;
        let tmp = apath(&format!("{dir}/{TMP_PREFIX}{}.{:016x}", i.part_number, rand_u64()))?;
        let w =
            self.write_file(&tmp, Self::body_chunks(i.body), i.content_md5.as_deref(), HashMap::new(), None).await?;
        self.publish(&tmp, &part).await?;
        Ok(S3Response::new(UploadPartOutput { e_tag: Some(ETag::Strong(w.etag)), ..Default::default() }))
    }

    pub(super) async fn list_upload_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let i = req.input;
        let (dir, _) = self.require_upload(&i.bucket, &i.key, &i.upload_id).await?;
        let parts = self.parts(&dir).await?;
        let marker = i.part_number_marker.unwrap_or(0);
        let max = i.max_parts.unwrap_or(1000).clamp(1, 1000) as usize;
        let after: Vec<_> = parts.into_iter().filter(|(n, _)| *n > marker).collect();
        let truncated = after.len() > max;
        let shown: Vec<Part> = after
            .iter()
            .take(max)
            .map(|(n, f)| Part {
                part_number: Some(*n),
                e_tag: Some(etag_of(f)),
                size: Some(f.length),
                last_modified: Some(timestamp(f.last_modification_time_ms)),
                ..Default::default()
            })
            .collect();
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(i.bucket),
            key: Some(i.key),
            upload_id: Some(i.upload_id),
            is_truncated: Some(truncated),
            next_part_number_marker: shown.last().and_then(|p| p.part_number).filter(|_| truncated),
            part_number_marker: i.part_number_marker,
            max_parts: Some(max as i32),
            parts: Some(shown),
            ..Default::default()
        }))
    }

    pub(super) async fn complete_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let i = req.input;
        let (dir, upload) = self.require_upload(&i.bucket, &i.key, &i.upload_id).await?;
        let wanted = i.multipart_upload.and_then(|m| m.parts).unwrap_or_default();
        if wanted.is_empty() {
            return Err(s3_error!(InvalidPart, "You must specify at least one part"));
        }
        let have: HashMap<i32, FileInfo> = self.parts(&dir).await?.into_iter().collect();
        let mut chosen = Vec::with_capacity(wanted.len());
        let mut last = 0;
        for (idx, w) in wanted.iter().enumerate() {
            let n = w.part_number.unwrap_or(0);
            if n <= last {
                return Err(s3_error!(InvalidPartOrder, "The list of parts was not in ascending order"));
            }
            last = n;
            let f = have.get(&n).ok_or_else(|| s3_error!(InvalidPart, "Part {n} was not uploaded"))?;
            if let Some(e) = &w.e_tag {
                if e.value() != etag_of(f).value() {
                    return Err(s3_error!(InvalidPart, "The ETag of part {n} does not match"));
                }
            }
            if idx + 1 < wanted.len() && (f.length as u64) < self.min_part_size {
                return Err(s3_error!(
                    EntityTooSmall,
                    "Part {n} is {} bytes, smaller than the minimum allowed size {}",
                    f.length,
                    self.min_part_size
                ));
            }
            chosen.push((n, f.clone()));
        }
        let dst = object_path(&i.bucket, &i.key)?;
        let tmp = self.temp_path(&i.bucket)?;
        // The parts in order, one stream.
        let mut streams = Vec::with_capacity(chosen.len());
        for (n, f) in &chosen {
            let part = apath(&format!("{dir}/{n}"))?;
            streams.push(self.read_stream(&part, 0, f.length as u64).await?);
        }
        let body = futures::stream::iter(streams)
            .flatten()
            .map(|c| c.map_err(|e| S3Error::with_message(S3ErrorCode::InternalError, e.to_string())));
        let mut all = Md5::new();
        for (_, f) in &chosen {
            let e = etag_of(f);
            let bytes: Vec<u8> = (0..e.value().len() / 2)
                .filter_map(|k| u8::from_str_radix(&e.value()[2 * k..2 * k + 2], 16).ok())
                .collect();
            all.update(&bytes);
        }
        let etag = format!("{}-{}", hex(&all.finalize()), chosen.len());
        let mut x = HashMap::new();
        for k in [X_TYPE, X_TAGS] {
            if let Some(v) = upload.xattr.get(k) {
                x.insert(k.to_owned(), v.clone());
            }
        }
        self.write_file(&tmp, Box::pin(body), None, x, Some(etag.clone())).await?;
        self.publish(&tmp, &dst).await?;
        let _ = self.fs.delete(&dir, true, false).await;
        Ok(S3Response::new(CompleteMultipartUploadOutput {
            bucket: Some(i.bucket.clone()),
            key: Some(i.key.clone()),
            e_tag: Some(ETag::Strong(etag)),
            location: Some(format!("/{}/{}", i.bucket, i.key)),
            ..Default::default()
        }))
    }

    pub(super) async fn abort_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let i = req.input;
        let (dir, _) = self.require_upload(&i.bucket, &i.key, &i.upload_id).await?;
        self.fs.delete(&dir, true, false).await.map_err(err)?;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }
}
