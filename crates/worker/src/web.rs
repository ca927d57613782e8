//! The worker's web port (30000): status as JSON and a short overview page.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};

use crate::worker::Worker;

pub fn router(w: Arc<Worker>) -> Router {
    Router::new().route("/", get(overview)).route("/api/v1/worker/info", get(info)).with_state(w)
}

fn summary(w: &Worker) -> serde_json::Value {
    serde_json::json!({
        "workerId": w.id.load(std::sync::atomic::Ordering::Relaxed),
        "address": format!("{}:{}", w.address.host, w.address.rpc_port),
        "version": alluxio_common::version::VERSION,
        "startTimeMs": w.start_time_ms,
        "blocks": w.store.block_count(),
        "capacityBytesOnTiers": w.store.capacity().into_iter().collect::<std::collections::BTreeMap<_, _>>(),
        "usedBytesOnTiers": w.store.used().into_iter().collect::<std::collections::BTreeMap<_, _>>(),
    })
}

async fn info(State(w): State<Arc<Worker>>) -> impl IntoResponse {
    Json(summary(&w))
}

async fn overview(State(w): State<Arc<Worker>>) -> impl IntoResponse {
    Html(format!("<!doctype html><html><head><title>Alluxio Worker</title></head><body><h1>Alluxio Worker</h1><pre>{}</pre></body></html>",
        serde_json::to_string_pretty(&summary(&w)).unwrap_or_default().replace('<', "&lt;")))
}
