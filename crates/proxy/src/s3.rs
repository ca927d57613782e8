//! The S3 API at `/api/v1/s3/` (path-style), as Alluxio's proxy serves it: a bucket is a
//! top-level directory, object `k` of bucket `b` is the file `/b/k`, sub-directories appear in
//! listings as common prefixes (or, when empty, as `dir/` keys), and a PUT of a key ending in
//! `/` makes a directory. The `s3s` crate does the protocol (routing, XML, errors, ranges,
//! aws-chunked bodies); this module maps each operation onto the Alluxio client.
//!
//! Safety over Alluxio's version: a PUT, copy or multipart completion writes a hidden temporary
//! file and renames it over the key only once every byte arrived (and the Content-MD5 matched),
//! so a failed upload leaves the old object in place. ETags, content types and tags live in the
//! file's extended attributes (`s3_etag`, `s3_content_type`, `s3_tags`); files written through
//! other APIs get an ETag derived from their id and modification time. Multipart parts live
//! under `/.alluxio_s3_api_metadata/uploads/<uploadId>/`, outside every bucket.
//!
//! Keys with `.` or `..` components, or empty components, are refused (`InvalidArgument`):
//! Alluxio paths cannot hold them, and they must never address anything outside the bucket.

use std::collections::HashMap;

use alluxio_client::SetAttributeOptions;
use alluxio_client::{CreateFileOptions, FileInfo, FileSystem};
use alluxio_common::status::Code;
use alluxio_common::AlluxioPath;
use alluxio_proto::grpc::WritePType;
use bytes::Bytes;
use futures::StreamExt;
use md5::{Digest, Md5};
use s3s::dto::*;
use s3s::{s3_error, S3Error, S3ErrorCode, S3Request, S3Response, S3Result, S3};

const UPLOADS: &str = "/.alluxio_s3_api_metadata/uploads";
const TMP_PREFIX: &str = ".alluxio_s3_tmp.";
const X_ETAG: &str = "s3_etag";
const X_TYPE: &str = "s3_content_type";
const X_TAGS: &str = "s3_tags";
/// Marks a directory made by a PUT of a `dir/` key: it stays when its last object goes.
const X_FOLDER: &str = "s3_folder";
const X_BUCKET: &str = "s3_uploads_bucket";
const X_KEY: &str = "s3_uploads_object";
const MAX_TAGS: usize = 10;

/// The S3 service over one Alluxio client.
pub struct AlluxioS3 {
    fs: FileSystem,
    write_type: WritePType,
    min_part_size: u64,
    max_body: u64,
    /// ListBuckets shows only this user's buckets (None: every bucket).
    owner: Option<String>,
}

impl AlluxioS3 {
    pub fn new(
        fs: FileSystem,
        write_type: WritePType,
        min_part_size: u64,
        max_body: u64,
        owner: Option<String>,
    ) -> Self {
        AlluxioS3 { fs, write_type, min_part_size, max_body, owner }
    }
}

fn err(e: alluxio_client::ClientError) -> S3Error {
    let code = match e.code {
        Code::NotFound => S3ErrorCode::NoSuchKey,
        Code::PermissionDenied | Code::Unauthenticated => S3ErrorCode::AccessDenied,
        Code::InvalidArgument => S3ErrorCode::InvalidArgument,
        Code::AlreadyExists | Code::FailedPrecondition => S3ErrorCode::InvalidRequest,
        Code::ResourceExhausted => S3ErrorCode::ServiceUnavailable,
        Code::Unavailable => S3ErrorCode::ServiceUnavailable,
        _ => S3ErrorCode::InternalError,
    };
    S3Error::with_message(code, e.message)
}

fn apath(p: &str) -> S3Result<AlluxioPath> {
    AlluxioPath::parse(p).map_err(|e| s3_error!(InvalidArgument, "invalid path {p}: {e}"))
}

fn bucket_path(bucket: &str) -> S3Result<AlluxioPath> {
    apath(&format!("/{bucket}"))
}

/// `/bucket/key` for a key; refuses keys Alluxio cannot hold as a path below the bucket.
pub fn object_path(bucket: &str, key: &str) -> S3Result<AlluxioPath> {
    let trimmed = key.strip_suffix('/').unwrap_or(key);
    if trimmed.is_empty()
        || trimmed.split('/').any(|c| c.is_empty() || c == "." || c == "..")
        || trimmed.split('/').any(|c| c.starts_with(TMP_PREFIX))
    {
        return Err(s3_error!(
            InvalidArgument,
            "Invalid object key {key:?}: empty, '.' or '..' path components are not supported"
        ));
    }
    apath(&format!("/{bucket}/{trimmed}"))
}

fn xattr_str(f: &FileInfo, k: &str) -> Option<String> {
    f.xattr.get(k).map(|v| String::from_utf8_lossy(v).into_owned())
}

fn etag_of(f: &FileInfo) -> ETag {
    ETag::Strong(xattr_str(f, X_ETAG).unwrap_or_else(|| {
        let mut h = Md5::new();
        h.update(f.file_id.to_le_bytes());
        h.update(f.length.to_le_bytes());
        h.update(f.last_modification_time_ms.to_le_bytes());
        hex(&h.finalize())
    }))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64))
}

/// Percent-encodes a listing value for `encoding-type=url` (keeps `/` and unreserved bytes).
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `k=v&k2=v2` (the `x-amz-tagging` header) as tags.
pub fn parse_tagging(s: &str) -> S3Result<Vec<Tag>> {
    let mut tags = Vec::new();
    for kv in s.split('&').filter(|kv| !kv.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        tags.push(Tag {
            key: Some(crate::rest::percent_decode(&k.replace('+', " "))),
            value: Some(crate::rest::percent_decode(&v.replace('+', " "))),
        });
    }
    check_tags(&tags)?;
    Ok(tags)
}

fn check_tags(tags: &[Tag]) -> S3Result<()> {
    if tags.len() > MAX_TAGS {
        return Err(s3_error!(InvalidTag, "Object tags cannot be greater than {MAX_TAGS}"));
    }
    let mut seen = std::collections::HashSet::new();
    for t in tags {
        let k = t.key.as_deref().unwrap_or("");
        if k.is_empty() || k.len() > 128 || t.value.as_deref().unwrap_or("").len() > 256 {
            return Err(s3_error!(InvalidTag, "Tag keys must be 1-128 characters and values at most 256"));
        }
        if !seen.insert(k.to_owned()) {
            return Err(s3_error!(InvalidTag, "Cannot provide multiple Tags with the same key {k}"));
        }
    }
    Ok(())
}

fn encode_tags(tags: &[Tag]) -> Vec<u8> {
    serde_json::to_vec(
        &tags
            .iter()
            .map(|t| (t.key.clone().unwrap_or_default(), t.value.clone().unwrap_or_default()))
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default()
}

fn decode_tags(f: &FileInfo) -> Vec<Tag> {
    f.xattr
        .get(X_TAGS)
        .and_then(|v| serde_json::from_slice::<Vec<(String, String)>>(v).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| Tag { key: Some(k), value: Some(v) })
        .collect()
}

/// What a finished upload wrote: its length and ETag.
struct Written {
    length: u64,
    etag: String,
}

impl AlluxioS3 {
    async fn status(&self, p: &AlluxioPath) -> S3Result<Option<FileInfo>> {
        match self.fs.get_status(p).await {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.code == Code::NotFound => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    async fn require_bucket(&self, bucket: &str) -> S3Result<AlluxioPath> {
        let p = bucket_path(bucket)?;
        match self.status(&p).await? {
            Some(f) if f.folder => Ok(p),
            _ => Err(s3_error!(NoSuchBucket, "The specified bucket {bucket} does not exist")),
        }
    }

    async fn require_object(&self, bucket: &str, key: &str) -> S3Result<(AlluxioPath, FileInfo)> {
        self.require_bucket(bucket).await?;
        let p = object_path(bucket, key)?;
        match self.status(&p).await? {
            Some(f) if !f.folder || key.ends_with('/') => Ok((p, f)),
            _ => Err(s3_error!(NoSuchKey, "The specified key {key} does not exist")),
        }
    }

    fn temp_path(&self, bucket: &str) -> S3Result<AlluxioPath> {
        apath(&format!("/{bucket}/{TMP_PREFIX}{:016x}", rand_u64()))
    }

    /// Writes `chunks` to a new file at `p`, checking the size limit and the Content-MD5 (if
    /// given); removes it on any error. The file is completed with `xattr` plus its ETag (`etag`,
    /// or the hex MD5 of the bytes) in one journal commit.
    async fn write_file<S>(
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
    async fn publish(&self, tmp: &AlluxioPath, dst: &AlluxioPath) -> S3Result<()> {
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
    async fn read_stream(&self, p: &AlluxioPath, offset: u64, len: u64) -> S3Result<StreamingBlob> {
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

    fn body_chunks(body: Option<StreamingBlob>) -> impl futures::Stream<Item = S3Result<Bytes>> + Unpin + Send {
        let s =
            body.map(|b| b.map(|c| c.map_err(|e| S3Error::with_message(S3ErrorCode::IncompleteBody, e.to_string()))));
        futures::stream::iter(s).flatten()
    }

    fn upload_dir(&self, upload_id: &str) -> S3Result<AlluxioPath> {
        if upload_id.is_empty() || !upload_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(s3_error!(NoSuchUpload, "The specified upload {upload_id} does not exist"));
        }
        apath(&format!("{UPLOADS}/{upload_id}"))
    }

    /// The upload directory of `upload_id`, checked to belong to `bucket`/`key`.
    async fn require_upload(&self, bucket: &str, key: &str, upload_id: &str) -> S3Result<(AlluxioPath, FileInfo)> {
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

    /// Every file and directory below `dir` as (key relative to the bucket, status), sorted.
    async fn keys_below(&self, bucket: &str, dir: &AlluxioPath, recursive: bool) -> S3Result<Vec<(String, FileInfo)>> {
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
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    h.finish()
}

/// One listing page: keys and common prefixes after `after`, at most `max`.
struct Page {
    contents: Vec<Object>,
    prefixes: Vec<CommonPrefix>,
    truncated: bool,
    next: Option<String>,
}

impl AlluxioS3 {
    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        after: Option<&str>,
        max: usize,
        url: bool,
    ) -> S3Result<Page> {
        self.require_bucket(bucket).await?;
        if let Some(d) = delimiter {
            if d != "/" {
                return Err(s3_error!(InvalidArgument, "Only the delimiter / is supported, not {d:?}"));
            }
        }
        // The deepest directory that holds every key with this prefix.
        let dir_rel = prefix.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        if dir_rel.split('/').any(|c| c == "." || c == "..") {
            return Err(s3_error!(InvalidArgument, "Invalid prefix {prefix:?}"));
        }
        let dir = if dir_rel.is_empty() { bucket_path(bucket)? } else { apath(&format!("/{bucket}/{dir_rel}"))? };
        let entries = self.keys_below(bucket, &dir, delimiter.is_none()).await?;
        let enc = |s: &str| if url { url_encode(s) } else { s.to_owned() };
        let mut page = Page { contents: Vec::new(), prefixes: Vec::new(), truncated: false, next: None };
        for (key, f) in entries {
            if !key.starts_with(prefix) || after.is_some_and(|a| key.as_str() <= a) {
                continue;
            }
            if page.contents.len() + page.prefixes.len() >= max {
                page.truncated = true;
                break;
            }
            if f.folder && delimiter.is_some() {
                page.prefixes.push(CommonPrefix { prefix: Some(enc(&key)) });
            } else if f.folder && f.child_count > 0 {
                continue; // implicit parents of other keys are not objects
            } else {
                page.contents.push(Object {
                    key: Some(enc(&key)),
                    last_modified: Some(timestamp(f.last_modification_time_ms)),
                    e_tag: Some(etag_of(&f)),
                    size: Some(f.length),
                    storage_class: Some(ObjectStorageClass::from_static(ObjectStorageClass::STANDARD)),
                    ..Default::default()
                });
            }
            page.next = Some(key);
        }
        if !page.truncated {
            page.next = None;
        }
        Ok(page)
    }
}

fn is_url(e: &Option<EncodingType>) -> bool {
    e.as_ref().is_some_and(|e| e.as_str() == EncodingType::URL)
}

#[async_trait::async_trait]
impl S3 for AlluxioS3 {
    async fn list_buckets(&self, _req: S3Request<ListBucketsInput>) -> S3Result<S3Response<ListBucketsOutput>> {
        let list = self.fs.list_status(&AlluxioPath::root(), false).await.map_err(err)?;
        let mut buckets: Vec<Bucket> = list
            .into_iter()
            .filter(|f| f.folder && s3s::path::check_bucket_name(&f.name))
            .filter(|f| self.owner.as_ref().is_none_or(|o| *o == f.owner))
            .map(|f| Bucket {
                name: Some(f.name),
                creation_date: Some(timestamp(f.creation_time_ms)),
                ..Default::default()
            })
            .collect();
        buckets.sort_by(|a, b| a.name.cmp(&b.name));
        let name = self.owner.clone().unwrap_or_else(|| self.fs.conf().user.clone());
        let owner = Owner { display_name: Some(name.clone()), id: Some(name) };
        Ok(S3Response::new(ListBucketsOutput { buckets: Some(buckets), owner: Some(owner), ..Default::default() }))
    }

    async fn create_bucket(&self, req: S3Request<CreateBucketInput>) -> S3Result<S3Response<CreateBucketOutput>> {
        let p = bucket_path(&req.input.bucket)?;
        match self.status(&p).await? {
            Some(f) if f.folder => {}
            Some(_) => return Err(s3_error!(BucketAlreadyExists, "A file named {p} exists")),
            None => self.fs.create_directory(&p, false, true, Some(self.write_type)).await.map_err(err)?,
        }
        Ok(S3Response::new(CreateBucketOutput { location: Some(format!("/{}", req.input.bucket)) }))
    }

    async fn delete_bucket(&self, req: S3Request<DeleteBucketInput>) -> S3Result<S3Response<DeleteBucketOutput>> {
        let p = self.require_bucket(&req.input.bucket).await?;
        let f = self.fs.get_status(&p).await.map_err(err)?;
        if f.mount_point {
            return Err(s3_error!(InvalidRequest, "Bucket {} is a mount point: unmount it instead", req.input.bucket));
        }
        if !self.fs.list_status(&p, false).await.map_err(err)?.is_empty() {
            return Err(s3_error!(BucketNotEmpty, "The bucket {} is not empty", req.input.bucket));
        }
        self.fs.delete(&p, false, false).await.map_err(err)?;
        Ok(S3Response::new(DeleteBucketOutput {}))
    }

    async fn head_bucket(&self, req: S3Request<HeadBucketInput>) -> S3Result<S3Response<HeadBucketOutput>> {
        self.require_bucket(&req.input.bucket).await?;
        Ok(S3Response::new(HeadBucketOutput::default()))
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.require_bucket(&req.input.bucket).await?;
        Ok(S3Response::new(GetBucketLocationOutput::default()))
    }

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        let i = req.input;
        self.require_bucket(&i.bucket).await?;
        let dst = object_path(&i.bucket, &i.key)?;
        if i.key.ends_with('/') {
            // A "folder" object: an empty directory.
            self.fs.create_directory(&dst, true, true, Some(self.write_type)).await.map_err(err)?;
            let mark =
                SetAttributeOptions { xattr: HashMap::from([(X_FOLDER.to_owned(), Vec::new())]), ..Default::default() };
            self.fs.set_attribute(&dst, mark).await.map_err(err)?;
            return Ok(S3Response::new(PutObjectOutput {
                e_tag: Some(ETag::Strong(hex(&Md5::digest(b"")))),
                ..Default::default()
            }));
        }
        if i.content_length.is_some_and(|n| n as u64 > self.max_body) {
            return Err(s3_error!(EntityTooLarge, "Your proposed upload exceeds the maximum allowed size"));
        }
        let tags = i.tagging.as_deref().map(parse_tagging).transpose()?;
        let mut x = HashMap::new();
        if let Some(t) = &i.content_type {
            x.insert(X_TYPE.into(), t.to_string().into_bytes());
        }
        if let Some(t) = &tags {
            x.insert(X_TAGS.into(), encode_tags(t));
        }
        let tmp = self.temp_path(&i.bucket)?;
        let w = self.write_file(&tmp, Self::body_chunks(i.body), i.content_md5.as_deref(), x, None).await?;
        self.publish(&tmp, &dst).await?;
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(ETag::Strong(w.etag)),
            size: Some(w.length as i64),
            ..Default::default()
        }))
    }

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        let i = req.input;
        let (p, f) = self.require_object(&i.bucket, &i.key).await?;
        let len = if f.folder { 0 } else { f.length as u64 };
        let etag = etag_of(&f);
        if let Some(ETagCondition::ETag(want)) = &i.if_match {
            if want.value() != etag.value() {
                return Err(s3_error!(
                    PreconditionFailed,
                    "At least one of the pre-conditions you specified did not hold"
                ));
            }
        }
        let (start, end, content_range) = match &i.range {
            Some(r) => {
                let range = r.check(len)?;
                (range.start, range.end, Some(format!("bytes {}-{}/{len}", range.start, range.end - 1)))
            }
            None => (0, len, None),
        };
        let body = if end > start { Some(self.read_stream(&p, start, end - start).await?) } else { None };
        Ok(S3Response::new(GetObjectOutput {
            body: body.or_else(|| Some(StreamingBlob::from(s3s::Body::from(Bytes::new())))),
            content_length: Some((end - start) as i64),
            content_range,
            content_type: xattr_str(&f, X_TYPE).or_else(|| Some("application/octet-stream".into())),
            e_tag: Some(etag),
            last_modified: Some(timestamp(f.last_modification_time_ms)),
            accept_ranges: Some("bytes".into()),
            tag_count: Some(decode_tags(&f).len() as i32).filter(|n| *n > 0),
            ..Default::default()
        }))
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        let i = req.input;
        let (_, f) = self.require_object(&i.bucket, &i.key).await?;
        Ok(S3Response::new(HeadObjectOutput {
            content_length: Some(if f.folder { 0 } else { f.length }),
            content_type: xattr_str(&f, X_TYPE).or_else(|| Some("application/octet-stream".into())),
            e_tag: Some(etag_of(&f)),
            last_modified: Some(timestamp(f.last_modification_time_ms)),
            accept_ranges: Some("bytes".into()),
            ..Default::default()
        }))
    }

    async fn delete_object(&self, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        let i = req.input;
        self.require_bucket(&i.bucket).await?;
        self.delete_key(&i.bucket, &i.key).await?;
        Ok(S3Response::new(DeleteObjectOutput::default()))
    }

    async fn delete_objects(&self, req: S3Request<DeleteObjectsInput>) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let i = req.input;
        self.require_bucket(&i.bucket).await?;
        let quiet = i.delete.quiet == Some(true);
        let (mut deleted, mut errors) = (Vec::new(), Vec::new());
        for o in i.delete.objects {
            match self.delete_key(&i.bucket, &o.key).await {
                Ok(()) if !quiet => deleted.push(DeletedObject { key: Some(o.key), ..Default::default() }),
                Ok(()) => {}
                Err(e) => errors.push(s3s::dto::Error {
                    code: Some(e.code().as_str().to_owned()),
                    key: Some(o.key),
                    message: e.message().map(str::to_owned),
                    version_id: None,
                }),
            }
        }
        Ok(S3Response::new(DeleteObjectsOutput {
            deleted: Some(deleted),
            errors: (!errors.is_empty()).then_some(errors),
            ..Default::default()
        }))
    }

    async fn copy_object(&self, req: S3Request<CopyObjectInput>) -> S3Result<S3Response<CopyObjectOutput>> {
        let i = req.input;
        let (src_bucket, src_key) = match &i.copy_source {
            CopySource::Bucket { bucket, key, .. } => (bucket.to_string(), key.to_string()),
            _ => return Err(s3_error!(NotImplemented, "Only bucket copy sources are supported")),
        };
        let (src, f) = self.require_object(&src_bucket, &src_key).await?;
        if f.folder {
            return Err(s3_error!(InvalidRequest, "Cannot copy the directory {src_key}"));
        }
        self.require_bucket(&i.bucket).await?;
        let dst = object_path(&i.bucket, &i.key)?;
        let tmp = self.temp_path(&i.bucket)?;
        let replace = i.metadata_directive.as_ref().is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
        let mut x = HashMap::new();
        let ctype = if replace { i.content_type.clone() } else { xattr_str(&f, X_TYPE) };
        if let Some(t) = ctype {
            x.insert(X_TYPE.into(), t.into_bytes());
        }
        let replace_tags = i.tagging_directive.as_ref().is_some_and(|d| d.as_str() == "REPLACE");
        let tags =
            if replace_tags { i.tagging.as_deref().map(parse_tagging).transpose()? } else { Some(decode_tags(&f)) };
        if let Some(t) = tags.filter(|t| !t.is_empty()) {
            x.insert(X_TAGS.into(), encode_tags(&t));
        }
        let body = self.read_stream(&src, 0, f.length as u64).await?;
        let w = self.write_file(&tmp, Self::body_chunks(Some(body)), None, x, None).await?;
        self.publish(&tmp, &dst).await?;
        let done = self.fs.get_status(&dst).await.map_err(err)?;
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                e_tag: Some(ETag::Strong(w.etag)),
                last_modified: Some(timestamp(done.last_modification_time_ms)),
                ..Default::default()
            }),
            ..Default::default()
        }))
    }

    async fn list_objects(&self, req: S3Request<ListObjectsInput>) -> S3Result<S3Response<ListObjectsOutput>> {
        let i = req.input;
        let max = i.max_keys.unwrap_or(1000).clamp(0, 1000) as usize;
        let url = is_url(&i.encoding_type);
        let prefix = i.prefix.clone().unwrap_or_default();
        let page = self.list_page(&i.bucket, &prefix, i.delimiter.as_deref(), i.marker.as_deref(), max, url).await?;
        let enc = |s: Option<String>| if url { s.map(|s| url_encode(&s)) } else { s };
        Ok(S3Response::new(ListObjectsOutput {
            name: Some(i.bucket),
            prefix: enc(Some(prefix)),
            marker: enc(i.marker),
            max_keys: Some(max as i32),
            is_truncated: Some(page.truncated),
            next_marker: if i.delimiter.is_some() { enc(page.next) } else { None },
            contents: Some(page.contents),
            common_prefixes: Some(page.prefixes),
            delimiter: enc(i.delimiter),
            encoding_type: i.encoding_type,
            ..Default::default()
        }))
    }

    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
        let i = req.input;
        let max = i.max_keys.unwrap_or(1000).clamp(0, 1000) as usize;
        let url = is_url(&i.encoding_type);
        let prefix = i.prefix.clone().unwrap_or_default();
        let token = match &i.continuation_token {
            Some(t) => Some(
                String::from_utf8(
                    base64_decode(t).ok_or_else(|| s3_error!(InvalidArgument, "Invalid continuation token"))?,
                )
                .map_err(|_| s3_error!(InvalidArgument, "Invalid continuation token"))?,
            ),
            None => None,
        };
        let after = match (&token, &i.start_after) {
            (Some(t), Some(s)) => Some(t.clone().max(s.clone())),
            (Some(t), None) => Some(t.clone()),
            (None, s) => s.clone(),
        };
        let page = self.list_page(&i.bucket, &prefix, i.delimiter.as_deref(), after.as_deref(), max, url).await?;
        let enc = |s: Option<String>| if url { s.map(|s| url_encode(&s)) } else { s };
        Ok(S3Response::new(ListObjectsV2Output {
            name: Some(i.bucket),
            prefix: enc(Some(prefix)),
            max_keys: Some(max as i32),
            key_count: Some((page.contents.len() + page.prefixes.len()) as i32),
            continuation_token: i.continuation_token,
            is_truncated: Some(page.truncated),
            next_continuation_token: page.next.map(|k| base64_encode(k.as_bytes())),
            contents: Some(page.contents),
            common_prefixes: Some(page.prefixes),
            delimiter: enc(i.delimiter),
            encoding_type: i.encoding_type,
            start_after: enc(i.start_after),
            ..Default::default()
        }))
    }

    async fn create_multipart_upload(
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

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
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

    async fn list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
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

    async fn complete_multipart_upload(
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

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let i = req.input;
        let (dir, _) = self.require_upload(&i.bucket, &i.key, &i.upload_id).await?;
        self.fs.delete(&dir, true, false).await.map_err(err)?;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }

    async fn get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        let (_, f) = self.require_object(&req.input.bucket, &req.input.key).await?;
        Ok(S3Response::new(GetObjectTaggingOutput { tag_set: decode_tags(&f), version_id: None }))
    }

    async fn put_object_tagging(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> S3Result<S3Response<PutObjectTaggingOutput>> {
        let i = req.input;
        let (p, _) = self.require_object(&i.bucket, &i.key).await?;
        check_tags(&i.tagging.tag_set)?;
        let x = HashMap::from([(X_TAGS.to_owned(), encode_tags(&i.tagging.tag_set))]);
        self.fs.set_attribute(&p, SetAttributeOptions { xattr: x, ..Default::default() }).await.map_err(err)?;
        Ok(S3Response::new(PutObjectTaggingOutput { version_id: None }))
    }

    async fn delete_object_tagging(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        let (p, _) = self.require_object(&req.input.bucket, &req.input.key).await?;
        let o = SetAttributeOptions { xattr_delete: vec![X_TAGS.to_owned()], ..Default::default() };
        self.fs.set_attribute(&p, o).await.map_err(err)?;
        Ok(S3Response::new(DeleteObjectTaggingOutput { version_id: None }))
    }
}

impl AlluxioS3 {
    /// Deletes an object (or an empty "folder" key); a missing key is not an error.
    async fn delete_key(&self, bucket: &str, key: &str) -> S3Result<()> {
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
    async fn prune_parents(&self, bucket: &str, p: &AlluxioPath) {
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

    /// Uploaded parts of an upload directory, by part number.
    async fn parts(&self, dir: &AlluxioPath) -> S3Result<Vec<(i32, FileInfo)>> {
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
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (Content-MD5 values and continuation tokens).
fn base64_encode(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for c in b.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            if k <= c.len() {
                out.push(B64[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 (continuation tokens); `None` for anything else.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits & 0xff) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_leave_their_bucket() {
        assert_eq!(object_path("b", "a/c.txt").unwrap().to_string(), "/b/a/c.txt");
        assert_eq!(object_path("b", "dir/").unwrap().to_string(), "/b/dir");
        for bad in ["../x", "a/../../x", "a//b", "./a", "", "/a", "a/.alluxio_s3_tmp.1"] {
            assert!(object_path("b", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn base64_round_trips_and_matches_content_md5() {
        for s in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar"] {
            assert_eq!(base64_decode(&base64_encode(s)).unwrap(), s);
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(&Md5::digest(b"")), "1B2M2Y8AsgTpgAmY7PhCfg==");
    }

    #[test]
    fn listing_values_are_url_encoded_like_s3() {
        assert_eq!(url_encode("a b/c+d%é"), "a%20b/c%2Bd%25%C3%A9");
    }

    proptest::proptest! {
        /// Whatever key a request names, the file stays inside its bucket (or the key is refused).
        #[test]
        fn no_key_leaves_its_bucket(key in "[a-z./%-]{0,24}") {
            let decoded = crate::rest::percent_decode(&key);
            if let Ok(p) = object_path("bkt", &decoded) {
                let s = p.to_string();
                proptest::prop_assert!(s.starts_with("/bkt/"), "{} -> {}", decoded, s);
                proptest::prop_assert!(!s.split('/').any(|c| c == ".." || c == "."), "{}", s);
            }
        }

        #[test]
        fn tagging_headers_of_any_text_parse_or_fail_cleanly(h in ".{0,64}") {
            let _ = parse_tagging(&h);
        }

        #[test]
        fn continuation_tokens_of_any_text_decode_or_fail_cleanly(t in ".{0,64}") {
            let _ = base64_decode(&t);
        }
    }

    #[test]
    fn tags_parse_and_are_limited() {
        let t = parse_tagging("a=1&b=two%20words").unwrap();
        assert_eq!(t[1].value.as_deref(), Some("two words"));
        let many: Vec<String> = (0..11).map(|i| format!("k{i}=v")).collect();
        assert!(parse_tagging(&many.join("&")).is_err());
        assert!(parse_tagging("a=1&a=2").is_err());
    }
}
