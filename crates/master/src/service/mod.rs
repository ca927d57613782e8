//! gRPC adapters: decode the request, call the master, encode the answer. No logic here.

pub mod block;
pub mod fs;
pub mod journal;
pub mod meta;

use alluxio_common::AlluxioPath;
use tonic::Status;

use crate::MasterError;

/// Lets only the superuser through: cluster administration (checkpoints, backups, which
/// write files as the master's user, and quorum changes).
#[derive(Clone)]
pub struct SuperuserGate {
    pub master: std::sync::Arc<crate::fs::FileSystemMaster>,
    pub auth: std::sync::Arc<crate::authn::Authenticator>,
}

impl SuperuserGate {
    pub async fn check<T>(&self, req: &tonic::Request<T>) -> Result<(), Status> {
        let caller = self.auth.caller(req).await?;
        Ok(self.master.require_super(&caller)?)
    }
}

/// Parses a request path; a bad one is INVALID_ARGUMENT naming it.
pub fn path(p: &str) -> Result<AlluxioPath, Status> {
    AlluxioPath::parse(p).map_err(|e| Status::from(MasterError::from(e)))
}

/// Runs a metadata change in its own task: if the client disconnects, tonic drops the
/// handler's future, but the change still runs to completion (no UFS effect without its
/// journal entry).
pub async fn detached<T: Send + 'static>(
    f: impl std::future::Future<Output = Result<T, MasterError>> + Send + 'static,
) -> Result<T, Status> {
    tokio::spawn(f).await.map_err(|e| Status::internal(format!("metadata task failed: {e}")))?.map_err(Status::from)
}
