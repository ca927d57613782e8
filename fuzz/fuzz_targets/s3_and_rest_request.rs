//! What the proxy decodes itself from S3 and REST requests (s3s parses the rest of the S3
//! protocol): object keys, `x-amz-tagging` headers, continuation tokens, REST URL paths and
//! query strings.
#![no_main]

use alluxio_proxy::{rest, s3};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(p) = s3::object_path("bkt", &rest::percent_decode(text)) {
        // No key leaves its bucket.
        let p = p.to_string();
        assert!(p.starts_with("/bkt/") && !p.split('/').any(|c| c == ".." || c == "."), "{text:?} -> {p}");
    }
    let _ = s3::parse_tagging(text);
    let _ = s3::base64_decode(text);
    if let Ok(p) = rest::alluxio_path(text) {
        assert!(p.to_string().starts_with('/'));
    }
    let _ = rest::query_param(text, "dst");
});
