//! A block's checksum sidecar file (`<blockId>.crc` in a worker's tier directory).
#![no_main]

use alluxio_common::checksum;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(crcs) = checksum::decode(data) {
        // Whatever decodes encodes back to the same bytes.
        assert_eq!(checksum::encode(&crcs), data);
    }
});
