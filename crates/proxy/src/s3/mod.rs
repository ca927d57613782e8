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

mod gateway;
mod listing;
mod multipart;
mod names;
mod store;
mod tags;

pub use gateway::{Gateway, NamedUser};
use listing::*;
pub use multipart::prepare_uploads;
use names::*;
pub use names::{base64_decode, object_path};
pub use tags::parse_tagging;
use tags::*;

/// The S3 service over one Alluxio client.
#[derive(Clone)]
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

    /// The same service acting for `user` (its access key); the proxy's own user, or none,
    /// acts as the proxy and sees every bucket.
    pub fn for_user(&self, user: Option<&str>) -> AlluxioS3 {
        match user.filter(|u| *u != self.fs.conf().user) {
            None => self.clone(),
            Some(u) => AlluxioS3 { fs: self.fs.impersonating(u), owner: Some(u.to_owned()), ..self.clone() },
        }
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
        self.start_upload(req).await
    }

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        self.put_part(req).await
    }

    async fn list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        self.list_upload_parts(req).await
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        self.complete_upload(req).await
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        self.abort_upload(req).await
    }

    async fn get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        self.get_tags(req).await
    }

    async fn put_object_tagging(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> S3Result<S3Response<PutObjectTaggingOutput>> {
        self.put_tags(req).await
    }

    async fn delete_object_tagging(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        self.delete_tags(req).await
    }
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
