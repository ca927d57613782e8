//! Alluxio paths as clients send them in RPCs, the REST API and S3 keys.
#![no_main]

use alluxio_common::AlluxioPath;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(p) = AlluxioPath::parse(s) {
        // A parsed path is normal: parsing its text again gives the same path.
        let again = AlluxioPath::parse(&p.to_string()).expect("a parsed path parses again");
        assert_eq!(again.to_string(), p.to_string());
    }
});
