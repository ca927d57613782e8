//! Listing a bucket: pages of keys and common prefixes.

use super::*;

/// One listing page: keys and common prefixes after `after`, at most `max`.
pub(super) struct Page {
    pub contents: Vec<Object>,
    pub prefixes: Vec<CommonPrefix>,
    pub truncated: bool,
    pub next: Option<String>,
}

pub(super) fn is_url(e: &Option<EncodingType>) -> bool {
    e.as_ref().is_some_and(|e| e.as_str() == EncodingType::URL)
}

impl AlluxioS3 {
    pub(super) async fn list_page(
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
