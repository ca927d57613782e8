//! A UFS journal segment or checkpoint file, as read at start-up and by `readJournal`.
#![no_main]

use std::path::Path;

use alluxio_journal::format::{decode_header, read_records, Damage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = Path::new("fuzz");
    if decode_header(file, data).is_err() {
        return;
    }
    let mut last = None;
    match read_records(file, data, |offset, _| {
        // Records are visited in file order.
        assert!(last.is_none_or(|l| offset > l));
        last = Some(offset);
        Ok(())
    }) {
        Ok(Some(Damage::TornTail { offset, .. } | Damage::Corrupt { offset, .. })) => {
            assert!(offset as usize <= data.len())
        }
        Ok(None) | Err(_) => {}
    }
});
