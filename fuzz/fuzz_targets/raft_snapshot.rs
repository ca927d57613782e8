//! An embedded journal snapshot file (`<journal>/v1/raft/snapshot`, also sent to lagging
//! masters by InstallSnapshot) and the journal entries it holds.
#![no_main]

use alluxio_journal::raft::state_machine::{decode_snapshot_file, snapshot_entries};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((_, body)) = decode_snapshot_file(std::path::Path::new("snapshot"), data) {
        let _ = snapshot_entries(&body);
    }
    // Snapshot data also arrives alone, in InstallSnapshot chunks.
    let _ = snapshot_entries(data);
});
