//! Writing checkpoints: the full state as journal entries, published atomically.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use alluxio_proto::journal::{journal_entry::Entry, BackupTrailer, JournalEntry};

use crate::error::{io, JournalError};
use crate::format::{encode_header, encode_record, FileKind};
use crate::layout::{range_name, sync_dir, Layout};

/// Streams state entries into a temporary file; [`CheckpointWriter::finish`] makes it the
/// newest checkpoint (fsync, rename, fsync of the directory) and deletes what it supersedes.
pub struct CheckpointWriter {
    layout: Layout,
    end: i64,
    tmp: PathBuf,
    out: BufWriter<File>,
    buf: Vec<u8>,
    count: i64,
}

impl CheckpointWriter {
    /// Starts a checkpoint covering every entry before sequence `end`.
    pub fn create(layout: &Layout, end: i64) -> Result<Self, JournalError> {
        let dir = layout.tmp_dir();
        alluxio_common::private::create_dir_all(&dir).map_err(io("create", &dir))?;
        let tmp = dir.join(format!("checkpoint-{end:x}-{}", std::process::id()));
        let file = alluxio_common::private::create_file(&tmp).map_err(io("create", &tmp))?;
        let mut out = BufWriter::with_capacity(4 << 20, file);
        out.write_all(&encode_header(FileKind::Checkpoint, end)).map_err(io("write", &tmp))?;
        Ok(CheckpointWriter { layout: layout.clone(), end, tmp, out, buf: Vec::with_capacity(4096), count: 0 })
    }

    /// Adds one state entry.
    pub fn append(&mut self, entry: &JournalEntry) -> Result<(), JournalError> {
        self.buf.clear();
        encode_record(entry, &mut self.buf);
        self.count += 1;
        self.out.write_all(&self.buf).map_err(io("write", &self.tmp))
    }

    /// Number of entries appended so far.
    pub fn count(&self) -> i64 {
        self.count
    }

    /// Seals and publishes the checkpoint; returns its path. Older checkpoints and the log
    /// segments it covers are deleted afterwards.
    pub fn finish(mut self) -> Result<PathBuf, JournalError> {
        let trailer = JournalEntry {
            sequence_number: 0,
            entry: Some(Entry::BackupTrailer(BackupTrailer { entry_count: self.count, crc32c: 0 })),
        };
        self.buf.clear();
        encode_record(&trailer, &mut self.buf);
        self.out.write_all(&self.buf).map_err(io("write", &self.tmp))?;
        self.out.flush().map_err(io("write", &self.tmp))?;
        self.out.get_ref().sync_all().map_err(io("sync", &self.tmp))?;
        let dir = self.layout.checkpoints_dir();
        alluxio_common::private::create_dir_all(&dir).map_err(io("create", &dir))?;
        let dst = dir.join(range_name(0, self.end));
        fs::rename(&self.tmp, &dst).map_err(io("rename", &self.tmp))?;
        sync_dir(&dir)?;
        gc(&self.layout, self.end)?;
        Ok(dst)
    }
}

impl Drop for CheckpointWriter {
    fn drop(&mut self) {
        // An abandoned checkpoint leaves nothing behind; after `finish` the file is gone already.
        let _ = fs::remove_file(&self.tmp);
    }
}

/// Deletes checkpoints older than the one at `end` and completed segments it covers.
fn gc(layout: &Layout, end: i64) -> Result<(), JournalError> {
    for (e, p) in layout.checkpoints()? {
        if e < end {
            fs::remove_file(&p).map_err(io("delete", &p))?;
        }
    }
    for s in layout.segments()? {
        if !s.in_progress() && s.end <= end {
            fs::remove_file(&s.path).map_err(io("delete", &s.path))?;
        }
    }
    Ok(())
}
