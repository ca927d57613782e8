//! The master's web port (19999): an overview page and JSON/Prometheus endpoints.

use std::sync::Arc;

use alluxio_common::conf::values::format_bytes;
use alluxio_common::version::VERSION;
use axum::extract::State;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};

use crate::fs::FileSystemMaster;

#[derive(Clone)]
pub struct WebState {
    pub master: Arc<FileSystemMaster>,
    pub address: String,
    pub start_time_ms: i64,
}

pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(overview))
        .route("/api/v1/master/info", get(info))
        .route("/metrics/prometheus/", get(prometheus))
        .route("/metrics/json/", get(metrics_json))
        .with_state(state)
}

fn summary(s: &WebState) -> serde_json::Value {
    let b = s.master.blocks.info();
    let ns = s.master.namespace();
    serde_json::json!({
        "masterAddress": s.address,
        "version": VERSION,
        "clusterId": ns.cluster_id(),
        "startTimeMs": s.start_time_ms,
        "uptimeMs": alluxio_common::now_ms() - s.start_time_ms,
        "inodes": ns.inode_count(),
        "liveWorkers": b.live_worker_num,
        "lostWorkers": b.lost_worker_num,
        "capacityBytes": b.capacity_bytes,
        "usedBytes": b.used_bytes,
        "journalType": s.master.journal().kind(),
        "journalSequence": s.master.journal().next_sequence(),
        "lastCheckpointSequence": s.master.last_checkpoint(),
    })
}

async fn info(State(s): State<WebState>) -> impl IntoResponse {
    Json(summary(&s))
}

async fn metrics_json(State(s): State<WebState>) -> impl IntoResponse {
    Json(summary(&s))
}

async fn prometheus(State(s): State<WebState>) -> impl IntoResponse {
    let b = s.master.blocks.info();
    let inodes = s.master.namespace().inode_count();
    format!(
        "# TYPE Master_TotalPaths gauge\nMaster_TotalPaths {inodes}\n\
         # TYPE Cluster_CapacityTotal gauge\nCluster_CapacityTotal {}\n\
         # TYPE Cluster_CapacityUsed gauge\nCluster_CapacityUsed {}\n\
         # TYPE Cluster_Workers gauge\nCluster_Workers {}\n\
         # TYPE Master_JournalSequenceNumber gauge\nMaster_JournalSequenceNumber {}\n",
        b.capacity_bytes,
        b.used_bytes,
        b.live_worker_num,
        s.master.journal().next_sequence()
    )
}

async fn overview(State(s): State<WebState>) -> impl IntoResponse {
    let b = s.master.blocks.info();
    let ns_inodes = s.master.namespace().inode_count();
    let mut workers = String::new();
    for w in s.master.blocks.worker_infos(true) {
        let a = w.address.unwrap_or_default();
        workers.push_str(&format!(
            "<tr><td>{}:{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            html_escape(&a.host),
            a.rpc_port,
            w.state,
            w.last_contact_sec,
            format_bytes(w.capacity_bytes.max(0) as u64),
            format_bytes(w.used_bytes.max(0) as u64)
        ));
    }
    Html(format!(
        "<!doctype html><html><head><title>Alluxio Master</title></head><body>\
         <h1>Alluxio Master {addr}</h1><table id=\"overview\">\
         <tr><th>Version</th><td>{VERSION}</td></tr>\
         <tr><th>Files and directories</th><td>{ns_inodes}</td></tr>\
         <tr><th>Live workers</th><td>{live}</td></tr><tr><th>Lost workers</th><td>{lost}</td></tr>\
         <tr><th>Capacity</th><td>{cap}</td></tr><tr><th>Used</th><td>{used}</td></tr>\
         </table><h2>Workers</h2><table id=\"workers\"><tr><th>Address</th><th>State</th>\
         <th>Last heartbeat (s)</th><th>Capacity</th><th>Used</th></tr>{workers}</table></body></html>",
        addr = html_escape(&s.address),
        live = b.live_worker_num,
        lost = b.lost_worker_num,
        cap = format_bytes(b.capacity_bytes.max(0) as u64),
        used = format_bytes(b.used_bytes.max(0) as u64),
    ))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
