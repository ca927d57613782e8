//! The `BlockWorker` gRPC service: block reads (cached or through to the UFS), block writes
//! (streamed or short-circuit), UFS file writes, and persistence on the master's behalf.

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;

use alluxio_proto::grpc::block::block_worker_server::BlockWorker;
use alluxio_proto::grpc::block::*;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use alluxio_common::checksum;

use crate::block_check::{self, VerifyMode};
use crate::block_store::{BlockReadLock, Crcs};
use crate::blocking::BlockFile;
use crate::error::WorkerError;
use crate::worker::{relative_to, Worker};

type Out<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// The service over a shared [`Worker`].
pub struct BlockWorkerService {
    pub worker: Arc<Worker>,
}

/// Streams `len` bytes at `offset` of a locked block file from a blocking thread.
fn stream_file(lock: BlockReadLock, offset: u64, len: u64, chunk: usize) -> Out<ReadResponse> {
    let (tx, rx) = mpsc::channel::<Result<ReadResponse, Status>>(8);
    tokio::spawn(crate::blocking::run(move || {
        // The block is mapped, and chunks are slices of the mapping: no copy before the encoder.
        let mapped = std::fs::File::open(&lock.path).and_then(|f| {
            // SAFETY: committed block files are never modified or truncated, only unlinked, and the
            // read lock keeps this one in place while it is mapped.
            unsafe { memmap2::MmapOptions::new().populate().map(&f) }
        });
        let data = match mapped {
            Ok(m) => Bytes::from_owner(m),
            Err(e) => {
                let _ = tx.blocking_send(Err(Status::internal(format!("cannot read block {}: {e}", lock.block_id))));
                return;
            }
        };
        let end = (offset + len).min(data.len() as u64) as usize;
        let mut pos = offset as usize;
        while pos < end {
            let n = chunk.min(end - pos);
            if tx.blocking_send(Ok(ReadResponse { chunk: data.slice(pos..pos + n) })).is_err() {
                return; // the reader went away
            }
            pos += n;
        }
        drop(lock);
    }));
    Box::pin(ReceiverStream::new(rx))
}

impl BlockWorkerService {
    /// Reads a block through from the UFS, caching it unless told not to.
    async fn read_ufs(&self, r: ReadRequest, u: OpenUfsBlockOptions) -> Result<Out<ReadResponse>, WorkerError> {
        let w = self.worker.clone();
        let ufs = w.ufs(u.mount_id).await?;
        let rel = relative_to(&ufs, &u.ufs_path)?;
        let block_len = (u.file_length - u.offset_in_file).clamp(0, u.block_size) as u64;
        let offset = r.offset.max(0) as u64;
        if offset > block_len {
            return Err(WorkerError::InvalidArgument(format!(
                "offset {offset} is past the end of block {} ({block_len} bytes)",
                r.block_id
            )));
        }
        let len = if r.length <= 0 { block_len - offset } else { (r.length as u64).min(block_len - offset) };
        let chunk = if r.chunk_size > 0 { r.chunk_size as usize } else { w.chunk_size };
        let whole = offset == 0 && len == block_len;
        let (tx, rx) = mpsc::channel::<Result<ReadResponse, Status>>(8);
        let cache = !u.no_cache && !w.store.has_block(r.block_id) && w.caching.lock().insert(r.block_id);
        let block_id = r.block_id;
        if whole && cache {
            // Tee: every chunk read from the UFS goes to the client and into the cache.
            tokio::spawn(async move {
                let result =
                    tee_from_ufs(&w, &ufs, &rel, u.offset_in_file as u64, block_len, block_id, chunk, Some(&tx)).await;
                w.caching.lock().remove(&block_id);
                if let Err(e) = result {
                    let _ = tx.send(Err(e.into())).await;
                }
            });
        } else {
            let file_off = u.offset_in_file as u64 + offset;
            let (w2, ufs2, rel2) = (w.clone(), ufs.clone(), rel.clone());
            tokio::spawn(async move {
                let mut chunks = match ufs2.read_chunks(&rel2, file_off, len, chunk).await {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = tx.send(Err(WorkerError::from(e).into())).await;
                        return;
                    }
                };
                while let Some(b) = chunks.next().await {
                    match b {
                        Ok(b) => {
                            if tx.send(Ok(ReadResponse { chunk: b })).await.is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Err(WorkerError::from(e).into())).await;
                            return;
                        }
                    }
                }
                let _ = w2;
            });
            if cache {
                // A partial read caches the whole block in the background.
                tokio::spawn(async move {
                    if let Err(e) =
                        tee_from_ufs(&w, &ufs, &rel, u.offset_in_file as u64, block_len, block_id, chunk, None).await
                    {
                        tracing::debug!("background caching of block {block_id} failed: {e}");
                    }
                    w.caching.lock().remove(&block_id);
                });
            }
        }
        Ok(Box::pin(ReceiverStream::new(rx)))
    }
}

/// Reads a block from the UFS into the cache, also sending each chunk to `tx` if given.
#[allow(clippy::too_many_arguments)]
async fn tee_from_ufs(
    w: &Arc<Worker>,
    ufs: &alluxio_ufs::UnderFileSystem,
    rel: &str,
    file_offset: u64,
    block_len: u64,
    block_id: i64,
    chunk: usize,
    tx: Option<&mpsc::Sender<Result<ReadResponse, Status>>>,
) -> Result<(), WorkerError> {
    // Caching is best effort: without room the data still reaches the client.
    let mut file = match start_block(w, block_id, 0, block_len, false).await {
        Ok(f) => Some(f),
        Err(e) => {
            tracing::debug!("not caching block {block_id}: {e}");
            None
        }
    };
    let mut client_gone = tx.is_none();
    let mut crcs = checksum::Builder::default();
    let mut chunks = match ufs.read_chunks(rel, file_offset, block_len, chunk).await {
        Ok(s) => s,
        Err(e) => {
            if let Some(f) = file.take() {
                abort(w, block_id, f).await;
            }
            return Err(e.into());
        }
    };
    while let Some(b) = chunks.next().await {
        let b = match b {
            Ok(b) => b,
            Err(e) => {
                if let Some(f) = file.take() {
                    abort(w, block_id, f).await;
                }
                return Err(e.into());
            }
        };
        if let Some(f) = file.as_mut() {
            crcs.update(&b);
            if let Err(e) = f.write(b.clone()).await {
                tracing::warn!("cannot cache block {block_id}: {e}");
                if let Some(f) = file.take() {
                    abort(w, block_id, f).await;
                }
            }
        }
        if !client_gone {
            if let Some(tx) = tx {
                if tx.send(Ok(ReadResponse { chunk: b })).await.is_err() {
                    client_gone = true;
                    if file.is_none() {
                        return Ok(());
                    }
                }
            }
        }
    }
    if let Some(f) = file.take() {
        f.close().await;
        let crcs = Crcs::Computed(crcs.finish());
        let (tier, used) = w.on_store(move |s| s.commit(block_id, block_len, crcs)).await?;
        let _ = w.commit_to_master(block_id, block_len, &tier, used).await;
    }
    Ok(())
}

/// Starts a copy of block `id` on this worker: reserves room on `tier` and creates the
/// temporary file; nothing is left behind on failure.
async fn start_block(
    w: &Worker,
    id: i64,
    tier: usize,
    reserve: u64,
    protected: bool,
) -> Result<BlockFile, WorkerError> {
    let path = w.on_store(move |s| s.create_temp(id, tier, reserve, protected)).await?;
    match BlockFile::create(path.clone()).await {
        Ok(f) => Ok(f),
        Err(e) => {
            w.on_store(move |s| s.abort(id)).await;
            Err(WorkerError::Internal(format!("cannot create block file {}: {e}", path.display())))
        }
    }
}

/// Discards a block being written: its file and its reservation.
async fn abort(w: &Worker, id: i64, file: BlockFile) {
    file.close().await;
    w.on_store(move |s| s.abort(id)).await;
}

/// Checks the chunks of a locked block covering `range` (the whole block when `None`) on the
/// blocking pool, giving the lock back.
async fn verified(w: &Worker, lock: BlockReadLock, range: Option<Range<usize>>) -> Result<BlockReadLock, WorkerError> {
    let store = w.store.clone();
    crate::blocking::run(move || {
        match range {
            Some(r) => block_check::verify_file(&store, &lock, r),
            None => block_check::verify_whole(&store, &lock),
        }
        .map(|()| lock)
    })
    .await
}

#[tonic::async_trait]
impl BlockWorker for BlockWorkerService {
    type ReadBlockStream = Out<ReadResponse>;

    async fn read_block(&self, req: Request<ReadRequest>) -> Result<Response<Self::ReadBlockStream>, Status> {
        let r = req.into_inner();
        let chunk = if r.chunk_size > 0 { r.chunk_size as usize } else { self.worker.chunk_size };
        if r.promote {
            self.worker.on_store(move |s| s.promote(r.block_id)).await;
        }
        if let Some(mut lock) = self.worker.store.lock(r.block_id) {
            let offset = r.offset.max(0) as u64;
            if offset > lock.length {
                return Err(WorkerError::InvalidArgument(format!(
                    "offset {offset} is past the end of block {} ({} bytes)",
                    r.block_id, lock.length
                ))
                .into());
            }
            let len = if r.length <= 0 { lock.length - offset } else { (r.length as u64).min(lock.length - offset) };
            if self.worker.verify != VerifyMode::Never {
                let range = offset as usize..(offset + len) as usize;
                lock = verified(&self.worker, lock, Some(range)).await?;
            }
            return Ok(Response::new(stream_file(lock, offset, len, chunk)));
        }
        match r.open_ufs_block_options.clone() {
            Some(u) if !u.ufs_path.is_empty() => Ok(Response::new(self.read_ufs(r, u).await?)),
            _ => Err(block_check::missing(&self.worker.store, r.block_id).into()),
        }
    }

    async fn write_block(&self, req: Request<Streaming<WriteRequest>>) -> Result<Response<WriteResponse>, Status> {
        // The write runs in its own task: if the client disappears, tonic drops this future,
        // but the task still sees the broken stream and discards what was written.
        let w = self.worker.clone();
        let input = req.into_inner();
        tokio::spawn(write_block_task(w, input))
            .await
            .map_err(|e| Status::internal(format!("block write task failed: {e}")))?
            .map(Response::new)
    }

    type OpenLocalBlockStream = Out<OpenLocalBlockResponse>;

    async fn open_local_block(
        &self,
        req: Request<Streaming<OpenLocalBlockRequest>>,
    ) -> Result<Response<Self::OpenLocalBlockStream>, Status> {
        let mut input = req.into_inner();
        let first = match input.next().await {
            Some(Ok(r)) => r,
            Some(Err(s)) => return Err(s),
            None => return Err(Status::invalid_argument("empty OpenLocalBlock stream")),
        };
        if first.promote {
            self.worker.on_store(move |s| s.promote(first.block_id)).await;
        }
        let mut lock = self
            .worker
            .store
            .lock(first.block_id)
            .ok_or_else(|| block_check::missing(&self.worker.store, first.block_id))?;
        // The client reads the file itself: check it before handing it out (once per worker
        // start, or every time).
        if self.worker.verify.check_local_open(self.worker.store.is_verified(first.block_id)) {
            lock = verified(&self.worker, lock, None).await?;
        }
        let (tx, rx) = mpsc::channel(1);
        let _ = tx
            .send(Ok(OpenLocalBlockResponse { path: lock.path.display().to_string(), length: lock.length as i64 }))
            .await;
        tokio::spawn(async move {
            // The lock lives until the client closes its side (or disconnects).
            while let Some(Ok(_)) = input.next().await {}
            drop(lock);
            drop(tx);
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    type CreateLocalBlockStream = Out<CreateLocalBlockResponse>;

    async fn create_local_block(
        &self,
        req: Request<Streaming<CreateLocalBlockRequest>>,
    ) -> Result<Response<Self::CreateLocalBlockStream>, Status> {
        let mut input = req.into_inner();
        let first = match input.next().await {
            Some(Ok(r)) => r,
            Some(Err(s)) => return Err(s),
            None => return Err(Status::invalid_argument("empty CreateLocalBlock stream")),
        };
        let w = self.worker.clone();
        let id = first.block_id;
        let (tier, reserve, protected) =
            (first.tier.max(0) as usize, first.space_to_reserve.max(0) as u64, first.protected);
        let path = w.on_store(move |s| s.create_temp(id, tier, reserve, protected)).await?;
        let path_s = path.display().to_string();
        let (tx, rx) = mpsc::channel(4);
        let _ = tx.send(Ok(CreateLocalBlockResponse { path: path_s.clone() })).await;
        tokio::spawn(async move {
            let mut committed = false;
            while let Some(m) = input.next().await {
                let Ok(m) = m else { break };
                if m.commit {
                    let p = path.clone();
                    let claimed = m.chunk_crcs;
                    let r = w
                        .on_store(move |s| {
                            let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
                            let crcs = if claimed.is_empty() { Crcs::None } else { Crcs::Claimed(claimed) };
                            s.commit(id, len, crcs).map(|t| (t, len))
                        })
                        .await;
                    match r {
                        Ok(((tier, used), len)) => {
                            committed = true;
                            let reply = match w.commit_to_master(id, len, &tier, used).await {
                                Ok(()) => Ok(CreateLocalBlockResponse { path: path_s.clone() }),
                                Err(e) => Err(e.into()),
                            };
                            let _ = tx.send(reply).await;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e.into())).await;
                        }
                    }
                    break;
                }
                if m.release_unused {
                    // The client writes the file itself: what it holds is what it wrote.
                    let p = path.clone();
                    w.on_store(move |s| {
                        let keep = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
                        s.release_unused(id, keep)
                    })
                    .await;
                    let _ = tx.send(Ok(CreateLocalBlockResponse { path: path_s.clone() })).await;
                    continue;
                }
                if m.space_to_reserve > 0 {
                    let more = m.space_to_reserve as u64;
                    let reply = match w.on_store(move |s| s.reserve(id, more)).await {
                        Ok(()) => Ok(CreateLocalBlockResponse { path: path_s.clone() }),
                        Err(e) => Err(e.into()),
                    };
                    let failed = reply.is_err();
                    let _ = tx.send(reply).await;
                    if failed {
                        break;
                    }
                }
            }
            if !committed {
                w.on_store(move |s| s.abort(id)).await;
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn async_cache(&self, req: Request<AsyncCacheRequest>) -> Result<Response<AsyncCacheResponse>, Status> {
        let r = req.into_inner();
        let w = self.worker.clone();
        let id = r.block_id;
        if w.store.has_block(id) || !w.caching.lock().insert(id) {
            return Ok(Response::new(AsyncCacheResponse {}));
        }
        tokio::spawn(async move {
            let result = match (&r.source, &r.open_ufs_block_options) {
                (Some(src), _) => copy_from_peer(&w, src, id, r.length.max(0) as u64).await,
                (None, Some(u)) => match w.ufs(u.mount_id).await {
                    Ok(ufs) => match relative_to(&ufs, &u.ufs_path) {
                        Ok(rel) => {
                            let len = (u.file_length - u.offset_in_file).clamp(0, u.block_size) as u64;
                            tee_from_ufs(&w, &ufs, &rel, u.offset_in_file as u64, len, id, w.chunk_size, None).await
                        }
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e),
                },
                (None, None) => Err(WorkerError::InvalidArgument(format!("AsyncCache of block {id} names no source"))),
            };
            w.caching.lock().remove(&id);
            if let Err(e) = result {
                tracing::debug!("caching block {id} in the background failed: {e}");
            }
        });
        Ok(Response::new(AsyncCacheResponse {}))
    }

    async fn set_protected(&self, req: Request<SetProtectedRequest>) -> Result<Response<SetProtectedResponse>, Status> {
        let r = req.into_inner();
        self.worker.store.set_protected(&r.block_ids, r.protected);
        Ok(Response::new(SetProtectedResponse {}))
    }

    async fn move_block(&self, req: Request<MoveBlockRequest>) -> Result<Response<MoveBlockResponse>, Status> {
        let r = req.into_inner();
        let moved = self.worker.on_store(move |s| s.move_to_media(r.block_id, &r.media)).await;
        Ok(Response::new(MoveBlockResponse { moved }))
    }

    async fn remove_block(&self, req: Request<RemoveBlockRequest>) -> Result<Response<RemoveBlockResponse>, Status> {
        let id = req.into_inner().block_id;
        self.worker.on_store(move |s| s.remove(id)).await;
        Ok(Response::new(RemoveBlockResponse {}))
    }

    async fn persist_file(&self, req: Request<PersistFileRequest>) -> Result<Response<PersistFileResponse>, Status> {
        let r = req.into_inner();
        let w = self.worker.clone();
        let ufs = w.ufs(r.mount_id).await?;
        let rel = relative_to(&ufs, &r.ufs_path)?;
        let mut locks = Vec::with_capacity(r.block_ids.len());
        for b in &r.block_ids {
            locks.push(w.store.lock(*b).ok_or_else(|| {
                Status::from(WorkerError::Unavailable(format!(
                    "block {b} of {} is not cached on this worker",
                    r.ufs_path
                )))
            })?);
        }
        // Corrupt cached bytes must never become the under storage's copy.
        if w.verify != VerifyMode::Never {
            let mut checked = Vec::with_capacity(locks.len());
            for lock in locks {
                checked.push(verified(&w, lock, None).await?);
            }
            locks = checked;
        }
        // Recorded before the temporary file exists, so a crash never leaves one unrecorded.
        let planned = ufs.plan_create(&rel);
        let _in_flight = crate::ufs_writes::begin(&w, r.mount_id, planned.temp_path()).await;
        let mut writer = ufs.create_planned(planned).await.map_err(WorkerError::from)?;
        for (lock, len) in locks.iter().zip(&r.block_lengths) {
            let path = lock.path.clone();
            let mut off = 0u64;
            let len = *len as u64;
            while off < len {
                let n = (w.chunk_size as u64).min(len - off);
                let p = path.clone();
                let data: std::io::Result<Bytes> = crate::blocking::run(move || {
                    let mut f = std::fs::File::open(&p)?;
                    f.seek(SeekFrom::Start(off))?;
                    let mut buf = vec![0u8; n as usize];
                    f.read_exact(&mut buf)?;
                    Ok(Bytes::from(buf))
                })
                .await;
                let data = match data {
                    Ok(d) => d,
                    Err(e) => {
                        writer.abort().await;
                        return Err(Status::internal(format!(
                            "cannot read block {} to persist {}: {e}",
                            lock.block_id, r.ufs_path
                        )));
                    }
                };
                if let Err(e) = writer.write(data).await {
                    writer.abort().await;
                    return Err(WorkerError::from(e).into());
                }
                off += n;
            }
        }
        let st = writer.close().await.map_err(WorkerError::from)?;
        if r.mode > 0 {
            ufs.set_mode(&rel, r.mode).await;
        }
        drop(locks);
        Ok(Response::new(PersistFileResponse { content_hash: st.fingerprint(ufs.kind()) }))
    }
}

async fn write_block_task(w: Arc<Worker>, mut input: Streaming<WriteRequest>) -> Result<WriteResponse, Status> {
    let first = match input.next().await {
        Some(Ok(WriteRequest { value: Some(write_request::Value::Command(c)) })) => c,
        Some(Err(s)) => return Err(s),
        _ => return Err(Status::invalid_argument("a write stream must start with a command")),
    };
    if first.r#type == RequestType::UfsFile as i32 {
        write_ufs_file(w, first.create_ufs_file_options.unwrap_or_default(), input).await
    } else {
        write_block(w, first, input).await
    }
}

/// A file written straight to the UFS (THROUGH writes): it appears there only on commit.
async fn write_ufs_file(
    w: Arc<Worker>,
    o: CreateUfsFileOptions,
    mut input: Streaming<WriteRequest>,
) -> Result<WriteResponse, Status> {
    let ufs = w.ufs(o.mount_id).await?;
    let rel = relative_to(&ufs, &o.ufs_path)?;
    // Recorded before the temporary file exists, so a crash never leaves one unrecorded.
    let planned = ufs.plan_create(&rel);
    let _in_flight = crate::ufs_writes::begin(&w, o.mount_id, planned.temp_path()).await;
    let mut writer = ufs.create_planned(planned).await.map_err(WorkerError::from)?;
    while let Some(m) = input.next().await {
        match m {
            Ok(WriteRequest { value: Some(write_request::Value::Chunk(b)) }) => {
                if let Err(e) = writer.write(b).await {
                    writer.abort().await;
                    return Err(WorkerError::from(e).into());
                }
            }
            Ok(WriteRequest { value: Some(write_request::Value::Command(c)) }) if c.commit => {
                let n = writer.written();
                let st = writer.close().await.map_err(WorkerError::from)?;
                if o.mode > 0 {
                    ufs.set_mode(&rel, o.mode).await;
                }
                return Ok(WriteResponse { offset: n as i64, content_hash: st.fingerprint(ufs.kind()) });
            }
            Ok(_) => {}
            Err(s) => {
                writer.abort().await;
                return Err(s);
            }
        }
    }
    writer.abort().await;
    Err(Status::aborted(format!("write of {} ended without commit; nothing was written", o.ufs_path)))
}

/// An Alluxio block, written into the store: reserved as it grows, committed to the master
/// on the commit command, discarded when the stream ends without one.
async fn write_block(
    w: Arc<Worker>,
    first: WriteRequestCommand,
    mut input: Streaming<WriteRequest>,
) -> Result<WriteResponse, Status> {
    let id = first.id;
    let initial = (first.space_to_reserve.max(0) as u64).max(w.chunk_size as u64);
    let mut file = start_block(&w, id, first.tier.max(0) as usize, initial, first.protected).await?;
    let mut reserved = initial;
    let mut written = 0u64;
    let mut crcs = checksum::Builder::default();
    while let Some(m) = input.next().await {
        match m {
            Ok(WriteRequest { value: Some(write_request::Value::Chunk(b)) }) => {
                let n = b.len() as u64;
                if written + n > reserved {
                    let more = (written + n - reserved).max(8 << 20);
                    if let Err(e) = w.on_store(move |s| s.reserve(id, more)).await {
                        abort(&w, id, file).await;
                        return Err(e.into());
                    }
                    reserved += more;
                }
                crcs.update(&b);
                if let Err(e) = file.write(b).await {
                    abort(&w, id, file).await;
                    return Err(Status::internal(format!("cannot write block {id}: {e}")));
                }
                written += n;
            }
            Ok(WriteRequest { value: Some(write_request::Value::Command(c)) }) if c.release_unused => {
                w.store.release_unused(id, written);
                reserved = written;
            }
            Ok(WriteRequest { value: Some(write_request::Value::Command(c)) }) if c.commit => {
                file.close().await;
                let crcs = Crcs::Computed(std::mem::take(&mut crcs).finish());
                let (tier, used) = w.on_store(move |s| s.commit(id, written, crcs)).await?;
                w.commit_to_master(id, written, &tier, used).await?;
                return Ok(WriteResponse { offset: written as i64, content_hash: String::new() });
            }
            Ok(_) => {}
            Err(s) => {
                abort(&w, id, file).await;
                return Err(s);
            }
        }
    }
    abort(&w, id, file).await;
    Err(Status::aborted(format!("write of block {id} ended without commit; the block was discarded")))
}

/// Copies a block from another worker into this one (passive caching, replication).
async fn copy_from_peer(
    w: &Arc<Worker>,
    src: &alluxio_proto::grpc::WorkerNetAddress,
    id: i64,
    len: u64,
) -> Result<(), WorkerError> {
    let mut client = w.peer(src)?;
    let req = ReadRequest {
        block_id: id,
        offset: 0,
        length: len as i64,
        chunk_size: w.chunk_size as i64,
        ..Default::default()
    };
    let mut stream = client
        .read_block(req)
        .await
        .map_err(|s| {
            WorkerError::Unavailable(format!(
                "cannot read block {id} from {}:{}: {}",
                src.host,
                src.rpc_port,
                s.message()
            ))
        })?
        .into_inner();
    let mut f = start_block(w, id, 0, len, false).await?;
    let result: Result<(u64, Vec<u32>), WorkerError> = async {
        let mut written = 0u64;
        let mut crcs = checksum::Builder::default();
        while let Some(m) = stream.message().await.map_err(|s| WorkerError::Unavailable(s.message().to_owned()))? {
            crcs.update(&m.chunk);
            written += m.chunk.len() as u64;
            f.write(m.chunk).await.map_err(|e| WorkerError::Internal(format!("cannot write block {id}: {e}")))?;
        }
        Ok((written, crcs.finish()))
    }
    .await;
    let (written, crcs) = match result {
        Ok((n, crcs)) if n == len => (n, crcs),
        Ok((n, _)) => {
            abort(w, id, f).await;
            return Err(WorkerError::Unavailable(format!("block {id} from the peer had {n} bytes, expected {len}")));
        }
        Err(e) => {
            abort(w, id, f).await;
            return Err(e);
        }
    };
    f.close().await;
    let (tier, used) = w.on_store(move |s| s.commit(id, written, Crcs::Computed(crcs))).await?;
    w.commit_to_master(id, written, &tier, used).await
}
