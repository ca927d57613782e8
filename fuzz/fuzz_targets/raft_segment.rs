//! A Raft log segment of the embedded journal, and the journal batches its entries carry.
#![no_main]

use alluxio_journal::raft::segments;
use libfuzzer_sys::fuzz_target;
use openraft::EntryPayload;

fuzz_target!(|data: &[u8]| {
    let Ok((entries, scan)) = segments::entries(std::path::Path::new("log-1"), data, 1) else { return };
    assert!(scan.valid_len as usize <= data.len());
    assert_eq!(scan.damage.is_some(), (scan.valid_len as usize) < data.len());
    assert!(!scan.corrupt || scan.damage.is_some());
    for (k, e) in entries.iter().enumerate() {
        assert_eq!(e.log_id.index, 1 + k as u64);
        if let EntryPayload::Normal(batch) = &e.payload {
            let _ = batch.decode();
        }
    }
});
