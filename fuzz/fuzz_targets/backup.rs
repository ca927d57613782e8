//! A backup file (`alluxio-backup-*.gz`), as read by a restore and `readJournal -inputFile`.
#![no_main]

use alluxio_journal::backup::read_backup;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut n = 0u64;
    if let Ok(info) = read_backup(data, "fuzz.gz", |_, _| {
        n += 1;
        Ok(())
    }) {
        // An accepted backup delivered exactly the entries its trailer counts.
        assert_eq!(info.entries, n);
    }
});
