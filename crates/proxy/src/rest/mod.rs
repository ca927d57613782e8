//! Alluxio's REST API v1 (`/api/v1/paths/…`, `/api/v1/streams/…`, `/api/v1/proxy/info`), as the
//! Java proxy serves it and as Alluxio's Python and Go clients call it: every call is a POST, the
//! path sits between `paths/` and the last `/<action>` (clients send `paths//a/b/get-status`),
//! options come as an optional JSON body whose unknown keys are ignored, results are JSON with
//! HTTP 200, and every error is HTTP 500 with `{"statusCode": "NOT_FOUND", "message": "…"}`.
//!
//! Streams: `create-file` and `open-file` return an integer id; `streams/{id}/write` appends the
//! request body, `streams/{id}/read` answers the rest of the file, `streams/{id}/close`
//! completes a written file. Streams idle longer than `alluxio.proxy.stream.cache.timeout` are
//! dropped (an abandoned written file is aborted, leaving nothing).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alluxio_client::{ClientError, FileInStream, FileInfo, FileOutStream, FileSystem};
use alluxio_common::status::Code;
use alluxio_common::AlluxioPath;
use alluxio_proto::grpc::TtlAction;
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use parking_lot::Mutex;
use serde_json::{json, Value};

use options::{flag, write_type};

use crate::credentials::KeyPairs;

/// The header naming the user a REST call acts for (without key pairs configured).
pub const USER_HEADER: &str = "x-alluxio-user";

mod options;

/// An error as the REST clients expect it.
#[derive(Debug)]
pub struct RestError {
    code: Code,
    message: String,
}

impl RestError {
    fn new(code: Code, message: impl Into<String>) -> Self {
        RestError { code, message: message.into() }
    }
}

impl From<ClientError> for RestError {
    fn from(e: ClientError) -> Self {
        RestError { code: e.code, message: e.message }
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let body = json!({"statusCode": self.code.name(), "message": self.message});
        if self.code == Code::Unauthenticated {
            let mut r = json_response(StatusCode::UNAUTHORIZED, &body);
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"alluxio\""));
            return r;
        }
        json_response(StatusCode::INTERNAL_SERVER_ERROR, &body)
    }
}

type R = Result<Response, RestError>;

fn json_response(status: StatusCode, v: &Value) -> Response {
    let mut r = (status, v.to_string()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn ok_json(v: Value) -> R {
    Ok(json_response(StatusCode::OK, &v))
}

fn ok_empty() -> R {
    Ok(StatusCode::OK.into_response())
}

enum Stream {
    Out(FileOutStream),
    In(FileInStream),
    /// An input stream whose bytes went out with a `read`; only `close` remains.
    Consumed,
}

struct Entry {
    stream: Stream,
    /// The user that opened it: only that user may use it.
    user: String,
    used: Instant,
    /// The worker space reserved beyond what was written was given back (idle).
    released: bool,
}

/// The proxy's REST state: one client and the open streams.
pub struct Rest {
    fs: FileSystem,
    /// With key pairs (signatures required on S3), every call must authenticate with one.
    keys: Option<KeyPairs>,
    streams: Mutex<HashMap<i32, Entry>>,
    /// Streams taken out for giving back their reserved space; requests for them wait.
    releasing: Mutex<std::collections::HashSet<i32>>,
    next_id: AtomicI32,
    started: Instant,
    started_ms: i64,
    stream_timeout: Duration,
    /// A write stream idle this long gives back the worker space reserved for its open block.
    release_after: Duration,
    conf: Vec<(String, String)>,
}

impl Rest {
    pub fn new(
        fs: FileSystem,
        stream_timeout: Duration,
        release_after: Duration,
        conf: Vec<(String, String)>,
        keys: Option<KeyPairs>,
    ) -> Arc<Self> {
        let started_ms = chrono::Utc::now().timestamp_millis();
        let rest = Arc::new(Rest {
            fs,
            keys,
            streams: Mutex::new(HashMap::new()),
            releasing: Mutex::new(Default::default()),
            next_id: AtomicI32::new(1),
            started: Instant::now(),
            started_ms,
            stream_timeout,
            release_after,
            conf,
        });
        let weak = Arc::downgrade(&rest);
        let every = stream_timeout.min(release_after).clamp(Duration::from_millis(100), Duration::from_secs(60)) / 2;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let Some(r) = weak.upgrade() else { return };
                r.expire_streams().await;
                r.release_idle().await;
            }
        });
        rest
    }

    /// Write streams idle for `release_after` give back the worker space reserved for their
    /// open block (up to 16 MB each), so abandoned streams do not hold it until they expire.
    async fn release_idle(&self) {
        let idle: Vec<(i32, Entry)> = {
            let mut s = self.streams.lock();
            let ids: Vec<i32> = s
                .iter()
                .filter(|(_, e)| {
                    !e.released && matches!(e.stream, Stream::Out(_)) && e.used.elapsed() > self.release_after
                })
                .map(|(id, _)| *id)
                .collect();
            self.releasing.lock().extend(ids.iter().copied());
            ids.into_iter().filter_map(|id| s.remove(&id).map(|e| (id, e))).collect()
        };
        for (id, mut e) in idle {
            if let Stream::Out(o) = &mut e.stream {
                // A worker that does not answer must not hold up the other streams' upkeep.
                match tokio::time::timeout(Duration::from_secs(5), o.release_unused()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(err)) => tracing::warn!("cannot release the space reserved for idle stream {id}: {err}"),
                    Err(_) => tracing::warn!("the worker of idle stream {id} did not release its space within 5 s"),
                }
            }
            e.released = true;
            let mut streams = self.streams.lock();
            streams.insert(id, e);
            self.releasing.lock().remove(&id);
        }
    }

    /// Open REST streams, and how many of them are idle writers holding no reserved space.
    pub fn stream_counts(&self) -> (usize, usize) {
        let s = self.streams.lock();
        (s.len(), s.values().filter(|e| e.released).count())
    }

    async fn expire_streams(&self) {
        let expired: Vec<Entry> = {
            let mut s = self.streams.lock();
            let ids: Vec<i32> =
                s.iter().filter(|(_, e)| e.used.elapsed() > self.stream_timeout).map(|(id, _)| *id).collect();
            ids.into_iter().filter_map(|id| s.remove(&id)).collect()
        };
        for e in expired {
            if let Stream::Out(mut o) = e.stream {
                tracing::info!("aborting {}: its REST stream was idle too long", o.info().path);
                o.abort().await;
            }
        }
    }

    fn add(&self, stream: Stream, user: &str) -> i32 {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let e = Entry { stream, user: user.to_owned(), used: Instant::now(), released: false };
        self.streams.lock().insert(id, e);
        id
    }

    /// Takes stream `id` out of the map for `user`'s request; another user's stream stays.
    async fn take(&self, id: i32, user: &str) -> Result<Stream, RestError> {
        loop {
            {
                // Decided under the streams lock (taken before `releasing`, as everywhere): a
                // stream giving back its reserved space is out of the map for a moment.
                let mut streams = self.streams.lock();
                if !self.releasing.lock().contains(&id) {
                    return match streams.get(&id) {
                        None => Err(RestError::new(Code::NotFound, format!("stream {id} does not exist"))),
                        Some(e) if e.user != user => Err(RestError::new(
                            Code::PermissionDenied,
                            format!("stream {id} belongs to another user than {user}"),
                        )),
                        Some(_) => Ok(streams.remove(&id).map(|e| e.stream).expect("present")),
                    };
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn put_back(&self, id: i32, stream: Stream, user: &str) {
        let e = Entry { stream, user: user.to_owned(), used: Instant::now(), released: false };
        self.streams.lock().insert(id, e);
    }

    /// The user a call acts for. With key pairs configured: the user of valid HTTP Basic
    /// credentials, or UNAUTHENTICATED. Without: the `user` query parameter or the
    /// `X-Alluxio-User` header, else the proxy's own user.
    fn user_of(&self, headers: &HeaderMap, query: &str) -> Result<String, RestError> {
        let Some(keys) = &self.keys else {
            let named = query_param(query, "user")
                .or_else(|| headers.get(USER_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned))
                .filter(|u| !u.is_empty());
            return Ok(named.unwrap_or_else(|| self.fs.conf().user.clone()));
        };
        let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
        keys.basic_user(auth).ok_or_else(|| {
            RestError::new(
                Code::Unauthenticated,
                "this proxy requires authentication (alluxio.proxy.s3.auth.* is set): send HTTP Basic credentials \
                 <access key>:<secret key> of a configured key pair",
            )
        })
    }

    /// Serves one REST request (`uri` below `/api/v1`).
    pub async fn handle(self: Arc<Self>, method: Method, uri: Uri, headers: &HeaderMap, body: Body) -> Response {
        let path = uri.path().to_owned();
        let query = uri.query().unwrap_or("").to_owned();
        let user = match self.user_of(headers, &query) {
            Ok(u) => u,
            Err(e) => return e.into_response(),
        };
        let r = if let Some(rest) = path.strip_prefix("/api/v1/paths/") {
            self.paths(&user, &method, rest, &query, body).await
        } else if let Some(rest) = path.strip_prefix("/api/v1/streams/") {
            self.streams(&user, &method, rest, body).await
        } else if path == "/api/v1/proxy/info" || path == "/api/v1/proxy/info/" {
            self.info()
        } else {
            Err(RestError::new(Code::NotFound, format!("no REST endpoint {path}")))
        };
        r.unwrap_or_else(IntoResponse::into_response)
    }

    /// `proxy/info`: start time, uptime, version and the configuration, secrets shown as
    /// `******` (`raw_configuration=true` is accepted and changes nothing: values are already raw).
    fn info(&self) -> R {
        let conf: serde_json::Map<String, Value> = self
            .conf
            .iter()
            .map(|(k, v)| {
                let v = if alluxio_common::conf::is_secret_key(k) { "******" } else { v.as_str() };
                (k.clone(), Value::String(v.to_owned()))
            })
            .collect();
        ok_json(json!({
            "configuration": conf,
            "startTimeMs": self.started_ms,
            "uptimeMs": self.started.elapsed().as_millis() as i64,
            "version": alluxio_common::version::VERSION,
            "openStreams": self.stream_counts().0,
            "idleStreamsHoldingNoSpace": self.stream_counts().1,
        }))
    }

    async fn paths(&self, user: &str, method: &Method, rest: &str, query: &str, body: Body) -> R {
        let (raw_path, action) = rest.rsplit_once('/').unwrap_or(("", rest));
        let path = alluxio_path(raw_path)?;
        let fs = &self.fs.impersonating(user);
        if action == "download-file" && method == Method::GET {
            return download(fs, &path).await;
        }
        if method != Method::POST {
            return Err(RestError::new(Code::InvalidArgument, format!("{action} takes POST, not {method}")));
        }
        let opts = options::parse(body).await?;
        match action {
            "create-directory" => {
                fs.create_directory(&path, flag(&opts, "recursive"), flag(&opts, "allowExists"), write_type(&opts)?)
                    .await?;
                ok_empty()
            }
            "create-file" => {
                let out = fs.create_file(&path, options::create_file(&opts)?).await?;
                ok_json(json!(self.add(Stream::Out(out), user)))
            }
            "open-file" => {
                let input = fs.open_file(&path, options::read_type(&opts)?).await?;
                ok_json(json!(self.add(Stream::In(input), user)))
            }
            "delete" => {
                fs.delete(&path, flag(&opts, "recursive"), flag(&opts, "alluxioOnly")).await?;
                ok_empty()
            }
            "exists" => ok_json(json!(fs.exists(&path).await?)),
            "free" => {
                fs.free(&path, flag(&opts, "recursive"), flag(&opts, "forced")).await?;
                ok_empty()
            }
            "get-status" => ok_json(file_info_json(&fs.get_status(&path).await?)),
            "list-status" => {
                let list = fs.list_status(&path, flag(&opts, "recursive")).await?;
                ok_json(Value::Array(list.iter().map(file_info_json).collect()))
            }
            "mount" => {
                let src = query_param(query, "src").ok_or_else(|| {
                    RestError::new(Code::InvalidArgument, "mount needs the query parameter src=<ufs uri>")
                })?;
                fs.mount(&path, &src, options::mount(&opts)).await?;
                ok_empty()
            }
            "unmount" => {
                fs.unmount(&path).await?;
                ok_empty()
            }
            "rename" => {
                let dst = query_param(query, "dst").ok_or_else(|| {
                    RestError::new(Code::InvalidArgument, "rename needs the query parameter dst=<path>")
                })?;
                fs.rename(&path, &alluxio_path(&dst)?).await?;
                ok_empty()
            }
            "set-attribute" => {
                fs.set_attribute(&path, options::set_attribute(&opts)?).await?;
                ok_empty()
            }
            a => Err(RestError::new(Code::InvalidArgument, format!("unknown REST action {a} on {path}"))),
        }
    }

    async fn streams(&self, user: &str, method: &Method, rest: &str, body: Body) -> R {
        if method != Method::POST {
            return Err(RestError::new(Code::InvalidArgument, format!("streams take POST, not {method}")));
        }
        let (id, action) = rest.trim_end_matches('/').split_once('/').unwrap_or((rest, ""));
        let id: i32 = id.parse().map_err(|_| RestError::new(Code::InvalidArgument, format!("bad stream id {id}")))?;
        match action {
            "write" => {
                let Stream::Out(mut out) = self.take(id, user).await? else {
                    return Err(RestError::new(Code::InvalidArgument, format!("stream {id} is not open for writing")));
                };
                let mut written = 0u64;
                let mut body = body.into_data_stream();
                while let Some(chunk) = body.next().await {
                    let chunk = match chunk {
                        Ok(c) => c,
                        Err(e) => {
                            self.put_back(id, Stream::Out(out), user);
                            return Err(RestError::new(Code::Aborted, format!("request body of stream {id}: {e}")));
                        }
                    };
                    written += chunk.len() as u64;
                    if let Err(e) = out.write(chunk).await {
                        out.abort().await;
                        return Err(e.into());
                    }
                }
                self.put_back(id, Stream::Out(out), user);
                ok_json(json!(written))
            }
            "read" => match self.take(id, user).await? {
                Stream::In(input) => {
                    self.put_back(id, Stream::Consumed, user);
                    let mut r = stream_body(input).into_response();
                    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
                    Ok(r)
                }
                other => {
                    self.put_back(id, other, user);
                    Err(RestError::new(Code::InvalidArgument, format!("stream {id} is not open for reading")))
                }
            },
            "close" => {
                if let Stream::Out(out) = self.take(id, user).await? {
                    out.close().await?;
                }
                ok_empty()
            }
            a => Err(RestError::new(Code::InvalidArgument, format!("unknown stream action {a}"))),
        }
    }
}

/// `download-file`: the whole file as an attachment.
async fn download(fs: &FileSystem, path: &AlluxioPath) -> R {
    let input = fs.open_file(path, None).await?;
    let name = path.name().to_owned();
    let mut r = stream_body(input).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename={name}")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// The rest of an input stream as a response body.
fn stream_body(input: FileInStream) -> Body {
    let s = futures::stream::unfold(Some(input), |state| async move {
        let mut input = state?;
        match input.read_chunk().await {
            Ok(Some(b)) => Some((Ok::<Bytes, std::io::Error>(b), Some(input))),
            Ok(None) => None,
            Err(e) => Some((Err(std::io::Error::other(e.message)), None)),
        }
    });
    Body::from_stream(s)
}

/// The Alluxio path of a REST URL segment: percent-decoded, repeated slashes collapsed.
pub fn alluxio_path(raw: &str) -> Result<AlluxioPath, RestError> {
    let decoded = percent_decode(raw);
    let joined: Vec<&str> = decoded.split('/').filter(|c| !c.is_empty()).collect();
    let p = format!("/{}", joined.join("/"));
    AlluxioPath::parse(&p).map_err(|e| RestError::new(Code::InvalidArgument, format!("Invalid path {p}: {e}")))
}

/// Decodes `%XX` escapes (and `+` in query values is left alone: clients encode spaces as %20).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The percent-decoded value of `name` in a URL query string.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| percent_decode(v))
}

/// A file status as Alluxio's REST clients read it (the keys of Java's `URIStatus`).
pub fn file_info_json(f: &FileInfo) -> Value {
    let blocks: Vec<Value> = f
        .file_block_infos
        .iter()
        .map(|b| {
            let bi = b.block_info.clone().unwrap_or_default();
            json!({
                "blockInfo": {
                    "blockId": bi.block_id,
                    "length": bi.length,
                    "locations": bi.locations.iter().map(|l| {
                        let a = l.worker_address.clone().unwrap_or_default();
                        json!({"workerId": l.worker_id, "workerAddress": {"host": a.host, "rpcPort": a.rpc_port, "dataPort": a.data_port, "webPort": a.web_port}, "tierAlias": l.tier_alias, "mediumType": l.medium_type})
                    }).collect::<Vec<_>>(),
                },
                "offset": b.offset,
                "ufsLocations": [],
            })
        })
        .collect();
    let ttl_action = if f.ttl_action == TtlAction::Free as i32 { "FREE" } else { "DELETE" };
    json!({
        "blockIds": f.block_ids,
        "blockSizeBytes": f.block_size_bytes,
        "cacheable": f.cacheable,
        "completed": f.completed,
        "creationTimeMs": f.creation_time_ms,
        "lastModificationTimeMs": f.last_modification_time_ms,
        "lastAccessTimeMs": f.last_access_time_ms,
        "fileBlockInfos": blocks,
        "fileId": f.file_id,
        "folder": f.folder,
        "owner": f.owner,
        "group": f.group,
        "inMemoryPercentage": f.in_memory_percentage,
        "inAlluxioPercentage": f.in_alluxio_percentage,
        "length": f.length,
        "name": f.name,
        "path": f.path,
        "ufsPath": f.ufs_path,
        "pinned": f.pinned,
        "persisted": f.persisted,
        "persistenceState": f.persistence_state,
        "mode": f.mode,
        "mountPoint": f.mount_point,
        "mountId": f.mount_id,
        "ttl": f.ttl,
        "ttlAction": ttl_action,
        "replicationMax": f.replication_max,
        "replicationMin": f.replication_min,
        "ufsFingerprint": f.ufs_fingerprint,
        "pinnedMediumTypes": f.medium_types,
        "acl": alluxio_client::acl_entries(f),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_come_from_the_url_as_clients_send_them() {
        assert_eq!(alluxio_path("/d/f").unwrap().to_string(), "/d/f");
        assert_eq!(alluxio_path("//").unwrap().to_string(), "/");
        assert_eq!(alluxio_path("").unwrap().to_string(), "/");
        assert_eq!(alluxio_path("/a%20b/c%25d").unwrap().to_string(), "/a b/c%d");
        assert_eq!(query_param("dst=%2Fd%2Ff2&x=1", "dst").as_deref(), Some("/d/f2"));
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    proptest::proptest! {
        /// REST URL paths of any text decode to an absolute path or an INVALID_ARGUMENT error.
        #[test]
        fn any_url_path_decodes_or_fails_cleanly(raw in ".{0,40}") {
            if let Ok(p) = alluxio_path(&raw) {
                proptest::prop_assert!(p.to_string().starts_with('/'));
            }
            let _ = query_param(&raw, "dst");
        }
    }
}
