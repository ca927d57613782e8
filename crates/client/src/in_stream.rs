//! `FileInStream`: reads a file block by block from the best source: the local worker's block
//! file (short-circuit, memory-mapped), a remote worker's stream, or the UFS through a worker
//! (which caches the block unless the read type is NO_CACHE). A failing source falls back to
//! the next one, so a dead worker costs a retry, not an error.

use alluxio_common::id;
use alluxio_common::status::Code;
use alluxio_proto::grpc::block::*;
use alluxio_proto::grpc::{FileInfo, ReadPType, WorkerNetAddress};
use alluxio_proto::transport::{Protocol, Stream};
use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::error::{ClientError, Result};
use crate::file_system::FileSystem;

/// Largest slice a short-circuit read hands out at once.
const LOCAL_CHUNK: u64 = 8 << 20;
/// Bytes read from a worker's data port per chunk.
const DATA_CHUNK: u64 = 4 << 20;

enum Source {
    /// A memory-mapped local block; `_lock` keeps the worker's read lock while we read.
    Local {
        data: Bytes,
        _lock: mpsc::Sender<OpenLocalBlockRequest>,
    },
    /// The worker's block data port: raw bytes after a small header (see `data_conn`).
    Data {
        conn: Option<Stream>,
        key: String,
        left: u64,
        buf: bytes::BytesMut,
    },
    Remote {
        stream: Box<tonic::Streaming<ReadResponse>>,
        pending: Bytes,
    },
}

struct BlockReader {
    index: i64,
    /// File offset of the next byte this reader returns.
    pos: u64,
    end: u64,
    source: Source,
}

impl BlockReader {
    /// The next chunk of this block from its source (possibly more than is left of the range).
    async fn next_chunk(&mut self, fs: &FileSystem, block_size: u64) -> Result<Bytes> {
        let index = self.index;
        match &mut self.source {
            Source::Local { data, .. } => {
                let off = (self.pos - index as u64 * block_size) as usize;
                let n = (LOCAL_CHUNK.min(self.end - self.pos)) as usize;
                if off + n > data.len() {
                    Err(ClientError::new(Code::DataLoss, format!("block {index} is shorter than expected")))
                } else {
                    Ok(data.slice(off..off + n))
                }
            }
            Source::Data { conn, key, left, buf } => {
                let want = (*left).min(DATA_CHUNK) as usize;
                // Reuses the buffer once the caller dropped the previous chunk.
                buf.reserve(want);
                let got = match conn.as_mut() {
                    Some(c) => fill(c, buf, want, index).await,
                    None => Ok(()),
                };
                if let Err(e) = got {
                    conn.take();
                    return Err(e);
                }
                *left -= want as u64;
                if *left == 0 {
                    if let Some(c) = conn.take() {
                        // The next request starts with a one-byte status.
                        c.wake_after(1);
                        fs.return_data_conn(key.clone(), c);
                    }
                }
                Ok(buf.split().freeze())
            }
            Source::Remote { stream, pending } => {
                if !pending.is_empty() {
                    return Ok(std::mem::take(pending));
                }
                match stream.message().await {
                    Ok(Some(m)) if !m.chunk.is_empty() => Ok(m.chunk),
                    Ok(_) => Err(ClientError::new(Code::DataLoss, format!("block {index} ended early"))),
                    Err(s) => Err(ClientError::from(s)),
                }
            }
        }
    }
}

/// Reads from a block data connection until `buf` holds `want` bytes.
async fn fill(c: &mut Stream, buf: &mut bytes::BytesMut, want: usize, index: i64) -> Result<()> {
    use tokio::io::AsyncReadExt;
    while buf.len() < want {
        // Wake up for megabytes at a time, not for every segment.
        c.wake_after((want - buf.len()).min(2 << 20));
        let mut limited = (&mut *c).take((want - buf.len()) as u64);
        match limited.read_buf(buf).await {
            Ok(0) => {
                let msg = format!("block {index} data stream ended early");
                return Err(ClientError::new(Code::Unavailable, msg));
            }
            Ok(_) => {}
            Err(e) => return Err(ClientError::new(Code::Unavailable, format!("block {index} data stream: {e}"))),
        }
    }
    Ok(())
}

/// Where a file offset falls: its block, and the block's place in the file.
struct BlockAt {
    index: i64,
    block_id: i64,
    block_size: u64,
    /// File offset of the block's first byte, and one past its last.
    start: u64,
    end: u64,
    /// The block's length, and the offset in it.
    len: u64,
    offset: u64,
}

impl BlockAt {
    fn of(info: &FileInfo, pos: u64) -> Self {
        let block_size = info.block_size_bytes.max(1) as u64;
        let index = (pos / block_size) as i64;
        let start = index as u64 * block_size;
        let len = id::block_length(info.length, info.block_size_bytes, index) as u64;
        BlockAt {
            index,
            block_id: id::block_id(info.file_id, index),
            block_size,
            start,
            end: start + len,
            len,
            offset: pos - start,
        }
    }
}

/// An open file. Read sequentially with [`FileInStream::read_chunk`]; [`FileInStream::seek`] moves.
pub struct FileInStream {
    fs: FileSystem,
    info: FileInfo,
    read_type: ReadPType,
    pos: u64,
    reader: Option<BlockReader>,
    refreshed: bool,
}

impl FileInStream {
    pub(crate) fn new(fs: FileSystem, info: FileInfo, read_type: ReadPType) -> Self {
        FileInStream { fs, info, read_type, pos: 0, reader: None, refreshed: false }
    }

    pub fn info(&self) -> &FileInfo {
        &self.info
    }

    pub fn length(&self) -> u64 {
        self.info.length.max(0) as u64
    }

    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Moves to `pos` (clamped to the length).
    pub fn seek(&mut self, pos: u64) {
        let pos = pos.min(self.length());
        if pos != self.pos {
            self.pos = pos;
            if self.reader.as_ref().is_some_and(|r| r.pos != pos) {
                self.reader = None;
            }
        }
    }

    /// The next bytes of the file, `None` at the end.
    pub async fn read_chunk(&mut self) -> Result<Option<Bytes>> {
        if self.pos >= self.length() {
            return Ok(None);
        }
        let mut attempts = 0;
        loop {
            if self.reader.is_none() {
                self.reader = Some(self.open_block_waiting().await?);
            }
            let r = self.reader.as_mut().expect("just opened");
            match r.next_chunk(&self.fs, self.info.block_size_bytes as u64).await {
                Ok(mut b) => {
                    let left = (r.end - r.pos) as usize;
                    if b.len() > left {
                        b.truncate(left);
                    }
                    r.pos += b.len() as u64;
                    self.pos = r.pos;
                    if r.pos >= r.end {
                        self.reader = None;
                    }
                    return Ok(Some(b));
                }
                Err(e) => {
                    // The source failed mid-block: reopen at the current position elsewhere.
                    self.reader = None;
                    attempts += 1;
                    if attempts > 3 {
                        return Err(e);
                    }
                    tracing::debug!("read of {} failed ({e}); trying another source", self.info.path);
                    self.refresh().await?;
                }
            }
        }
    }

    /// Reads up to `len` bytes at `offset` (fewer at the end of the file).
    pub async fn read_range(&mut self, offset: u64, len: u64) -> Result<Bytes> {
        self.seek(offset);
        let want = len.min(self.length().saturating_sub(offset)) as usize;
        let mut out = bytes::BytesMut::with_capacity(want);
        while out.len() < want {
            let Some(b) = self.read_chunk().await? else {
                break;
            };
            let take = (want - out.len()).min(b.len());
            out.extend_from_slice(&b[..take]);
            if take < b.len() {
                // Overshot: step back so the stream position matches what was returned.
                let p = self.pos - (b.len() - take) as u64;
                self.reader = None;
                self.pos = p;
            }
        }
        Ok(out.freeze())
    }

    /// Re-fetches block locations (after a source failed).
    async fn refresh(&mut self) -> Result<()> {
        let path = alluxio_common::AlluxioPath::parse(&self.info.path)?;
        self.info = self.fs.get_status_opts(&path, true).await?;
        self.fs.forget_workers();
        self.refreshed = true;
        Ok(())
    }

    /// [`Self::open_block`], waiting (within the RPC retry budget) while the master is in safe
    /// mode: right after it started, the workers holding the block may not have registered yet.
    async fn open_block_waiting(&mut self) -> Result<BlockReader> {
        let mut deadline = None;
        loop {
            match self.open_block().await {
                Err(e) if e.code == Code::Unavailable => {
                    let d = *deadline.get_or_insert_with(|| self.fs.retry_deadline());
                    if std::time::Instant::now() >= d || !self.fs.master_in_safe_mode().await {
                        return Err(e);
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    self.refresh().await?;
                }
                r => return r,
            }
        }
    }

    async fn open_block(&mut self) -> Result<BlockReader> {
        let at = BlockAt::of(&self.info, self.pos);
        let locations: Vec<WorkerNetAddress> = self
            .info
            .file_block_infos
            .get(at.index as usize)
            .and_then(|f| f.block_info.as_ref())
            .map(|b| b.locations.iter().filter_map(|l| l.worker_address.clone()).collect())
            .unwrap_or_default();
        let mut last_err = None;
        // 1. Short-circuit from a local copy.
        if let Some(r) = self.open_local_copy(&at, &locations, &mut last_err).await {
            return Ok(r);
        }
        // 2. Stream from a worker holding it, local ones first.
        if let Some(r) = self.open_from_workers(&at, &locations, &mut last_err).await {
            return Ok(r);
        }
        // 3. Through a worker from the UFS.
        if self.info.persisted && !self.info.ufs_path.is_empty() {
            if let Some(r) = self.open_through_ufs(&at, &mut last_err).await? {
                return Ok(r);
            }
        }
        if let Some(e) = last_err.as_mut().filter(|e| e.code == Code::DataLoss) {
            e.message = format!("cannot read {}: {}", self.info.path, e.message);
        }
        Err(last_err.unwrap_or_else(|| {
            ClientError::new(
                Code::Unavailable,
                format!(
                    "Block {} of {} is not cached on any live worker and the file is not persisted ({}): unless a \
                     worker holding it comes back, its data is lost",
                    at.block_id, self.info.path, self.info.persistence_state
                ),
            )
        }))
    }

    fn reader(&self, at: &BlockAt, source: Source) -> BlockReader {
        BlockReader { index: at.index, pos: self.pos, end: at.end, source }
    }

    /// A memory-mapped local copy, when short-circuit reads are on.
    async fn open_local_copy(
        &self,
        at: &BlockAt,
        locations: &[WorkerNetAddress],
        last_err: &mut Option<ClientError>,
    ) -> Option<BlockReader> {
        if !self.fs.conf().short_circuit {
            return None;
        }
        for a in locations.iter().filter(|a| self.fs.is_local(a)) {
            match self.open_local(a, at.block_id).await {
                Ok((data, lock)) => return Some(self.reader(at, Source::Local { data, _lock: lock })),
                Err(e) => keep_worst(last_err, e),
            }
        }
        None
    }

    /// A stream from a worker holding the block (its data port, else gRPC), local ones first.
    async fn open_from_workers(
        &self,
        at: &BlockAt,
        locations: &[WorkerNetAddress],
        last_err: &mut Option<ClientError>,
    ) -> Option<BlockReader> {
        let mut ordered: Vec<&WorkerNetAddress> = locations.iter().filter(|a| self.fs.is_local(a)).collect();
        ordered.extend(locations.iter().filter(|a| !self.fs.is_local(a)));
        let left = at.len - at.offset;
        for a in ordered {
            if a.data_port > 0 && a.data_port != a.rpc_port && !(self.fs.conf().short_circuit && self.fs.is_local(a)) {
                match self.open_data(a, at.block_id, at.offset, left).await {
                    Ok(source) => {
                        if !self.fs.is_local(a) {
                            self.passive_cache(a, at.block_id, at.len).await;
                        }
                        return Some(self.reader(at, source));
                    }
                    Err(e) => tracing::debug!("data port of {}:{} failed ({e}); using RPC", a.host, a.data_port),
                }
            }
            let req = ReadRequest {
                block_id: at.block_id,
                offset: at.offset as i64,
                length: left as i64,
                chunk_size: self.fs.conf().chunk_size as i64,
                promote: self.read_type == ReadPType::CachePromote,
                ..Default::default()
            };
            match self.open_remote(a, req).await {
                Ok(source) => {
                    if !self.fs.is_local(a) {
                        self.passive_cache(a, at.block_id, at.len).await;
                    }
                    return Some(self.reader(at, source));
                }
                Err(e) => keep_worst(last_err, e),
            }
        }
        None
    }

    /// The block read from the UFS by a worker (which caches it unless reading NO_CACHE).
    async fn open_through_ufs(&self, at: &BlockAt, last_err: &mut Option<ClientError>) -> Result<Option<BlockReader>> {
        let workers = self.fs.workers().await?;
        let mut candidates: Vec<WorkerNetAddress> = workers.iter().filter_map(|w| w.address.clone()).collect();
        candidates.sort_by_key(|a| !self.fs.is_local(a));
        for a in &candidates {
            let req = ReadRequest {
                block_id: at.block_id,
                offset: at.offset as i64,
                length: (at.len - at.offset) as i64,
                chunk_size: self.fs.conf().chunk_size as i64,
                open_ufs_block_options: Some(OpenUfsBlockOptions {
                    ufs_path: self.info.ufs_path.clone(),
                    offset_in_file: at.start as i64,
                    block_size: at.block_size as i64,
                    mount_id: self.info.mount_id,
                    no_cache: self.read_type == ReadPType::NoCache,
                    file_length: self.info.length,
                }),
                promote: self.read_type == ReadPType::CachePromote,
            };
            match self.open_remote(a, req).await {
                Ok(source) => return Ok(Some(self.reader(at, source))),
                Err(e) => keep_worst(last_err, e),
            }
        }
        if candidates.is_empty() {
            *last_err = Some(ClientError::new(
                Code::Unavailable,
                format!("No Alluxio worker is available to read {} from the UFS", self.info.path),
            ));
        }
        Ok(None)
    }

    /// Asks the local worker, if any, to copy a block this client reads from a remote one.
    async fn passive_cache(&self, source: &WorkerNetAddress, block_id: i64, length: u64) {
        if !self.fs.conf().passive_cache || self.read_type == ReadPType::NoCache {
            return;
        }
        let Ok(workers) = self.fs.workers().await else { return };
        let Some(local) = workers.iter().filter_map(|w| w.address.as_ref()).find(|a| self.fs.is_local(a)) else {
            return;
        };
        if let Ok(mut c) = self.fs.worker_client(local) {
            let req = AsyncCacheRequest {
                block_id,
                length: length as i64,
                source: Some(source.clone()),
                open_ufs_block_options: None,
            };
            let _ = c.async_cache(req).await;
        }
    }

    /// Asks the worker's data port for a block range; the bytes follow the header.
    async fn open_data(&self, a: &WorkerNetAddress, block_id: i64, offset: u64, length: u64) -> Result<Source> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let key = format!("{}:{}", a.host, a.data_port);
        let mut conn = match self.fs.take_data_conn(&key) {
            Some(c) => c,
            None => {
                let c = self.fs.conf().transport.connect(&key, Protocol::Data).await.map_err(|e| {
                    ClientError::new(Code::Unavailable, format!("cannot connect to block data port {key}: {e}"))
                })?;
                // Blocks are megabytes: a receive buffer to match.
                c.set_socket_option(libc::SO_RCVBUF, 8 << 20);
                c
            }
        };
        let io = |e: std::io::Error| ClientError::new(Code::Unavailable, format!("block data from {key}: {e}"));
        conn.write_all(&alluxio_proto::data_port::request(block_id, offset, length)).await.map_err(io)?;
        let status = conn.read_u8().await.map_err(io)?;
        if status != 0 {
            let n = conn.read_u32_le().await.map_err(io)? as usize;
            let mut msg = vec![0u8; n.min(1 << 16)];
            conn.read_exact(&mut msg).await.map_err(io)?;
            let msg = String::from_utf8_lossy(&msg).into_owned();
            return Err(ClientError::new(alluxio_proto::data_port::refusal_code(status), msg));
        }
        let len = conn.read_u64_le().await.map_err(io)?;
        Ok(Source::Data { conn: Some(conn), key, left: len, buf: bytes::BytesMut::new() })
    }

    async fn open_local(
        &self,
        a: &WorkerNetAddress,
        block_id: i64,
    ) -> Result<(Bytes, mpsc::Sender<OpenLocalBlockRequest>)> {
        let mut client = self.fs.worker_client(a)?;
        let (tx, rx) = mpsc::channel(1);
        tx.send(OpenLocalBlockRequest { block_id, promote: self.read_type == ReadPType::CachePromote })
            .await
            .map_err(|_| ClientError::new(Code::Internal, "lock stream closed"))?;
        let mut replies = client.open_local_block(ReceiverStream::new(rx)).await?.into_inner();
        let r = replies
            .message()
            .await?
            .ok_or_else(|| ClientError::new(Code::Unavailable, "worker closed the lock stream"))?;
        let path = r.path.clone();
        let data = tokio::task::spawn_blocking(move || -> std::io::Result<Bytes> {
            let f = std::fs::File::open(&path)?;
            // SAFETY: committed block files are never modified or truncated, only unlinked,
            // and the worker's read lock keeps this one from being removed while we map it.
            let map = unsafe { memmap2::MmapOptions::new().populate().map(&f)? };
            Ok(Bytes::from_owner(map))
        })
        .await
        .map_err(|e| ClientError::new(Code::Internal, e.to_string()))?
        .map_err(|e| ClientError::new(Code::Unavailable, format!("cannot map block file {}: {e}", r.path)))?;
        // Keep the lock stream (and its response half) alive until the reader is done.
        tokio::spawn(async move { while let Ok(Some(_)) = replies.message().await {} });
        Ok((data, tx))
    }

    async fn open_remote(&self, a: &WorkerNetAddress, req: ReadRequest) -> Result<Source> {
        let mut client = self.fs.worker_client(a)?;
        let mut stream = client.read_block(req).await?.into_inner();
        // Surface an immediate error (block gone, UFS unreadable) here so the next source is tried.
        let first = stream.message().await?.map(|m| m.chunk).unwrap_or_default();
        Ok(Source::Remote { stream: Box::new(stream), pending: first })
    }
}

/// Remembers a source's failure; a corrupt copy (DATA_LOSS) is what the reader hears about
/// when no source works, not a later "not found".
fn keep_worst(last: &mut Option<ClientError>, e: ClientError) {
    if last.as_ref().is_none_or(|l| l.code != Code::DataLoss) {
        *last = Some(e);
    }
}
