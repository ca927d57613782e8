//! The one way the worker runs file-system calls from async code: on tokio's blocking pool,
//! never on an async worker thread (a slow disk must not stall every other request).

use std::io::Write;
use std::path::PathBuf;

use bytes::Bytes;

/// Runs `f` on the blocking pool and returns what it returns; a panic in `f` resumes here.
pub async fn run<T, F>(f: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(v) => v,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only a runtime shutting down cancels blocking tasks; nothing is left to answer.
        Err(e) => panic!("blocking task cancelled during shutdown: {e}"),
    }
}

/// A block file being written; each call runs on the blocking pool.
pub struct BlockFile {
    /// `None` while a write runs, and for good after a write was abandoned midway.
    file: Option<std::fs::File>,
    path: PathBuf,
}

impl BlockFile {
    /// Creates (or truncates) the file at `path`.
    pub async fn create(path: PathBuf) -> std::io::Result<BlockFile> {
        let p = path.clone();
        let file = run(move || std::fs::File::create(&p)).await?;
        Ok(BlockFile { file: Some(file), path })
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Appends `data`.
    pub async fn write(&mut self, data: Bytes) -> std::io::Result<()> {
        let Some(mut f) = self.file.take() else {
            return Err(std::io::Error::other(format!("{} was closed after a failed write", self.path.display())));
        };
        let (f, r) = run(move || {
            let r = f.write_all(&data);
            (f, r)
        })
        .await;
        self.file = Some(f);
        r
    }

    /// Closes the file on the blocking pool (a close can flush to a slow disk).
    pub async fn close(mut self) {
        if let Some(f) = self.file.take() {
            run(move || drop(f)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_land_in_order_and_panics_resume() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = BlockFile::create(dir.path().join("b")).await.unwrap();
        f.write(Bytes::from_static(b"abc")).await.unwrap();
        f.write(Bytes::from_static(b"def")).await.unwrap();
        let path = f.path().to_owned();
        f.close().await;
        assert_eq!(std::fs::read(path).unwrap(), b"abcdef");
        let caught = tokio::spawn(run(|| panic!("boom"))).await.unwrap_err();
        assert!(caught.is_panic());
        assert!(BlockFile::create(dir.path().join("no/such/dir/b")).await.is_err());
    }
}
