//! Object tags: parsing, limits, and their place in an extended attribute.

use super::*;

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

pub(super) fn check_tags(tags: &[Tag]) -> S3Result<()> {
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

pub(super) fn encode_tags(tags: &[Tag]) -> Vec<u8> {
    serde_json::to_vec(
        &tags
            .iter()
            .map(|t| (t.key.clone().unwrap_or_default(), t.value.clone().unwrap_or_default()))
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default()
}

pub(super) fn decode_tags(f: &FileInfo) -> Vec<Tag> {
    f.xattr
        .get(X_TAGS)
        .and_then(|v| serde_json::from_slice::<Vec<(String, String)>>(v).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| Tag { key: Some(k), value: Some(v) })
        .collect()
}

impl AlluxioS3 {
    pub(super) async fn get_tags(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        let (_, f) = self.require_object(&req.input.bucket, &req.input.key).await?;
        Ok(S3Response::new(GetObjectTaggingOutput { tag_set: decode_tags(&f), version_id: None }))
    }

    pub(super) async fn put_tags(
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

    pub(super) async fn delete_tags(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        let (p, _) = self.require_object(&req.input.bucket, &req.input.key).await?;
        let o = SetAttributeOptions { xattr_delete: vec![X_TAGS.to_owned()], ..Default::default() };
        self.fs.set_attribute(&p, o).await.map_err(err)?;
        Ok(S3Response::new(DeleteObjectTaggingOutput { version_id: None }))
    }
}
