//! Checkpoints of the UFS journal.

use super::*;

impl FileSystemMaster {
    /// Starts a background checkpoint when enough entries accumulated since the last one.
    pub(super) fn maybe_checkpoint(&self) {
        if self.layout.is_none() || self.opts.checkpoint_period_entries <= 0 {
            return;
        }
        let since = self.journal.next_sequence() - self.last_checkpoint.load(Ordering::Relaxed);
        if since >= self.opts.checkpoint_period_entries && !self.checkpoint_running.swap(true, Ordering::SeqCst) {
            match self.checkpoint_kick.get() {
                Some(tx) => {
                    let _ = tx.try_send(());
                }
                None => self.checkpoint_running.store(false, Ordering::SeqCst),
            }
        }
    }

    /// Writes a checkpoint of the current state now (blocking: call from a blocking thread).
    /// Returns the sequence number it covers.
    pub fn checkpoint_blocking(&self) -> Result<i64> {
        let _one = self.checkpoint_lock.lock();
        let Some(layout) = &self.layout else {
            return Err(MasterError::NoCheckpoints { journal: self.journal.kind() });
        };
        let started = std::time::Instant::now();
        // Copied under the read lock (as backups do), written without it: writers stall for
        // the copy, not for the disk.
        let (entries, end) = {
            let ns = self.ns.read();
            let end = self.journal.next_sequence();
            if end == self.last_checkpoint.load(Ordering::SeqCst) {
                self.checkpoint_running.store(false, Ordering::SeqCst);
                return Ok(end);
            }
            (ns.entries(), end)
        };
        let mut writer = CheckpointWriter::create(layout, end)?;
        for e in entries {
            writer.append(&entry(e))?;
        }
        let count = writer.count();
        let path = writer.finish()?;
        self.last_checkpoint.store(end, Ordering::SeqCst);
        self.checkpoint_running.store(false, Ordering::SeqCst);
        tracing::info!(
            "checkpoint of {count} entries covering journal sequence < {end} written to {} in {} ms",
            path.display(),
            started.elapsed().as_millis()
        );
        Ok(end)
    }

    /// Connects the background checkpointer (see `server`).
    pub fn set_checkpoint_kick(&self, tx: tokio::sync::mpsc::Sender<()>) {
        let _ = self.checkpoint_kick.set(tx);
    }

    /// Sequence number covered by the newest checkpoint.
    pub fn last_checkpoint(&self) -> i64 {
        self.last_checkpoint.load(Ordering::SeqCst)
    }
}
