//! The proxy process: binds `alluxio.proxy.web.port` and routes each request to the REST API
//! or, below `/api/v1/s3`, to the S3 service.

use std::sync::Arc;

use alluxio_client::FileSystem;
use alluxio_common::Conf;
use alluxio_proto::grpc::WritePType;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use s3s::service::{S3Service, S3ServiceBuilder};

use crate::credentials::KeyPairs;
use crate::rest::Rest;
use crate::s3::{AlluxioS3, NamedUser};
use crate::ProxyError;

/// Where the S3 API lives, as in Alluxio (`--endpoint http://<proxy>:39999/api/v1/s3/`).
const S3_PREFIX: &str = "/api/v1/s3";

#[derive(Clone)]
struct Proxy {
    rest: Arc<Rest>,
    /// The S3 API for every user ([`crate::s3::Gateway`]).
    s3: S3Service,
    /// Whether S3 requests must be signed with a configured key pair.
    verified: bool,
}

/// Runs the proxy until SIGTERM or SIGINT.
pub async fn run(conf: Arc<Conf>) -> Result<(), ProxyError> {
    // Certificate and credentials files are read off the async workers.
    let transport = tokio::task::block_in_place(|| alluxio_proto::transport::Transport::server(&conf))?;
    let host = conf.get_str("alluxio.proxy.web.bind.host")?;
    let port = conf.get_i64("alluxio.proxy.web.port")?;
    let listener = alluxio_common::net::bind(&host, port, "alluxio.proxy.web.port")?;
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let fs = FileSystem::connect(&conf).await.map_err(|e| ProxyError::Client(e.message))?;

    let write_type = alluxio_client::parse_write_type(&conf.get_enum("alluxio.proxy.s3.writetype")?)
        .unwrap_or(WritePType::CacheThrough);
    if let Err(e) = crate::s3::prepare_uploads(&fs, write_type).await {
        tracing::warn!(
            "cannot prepare the S3 uploads directory as {}: {} (multipart uploads of other users may be refused)",
            fs.conf().user,
            e.message
        );
    }
    let keys = tokio::task::block_in_place(|| KeyPairs::from_conf(&conf))?;
    let base = AlluxioS3::new(
        fs.clone(),
        write_type,
        conf.get_bytes("alluxio.proxy.s3.complete.multipart.upload.min.part.size")?,
        conf.get_bytes("alluxio.proxy.s3.max.body.size")?,
        None,
    );
    let mut builder = S3ServiceBuilder::new(crate::s3::Gateway::new(base));
    if !keys.is_empty() {
        let mut auth = s3s::auth::SimpleAuth::new();
        for (ak, sk) in keys.iter() {
            auth.register(ak.clone(), sk.as_str().into());
        }
        builder.set_auth(auth);
        tracing::info!("S3 requests must be signed, REST v1 calls must authenticate: key pairs of {keys:?}");
    }
    let verified = !keys.is_empty();
    let shown: Vec<(String, String)> = conf.all().into_iter().filter_map(|(k, v, _)| v.map(|v| (k, v))).collect();
    let rest = Rest::new(
        fs,
        conf.get_duration("alluxio.proxy.stream.cache.timeout")?,
        conf.get_duration("alluxio.proxy.stream.idle.release.time")?,
        shown,
        verified.then_some(keys),
    );

    let app = axum::Router::new().fallback(dispatch).with_state(Proxy { rest, s3: builder.build(), verified });
    tracing::info!("Alluxio proxy serving REST API v1 and S3 ({S3_PREFIX}) on {}://{host}:{port}", transport.scheme());
    // Small responses go out at once: connections have no Nagle delay (see `Transport::accept`).
    axum::serve(transport.incoming(listener), app).with_graceful_shutdown(shutdown_signal()).await?;
    tracing::info!("Alluxio proxy stopped");
    Ok(())
}

async fn dispatch(State(p): State<Proxy>, req: Request) -> Response {
    let path = req.uri().path();
    if path == S3_PREFIX || path.starts_with("/api/v1/s3/") {
        return s3(&p, req, S3_PREFIX.len()).await;
    }
    // Tools that take a host but no path prefix (s3cmd) find the S3 API at the root as well.
    if !path.starts_with("/api/") {
        return s3(&p, req, 0).await;
    }
    let (parts, body) = req.into_parts();
    p.rest.handle(parts.method, parts.uri, &parts.headers, body).await
}

/// Hands a request to the S3 service with its first `prefix_len` path bytes (`/api/v1/s3`)
/// removed. Without key pairs configured, like Alluxio's proxy, it does not check signatures
/// (any key pair works, the access key naming the user): the signature is dropped so the
/// request parses as anonymous, and the access key travels as [`NamedUser`].
async fn s3(p: &Proxy, req: Request, prefix_len: usize) -> Response {
    if p.verified {
        // A signature covers the path the client sent, so only the root endpoint can check it.
        if prefix_len > 0 {
            return s3_error_response(
                axum::http::StatusCode::FORBIDDEN,
                "AccessDenied",
                "This proxy checks signatures: use the S3 endpoint http://PROXY_HOST:PORT/ (no /api/v1/s3)",
            );
        }
        return call(p.s3.clone(), req).await;
    }
    let (mut parts, body) = req.into_parts();
    let rest = parts.uri.path()[prefix_len..].to_owned();
    let rest = if rest.is_empty() { "/".to_owned() } else { rest };
    let query: Option<String> = parts.uri.query().map(|q| {
        q.split('&')
            .filter(|kv| !kv.starts_with("X-Amz-Signature=") && !kv.starts_with("X-Amz-Credential="))
            .collect::<Vec<_>>()
            .join("&")
    });
    let pq = match query.filter(|q| !q.is_empty()) {
        Some(q) => format!("{rest}?{q}"),
        None => rest,
    };
    let mut uri = Uri::builder().path_and_query(pq.as_str());
    if let Some(a) = parts.uri.authority() {
        uri = uri.authority(a.clone());
    }
    if let Some(s) = parts.uri.scheme() {
        uri = uri.scheme(s.clone());
    }
    parts.uri = match uri.build() {
        Ok(u) => u,
        Err(e) => return (axum::http::StatusCode::BAD_REQUEST, format!("bad request URI: {e}")).into_response(),
    };
    let user = parts
        .headers
        .remove(axum::http::header::AUTHORIZATION)
        .and_then(|a| a.to_str().ok().and_then(|a| a.split("Credential=").nth(1)).map(str::to_owned))
        .or_else(|| {
            let q = parts.uri.query()?;
            q.split('&').find_map(|kv| kv.strip_prefix("X-Amz-Credential=")).map(crate::rest::percent_decode)
        })
        .and_then(|c| c.split('/').next().map(str::to_owned))
        .filter(|u| !u.is_empty());
    if let Some(u) = user {
        parts.extensions.insert(NamedUser(u));
    }
    call(p.s3.clone(), axum::http::Request::from_parts(parts, body)).await
}

async fn call(mut svc: S3Service, req: axum::http::Request<Body>) -> Response {
    match tower::Service::call(&mut svc, req).await {
        Ok(r) => r.map(Body::new),
        Err(e) => {
            tracing::warn!("S3 request failed: {e:?}");
            (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

fn s3_error_response(status: axum::http::StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    let mut r = (status, body).into_response();
    r.headers_mut().insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/xml"));
    r
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("install SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("install SIGINT handler");
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received, stopping"),
        _ = int.recv() => tracing::info!("SIGINT received, stopping"),
    }
}
