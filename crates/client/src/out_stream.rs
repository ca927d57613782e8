//! `FileOutStream`: writes a file block by block to a worker (short-circuit into the local
//! worker's tier directory when possible) and, for CACHE_THROUGH/THROUGH, to the UFS through
//! the same worker; `close` completes the file on the master.
//!
//! A stream dropped or aborted before `close` leaves nothing: the workers discard the
//! unfinished block and UFS file, and the incomplete file is deleted from the master.

use std::io::Write;

use alluxio_common::checksum;
use alluxio_common::status::Code;
use alluxio_common::AlluxioPath;
use alluxio_proto::grpc::block::*;
use alluxio_proto::grpc::{FileInfo, WorkerNetAddress, WritePType};
use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;

use crate::error::{ClientError, Result};
use crate::file_system::FileSystem;

/// Bytes reserved at a time on the worker for a short-circuit block write.
const RESERVE_STEP: u64 = 16 << 20;

enum BlockWriter {
    Local {
        id: i64,
        tx: mpsc::Sender<CreateLocalBlockRequest>,
        replies: Box<tonic::Streaming<CreateLocalBlockResponse>>,
        file: Option<std::fs::File>,
        reserved: u64,
        written: u64,
        /// Chunk checksums of what was written, sent with the commit (boxed: a CRC digest is
        /// large).
        crcs: Box<checksum::Builder>,
    },
    Remote {
        id: i64,
        tx: mpsc::Sender<WriteRequest>,
        call: JoinHandle<Result<WriteResponse, tonic::Status>>,
        written: u64,
    },
}

impl BlockWriter {
    fn written(&self) -> u64 {
        match self {
            BlockWriter::Local { written, .. } | BlockWriter::Remote { written, .. } => *written,
        }
    }
}

struct UfsWriter {
    tx: mpsc::Sender<WriteRequest>,
    call: JoinHandle<Result<WriteResponse, tonic::Status>>,
}

/// A file being written. Call [`FileOutStream::close`] to complete it.
pub struct FileOutStream {
    fs: FileSystem,
    path: AlluxioPath,
    info: FileInfo,
    write_type: WritePType,
    block_size: u64,
    pos: u64,
    worker: Option<WorkerNetAddress>,
    block: Option<BlockWriter>,
    ufs: Option<UfsWriter>,
    done: bool,
    /// Blocks committed so far (removed from the worker right away if the file is aborted).
    committed: Vec<(WorkerNetAddress, i64)>,
    /// Renews the master's lease on the file while it is written.
    lease: JoinHandle<()>,
    /// Extended attributes the completion sets.
    xattr: std::collections::HashMap<String, Vec<u8>>,
}

fn caches(w: WritePType) -> bool {
    !matches!(w, WritePType::Through | WritePType::None)
}

fn through(w: WritePType) -> bool {
    matches!(w, WritePType::CacheThrough | WritePType::Through)
}

fn stream_err(what: &str, s: tonic::Status) -> ClientError {
    let mut e = ClientError::from(s);
    e.message = format!("{what}: {}", e.message);
    e
}

impl FileOutStream {
    pub(crate) async fn new(
        fs: FileSystem,
        path: AlluxioPath,
        info: FileInfo,
        write_type: WritePType,
        renew: std::time::Duration,
    ) -> Result<Self> {
        let (fs2, id) = (fs.clone(), info.file_id);
        let lease = tokio::spawn(async move {
            loop {
                tokio::time::sleep(renew).await;
                let _ = fs2.keep_alive(vec![id]).await;
            }
        });
        let mut s = FileOutStream {
            lease,
            block_size: info.block_size_bytes.max(1) as u64,
            fs,
            path,
            info,
            write_type,
            pos: 0,
            worker: None,
            block: None,
            ufs: None,
            done: false,
            committed: Vec::new(),
            xattr: Default::default(),
        };
        if let Err(e) = s.open_ufs().await {
            s.abort().await;
            return Err(e);
        }
        Ok(s)
    }

    /// The file's status as created.
    pub fn info(&self) -> &FileInfo {
        &self.info
    }

    /// Bytes written so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// LocalFirst: the worker on this host, else the live worker with the most free space.
    /// The worker for the next block, by `alluxio.user.block.write.location.policy.class`.
    /// ASYNC_THROUGH keeps every block of a file on one worker (it persists them together).
    async fn pick_worker(&mut self) -> Result<WorkerNetAddress> {
        if let Some(w) = &self.worker {
            if self.write_type == WritePType::AsyncThrough || !self.per_block_policy() {
                return Ok(w.clone());
            }
        }
        let mut workers = self.fs.workers().await?;
        // Right after a master (re)start workers are still registering: wait for one.
        if workers.is_empty() && self.fs.master_in_safe_mode().await {
            let deadline = self.fs.retry_deadline();
            while workers.is_empty() && std::time::Instant::now() < deadline && self.fs.master_in_safe_mode().await {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                self.fs.forget_workers();
                workers = self.fs.workers().await?;
            }
        }
        let mut sorted: Vec<_> = workers.iter().filter(|w| w.address.is_some()).collect();
        sorted.sort_by_key(|w| w.address.as_ref().map(|a| (a.host.clone(), a.rpc_port)));
        let free = |w: &&alluxio_proto::grpc::block::WorkerInfo| w.capacity_bytes - w.used_bytes;
        let local = sorted.iter().copied().find(|w| w.address.as_ref().is_some_and(|a| self.fs.is_local(a)));
        let index = (self.pos / self.block_size) as i64;
        let chosen = match self.fs.conf().write_policy.as_str() {
            "MostAvailableFirstPolicy" => sorted.iter().copied().max_by_key(free),
            "RoundRobinPolicy" => (!sorted.is_empty()).then(|| sorted[self.fs.next_round_robin() % sorted.len()]),
            "DeterministicHashPolicy" => (!sorted.is_empty()).then(|| {
                let id = alluxio_common::id::block_id(self.info.file_id, index) as u64;
                sorted[(id.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize % sorted.len()]
            }),
            "LocalFirstAvoidEvictionPolicy" => {
                local.filter(|w| free(w) >= self.block_size as i64).or_else(|| sorted.iter().copied().max_by_key(free))
            }
            _ => local.or_else(|| sorted.iter().copied().max_by_key(free)),
        };
        let chosen = chosen.and_then(|w| w.address.clone()).ok_or_else(|| {
            ClientError::new(
                Code::Unavailable,
                format!(
                    "No Alluxio worker is available to write {}: start one with `alluxio-start.sh worker`",
                    self.path
                ),
            )
        })?;
        self.worker = Some(chosen.clone());
        Ok(chosen)
    }

    fn per_block_policy(&self) -> bool {
        matches!(self.fs.conf().write_policy.as_str(), "RoundRobinPolicy" | "DeterministicHashPolicy")
    }

    async fn open_ufs(&mut self) -> Result<()> {
        if !through(self.write_type) {
            return Ok(());
        }
        let addr = self.pick_worker().await?;
        let mut client = self.fs.worker_client(&addr)?;
        let (tx, rx) = mpsc::channel::<WriteRequest>(8);
        tx.send(WriteRequest {
            value: Some(write_request::Value::Command(WriteRequestCommand {
                r#type: RequestType::UfsFile as i32,
                create_ufs_file_options: Some(CreateUfsFileOptions {
                    ufs_path: self.info.ufs_path.clone(),
                    owner: self.info.owner.clone(),
                    group: self.info.group.clone(),
                    mode: self.info.mode,
                    mount_id: self.info.mount_id,
                }),
                ..Default::default()
            })),
        })
        .await
        .map_err(|_| ClientError::new(Code::Internal, "UFS write stream closed"))?;
        let call =
            tokio::spawn(async move { client.write_block(ReceiverStream::new(rx)).await.map(|r| r.into_inner()) });
        self.ufs = Some(UfsWriter { tx, call });
        Ok(())
    }

    async fn open_block(&mut self) -> Result<()> {
        let index = (self.pos / self.block_size) as i64;
        let id = alluxio_common::id::block_id(self.info.file_id, index);
        let addr = self.pick_worker().await?;
        let protected =
            matches!(self.write_type, WritePType::MustCache | WritePType::AsyncThrough | WritePType::TryCache);
        let tier = self.fs.conf().write_tier;
        let mut client = self.fs.worker_client(&addr)?;
        if self.fs.conf().short_circuit && self.fs.is_local(&addr) {
            let reserve = RESERVE_STEP.min(self.block_size);
            let (tx, rx) = mpsc::channel::<CreateLocalBlockRequest>(2);
            tx.send(CreateLocalBlockRequest {
                block_id: id,
                tier,
                space_to_reserve: reserve as i64,
                protected,
                ..Default::default()
            })
            .await
            .map_err(|_| ClientError::new(Code::Internal, "block stream closed"))?;
            let mut replies = client
                .create_local_block(ReceiverStream::new(rx))
                .await
                .map_err(|s| stream_err(&format!("cannot write {}", self.path), s))?
                .into_inner();
            let first = replies
                .message()
                .await
                .map_err(|s| stream_err(&format!("cannot write {}", self.path), s))?
                .ok_or_else(|| ClientError::new(Code::Unavailable, "worker closed the block stream"))?;
            let file =
                std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(&first.path).map_err(|e| {
                    ClientError::new(Code::Internal, format!("cannot open block file {}: {e}", first.path))
                })?;
            self.block = Some(BlockWriter::Local {
                id,
                tx,
                replies: Box::new(replies),
                file: Some(file),
                reserved: reserve,
                written: 0,
                crcs: Box::default(),
            });
        } else {
            let (tx, rx) = mpsc::channel::<WriteRequest>(8);
            tx.send(WriteRequest {
                value: Some(write_request::Value::Command(WriteRequestCommand {
                    r#type: RequestType::AlluxioBlock as i32,
                    id,
                    tier,
                    space_to_reserve: self.block_size.min(RESERVE_STEP) as i64,
                    protected,
                    ..Default::default()
                })),
            })
            .await
            .map_err(|_| ClientError::new(Code::Internal, "block stream closed"))?;
            let call =
                tokio::spawn(async move { client.write_block(ReceiverStream::new(rx)).await.map(|r| r.into_inner()) });
            self.block = Some(BlockWriter::Remote { id, tx, call, written: 0 });
        }
        Ok(())
    }

    /// Opens the next block and writes its first part. A worker that cannot be reached (it
    /// stopped or died) before anything of the block reached it is left out, and the block goes
    /// to another worker, unless blocks of this file already committed there would be lost with
    /// it anyway or a UFS stream runs through it.
    async fn start_block(&mut self, first: Bytes) -> Result<()> {
        let mut attempts = 0;
        loop {
            let r = match self.open_block().await {
                Ok(()) => self.write_block_part(first.clone()).await,
                Err(e) => Err(e),
            };
            let e = match r {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            let Some(w) = self.worker.clone() else { return Err(e) };
            let this_block = alluxio_common::id::block_id(self.info.file_id, (self.pos / self.block_size) as i64);
            let on_w =
                |(a, b): &(WorkerNetAddress, i64)| a.host == w.host && a.rpc_port == w.rpc_port && *b != this_block;
            let movable = e.code == Code::Unavailable && self.ufs.is_none() && !self.committed.iter().any(on_w);
            attempts += 1;
            if !movable || attempts > 3 {
                return Err(e);
            }
            self.fs.worker_failed(&w);
            // finish_block listed the failed block as committed on the unreachable worker.
            self.committed.retain(|(_, b)| *b != this_block);
            self.block = None;
            self.worker = None;
        }
    }

    async fn write_block_part(&mut self, part: Bytes) -> Result<()> {
        let path = self.path.clone();
        let block_size = self.block_size;
        match self.block.as_mut() {
            Some(BlockWriter::Local { id, tx, replies, file, reserved, written, crcs }) => {
                let n = part.len() as u64;
                if *written + n > *reserved {
                    let more = (*written + n - *reserved).max(RESERVE_STEP).min(block_size - *reserved);
                    tx.send(CreateLocalBlockRequest {
                        block_id: *id,
                        space_to_reserve: more as i64,
                        only_reserve_space: true,
                        ..Default::default()
                    })
                    .await
                    .map_err(|_| ClientError::new(Code::Unavailable, "the worker closed the block stream"))?;
                    replies
                        .message()
                        .await
                        .map_err(|s| stream_err(&format!("cannot write {path}"), s))?
                        .ok_or_else(|| ClientError::new(Code::Unavailable, "the worker closed the block stream"))?;
                    *reserved += more;
                }
                let mut f = file.take().ok_or_else(|| ClientError::new(Code::Internal, "block file closed"))?;
                let mut c = std::mem::take(crcs);
                let (f, c, r) = tokio::task::spawn_blocking(move || {
                    let r = f.write_all(&part);
                    c.update(&part);
                    (f, c, r)
                })
                .await
                .map_err(|e| ClientError::new(Code::Internal, e.to_string()))?;
                *file = Some(f);
                *crcs = c;
                r.map_err(|e| ClientError::new(Code::Internal, format!("cannot write block {id} of {path}: {e}")))?;
                *written += n;
            }
            Some(BlockWriter::Remote { tx, written, .. }) => {
                let n = part.len() as u64;
                if tx.send(WriteRequest { value: Some(write_request::Value::Chunk(part)) }).await.is_err() {
                    // The call ended early: its error says why.
                    return Err(self
                        .finish_block()
                        .await
                        .err()
                        .unwrap_or_else(|| ClientError::new(Code::Unavailable, "block write failed")));
                }
                *written += n;
            }
            None => return Err(ClientError::new(Code::Internal, "no open block")),
        }
        Ok(())
    }

    async fn finish_block(&mut self) -> Result<()> {
        let path = self.path.clone();
        let id = match &self.block {
            Some(BlockWriter::Local { id, .. } | BlockWriter::Remote { id, .. }) => Some(*id),
            None => None,
        };
        if let (Some(id), Some(w)) = (id, &self.worker) {
            self.committed.push((w.clone(), id));
        }
        match self.block.take() {
            None => Ok(()),
            Some(BlockWriter::Local { tx, mut replies, file, crcs, .. }) => {
                drop(file);
                tx.send(CreateLocalBlockRequest { commit: true, chunk_crcs: (*crcs).finish(), ..Default::default() })
                    .await
                    .map_err(|_| ClientError::new(Code::Unavailable, "the worker closed the block stream"))?;
                replies
                    .message()
                    .await
                    .map_err(|s| stream_err(&format!("cannot commit a block of {path}"), s))?
                    .ok_or_else(|| ClientError::new(Code::Unavailable, "the worker closed the block stream"))?;
                Ok(())
            }
            Some(BlockWriter::Remote { tx, call, .. }) => {
                let _ = tx
                    .send(WriteRequest {
                        value: Some(write_request::Value::Command(WriteRequestCommand {
                            commit: true,
                            ..Default::default()
                        })),
                    })
                    .await;
                drop(tx);
                call.await
                    .map_err(|e| ClientError::new(Code::Internal, e.to_string()))?
                    .map_err(|s| stream_err(&format!("cannot write a block of {path}"), s))?;
                Ok(())
            }
        }
    }

    /// Appends bytes to the file.
    pub async fn write(&mut self, mut data: Bytes) -> Result<()> {
        if self.done {
            return Err(ClientError::new(Code::FailedPrecondition, format!("{} is already closed", self.path)));
        }
        let r = self.write_inner(&mut data).await;
        if r.is_err() {
            self.abort().await;
        }
        r
    }

    async fn write_inner(&mut self, data: &mut Bytes) -> Result<()> {
        if let Some(u) = &self.ufs {
            if u.tx.send(WriteRequest { value: Some(write_request::Value::Chunk(data.clone())) }).await.is_err() {
                let u = self.ufs.take().expect("present");
                let e = match u.call.await {
                    Ok(Err(s)) => stream_err(&format!("cannot write {} to the UFS", self.path), s),
                    _ => ClientError::new(Code::Unavailable, format!("UFS write of {} failed", self.path)),
                };
                return Err(e);
            }
        }
        if !caches(self.write_type) {
            self.pos += data.len() as u64;
            return Ok(());
        }
        while !data.is_empty() {
            if self.block.as_ref().is_some_and(|b| b.written() >= self.block_size) {
                self.finish_block().await?;
            }
            let opening = self.block.is_none();
            let room = self.block_size - self.block.as_ref().map(BlockWriter::written).unwrap_or(0);
            let part = data.split_to((room as usize).min(data.len()));
            let n = part.len() as u64;
            if opening {
                self.start_block(part).await?;
            } else {
                self.write_block_part(part).await?;
            }
            self.pos += n;
        }
        Ok(())
    }

    /// Gives back the worker space reserved for the open block beyond what was written (the
    /// writer is idle, e.g. a REST stream nobody writes to); the next write reserves again.
    pub async fn release_unused(&mut self) -> Result<()> {
        match self.block.as_mut() {
            Some(BlockWriter::Local { id, tx, replies, reserved, written, .. }) => {
                tx.send(CreateLocalBlockRequest { block_id: *id, release_unused: true, ..Default::default() })
                    .await
                    .map_err(|_| ClientError::new(Code::Unavailable, "the worker closed the block stream"))?;
                replies
                    .message()
                    .await
                    .map_err(|s| stream_err("cannot release reserved space", s))?
                    .ok_or_else(|| ClientError::new(Code::Unavailable, "the worker closed the block stream"))?;
                *reserved = *written;
            }
            Some(BlockWriter::Remote { tx, .. }) => {
                let cmd = WriteRequestCommand { release_unused: true, ..Default::default() };
                tx.send(WriteRequest { value: Some(write_request::Value::Command(cmd)) })
                    .await
                    .map_err(|_| ClientError::new(Code::Unavailable, "the worker closed the block stream"))?;
            }
            None => {}
        }
        Ok(())
    }

    /// Sets an extended attribute with the completion (in the same journal commit).
    pub fn set_xattr(&mut self, key: impl Into<String>, value: Vec<u8>) {
        self.xattr.insert(key.into(), value);
    }

    /// Finishes the file: commits the last block, closes the UFS file, completes on the master.
    pub async fn close(mut self) -> Result<FileInfo> {
        let r = self.close_inner().await;
        if let Err(e) = &r {
            // The completion may have committed with its answer lost (the master restarted or
            // failed over): a file the master reports complete is never aborted.
            if let Some(info) = self.completed_on_master().await {
                tracing::info!("{}: the master completed it although the answer failed ({e})", self.path);
                self.done = true;
                self.lease.abort();
                return Ok(info);
            }
            self.abort().await;
        }
        self.done = true;
        r
    }

    /// This file as the master has it, when it is completed with this stream's length.
    async fn completed_on_master(&self) -> Option<FileInfo> {
        let info = self.fs.get_status(&self.path).await.ok()?;
        (info.file_id == self.info.file_id && info.completed && info.length == self.pos as i64).then_some(info)
    }

    async fn close_inner(&mut self) -> Result<FileInfo> {
        self.finish_block().await?;
        let mut fingerprint = String::new();
        if let Some(u) = self.ufs.take() {
            let _ =
                u.tx.send(WriteRequest {
                    value: Some(write_request::Value::Command(WriteRequestCommand {
                        commit: true,
                        ..Default::default()
                    })),
                })
                .await;
            drop(u.tx);
            let resp = u
                .call
                .await
                .map_err(|e| ClientError::new(Code::Internal, e.to_string()))?
                .map_err(|s| stream_err(&format!("cannot write {} to the UFS", self.path), s))?;
            fingerprint = resp.content_hash;
        }
        let xattr = std::mem::take(&mut self.xattr);
        let info = self
            .fs
            .complete_file(&self.path, self.info.file_id, self.pos as i64, fingerprint, self.write_type, xattr)
            .await?;
        self.done = true;
        self.lease.abort();
        Ok(info)
    }

    /// Abandons the file: discards written blocks and the UFS copy, deletes the incomplete file.
    pub async fn abort(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        self.lease.abort();
        // Dropping the streams without a commit makes the workers discard what they hold;
        // blocks already committed are removed now rather than at the next heartbeat, so a
        // retry finds the space free.
        self.block = None;
        self.ufs = None;
        for (addr, b) in std::mem::take(&mut self.committed) {
            if let Ok(mut w) = self.fs.worker_client(&addr) {
                let _ = w.remove_block(RemoveBlockRequest { block_id: b }).await;
            }
        }
        delete_if_ours(&self.fs, &self.path, self.info.file_id).await;
    }
}

impl Drop for FileOutStream {
    fn drop(&mut self) {
        self.lease.abort();
        if self.done {
            return;
        }
        self.block = None;
        self.ufs = None;
        let (fs, path, id) = (self.fs.clone(), self.path.clone(), self.info.file_id);
        if let Ok(h) = tokio::runtime::Handle::try_current() {
            h.spawn(async move { delete_if_ours(&fs, &path, id).await });
        }
    }
}

/// Deletes the abandoned file at `path` if it is still this stream's file and incomplete: never
/// a completed file, nor another writer's file created at the same path since.
async fn delete_if_ours(fs: &FileSystem, path: &AlluxioPath, file_id: i64) {
    if let Ok(info) = fs.get_status(path).await {
        if info.file_id == file_id && !info.completed {
            let _ = fs.delete(path, false, true).await;
        }
    }
}
