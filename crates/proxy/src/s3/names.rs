//! Names: where buckets, objects, uploads and S3 metadata live in Alluxio, and the encodings
//! S3 uses (hex, base64, URL encoding, timestamps).

use super::*;

pub(super) const UPLOADS: &str = "/.alluxio_s3_api_metadata/uploads";

pub(super) const TMP_PREFIX: &str = ".alluxio_s3_tmp.";

pub(super) const X_ETAG: &str = "s3_etag";

pub(super) const X_TYPE: &str = "s3_content_type";

pub(super) const X_TAGS: &str = "s3_tags";

/// Marks a directory made by a PUT of a `dir/` key: it stays when its last object goes.
pub(super) const X_FOLDER: &str = "s3_folder";

pub(super) const X_BUCKET: &str = "s3_uploads_bucket";

pub(super) const X_KEY: &str = "s3_uploads_object";

pub(super) const MAX_TAGS: usize = 10;

pub(super) fn apath(p: &str) -> S3Result<AlluxioPath> {
    AlluxioPath::parse(p).map_err(|e| s3_error!(InvalidArgument, "invalid path {p}: {e}"))
}

pub(super) fn bucket_path(bucket: &str) -> S3Result<AlluxioPath> {
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

pub(super) fn xattr_str(f: &FileInfo, k: &str) -> Option<String> {
    f.xattr.get(k).map(|v| String::from_utf8_lossy(v).into_owned())
}

pub(super) fn etag_of(f: &FileInfo) -> ETag {
    ETag::Strong(xattr_str(f, X_ETAG).unwrap_or_else(|| {
        let mut h = Md5::new();
        h.update(f.file_id.to_le_bytes());
        h.update(f.length.to_le_bytes());
        h.update(f.last_modification_time_ms.to_le_bytes());
        hex(&h.finalize())
    }))
}

pub(super) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub(super) fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64))
}

/// Percent-encodes a listing value for `encoding-type=url` (keeps `/` and unreserved bytes).
pub(super) fn url_encode(s: &str) -> String {
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

pub(super) fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    h.finish()
}

pub(super) const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (Content-MD5 values and continuation tokens).
pub(super) fn base64_encode(b: &[u8]) -> String {
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
