//! A block read request on a worker's data port.
#![no_main]

use alluxio_proto::data_port::{parse_request, request, REQUEST_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(r) = data.first_chunk::<REQUEST_LEN>() else { return };
    if let Ok((block, offset, length)) = parse_request(r) {
        // What parses is exactly what the client would have sent.
        assert_eq!(&request(block, offset, length), r);
    }
});
