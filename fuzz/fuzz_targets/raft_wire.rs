//! Raft frames from a peer on the embedded journal port: header, kind, openraft request.
#![no_main]

use alluxio_journal::raft::wire::{decode_payload, decode_request, frame_len, MAX_FRAME};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((header, body)) = data.split_first_chunk::<4>() else { return };
    if let Ok(n) = frame_len(*header) {
        assert!(n <= MAX_FRAME);
    }
    if let Ok((kind, payload)) = decode_request(body) {
        let _ = decode_payload(kind, payload);
    }
});
