use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use alluxio_common::AlluxioPath;
use alluxio_proto::grpc::file::file_system_master_client_service_server::FileSystemMasterClientService;
use alluxio_proto::grpc::file::*;
use alluxio_proto::grpc::{TtlAction, WritePType};
use futures::Stream;
use tonic::{Request, Response, Status};

use super::{detached, path};
use crate::acl::Action;
use crate::audit::{AuditEntry, AuditLog, Pending};
use crate::fs::{Caller, CreateFileOptions, FileSystemMaster};
use crate::inode::ttl_to_journal;
use crate::namespace::plan::{Attributes, Completion, MountChange};

/// The attributes a `SetAttribute` request changes.
fn attributes_of(o: SetAttributePOptions) -> Attributes {
    Attributes {
        owner: o.owner,
        group: o.group,
        mode: o.mode,
        pinned: o.pinned,
        pinned_media: o.pinned_media,
        ttl: o.ttl,
        ttl_action: o.ttl_action.map(|a| ttl_to_journal(TtlAction::try_from(a).unwrap_or(TtlAction::Delete)) as i32),
        persisted: o.persisted,
        replication_min: o.replication_min,
        replication_max: o.replication_max,
        xattr: o.xattr,
        xattr_delete: o.xattr_delete,
        recursive: o.recursive,
    }
}

/// `FileSystemMasterClientService` over a [`FileSystemMaster`].
pub struct FsService {
    pub master: Arc<FileSystemMaster>,
    /// `alluxio.user.file.writetype.default` on the master, for requests that leave it unset.
    pub default_write_type: WritePType,
    /// Who each request comes from.
    pub auth: Arc<crate::authn::Authenticator>,
    /// `master_audit.log`, when `alluxio.master.audit.logging.enabled`.
    pub audit: Option<AuditLog>,
}

impl FsService {
    /// Starts the audit line of `cmd` by `c` on `src` (nothing when the audit log is off).
    fn audit_begin(
        &self,
        ip: Option<SocketAddr>,
        c: &Caller,
        cmd: &'static str,
        src: &AlluxioPath,
        dst: Option<&AlluxioPath>,
    ) -> Option<Pending> {
        self.audit.as_ref()?;
        Some(Pending::new(AuditEntry {
            succeeded: false,
            allowed: false,
            user: c.user.clone(),
            group: c.group.clone(),
            auth: self.auth.kind.name(),
            ip,
            cmd,
            src: src.clone(),
            dst: dst.cloned(),
            perm: None,
            micros: 0,
        }))
    }

    /// Finishes and queues the audit line with the call's outcome and the source's
    /// permissions after it.
    fn audit_end<R>(&self, pending: Option<Pending>, result: &Result<R, Status>) {
        if let (Some(p), Some(log)) = (pending, &self.audit) {
            let perm = self.master.perm_of(&p.entry.src);
            log.record(p.finish(result.as_ref().err().map(Status::code), perm));
        }
    }

    fn write_type(&self, w: i32) -> WritePType {
        match WritePType::try_from(w) {
            Ok(WritePType::WriteDefault) | Err(_) => self.default_write_type,
            Ok(w) => w,
        }
    }
}

/// The `setfacl` action a request asks for.
fn acl_action(r: &SetAclPRequest) -> Result<Action, crate::acl::AclError> {
    let remove = r.action() == SetAclAction::Remove;
    let entries = r.entries.iter().map(|e| crate::acl::Entry::parse(e, !remove)).collect::<Result<Vec<_>, _>>()?;
    Ok(match r.action() {
        SetAclAction::Replace => Action::Replace(entries),
        SetAclAction::Modify => Action::Modify(entries),
        SetAclAction::Remove => Action::Remove(entries),
        SetAclAction::RemoveAll => Action::RemoveAll,
        SetAclAction::RemoveDefault => Action::RemoveDefault,
    })
}

type ListStream = Pin<Box<dyn Stream<Item = Result<ListStatusPResponse, Status>> + Send>>;

#[tonic::async_trait]
impl FileSystemMasterClientService for FsService {
    async fn get_status(&self, req: Request<GetStatusPRequest>) -> Result<Response<GetStatusPResponse>, Status> {
        let c = self.auth.caller(&req).await?;
        let ip = req.remote_addr();
        let r = req.into_inner();
        let p = path(&r.path)?;
        let audit = self.audit_begin(ip, &c, "getFileInfo", &p, None);
        let result = async {
            let o = r.options.unwrap_or_default();
            if let Some(interval) = o.sync_interval_ms {
                self.master.sync_metadata(&p, interval).await?;
            }
            let fi = self.master.get_status(&p, o.include_blocks, &c).await?;
            Ok::<_, Status>(Response::new(GetStatusPResponse { file_info: Some(fi) }))
        }
        .await;
        self.audit_end(audit, &result);
        result
    }

    type ListStatusStream = ListStream;

    async fn list_status(&self, req: Request<ListStatusPRequest>) -> Result<Response<ListStream>, Status> {
        let c = self.auth.caller(&req).await?;
        let ip = req.remote_addr();
        let r = req.into_inner();
        let p = path(&r.path)?;
        let audit = self.audit_begin(ip, &c, "listStatus", &p, None);
        let result = async {
            let o = r.options.unwrap_or_default();
            if let Some(interval) = o.sync_interval_ms {
                self.master.sync_metadata(&p, interval).await?;
                if o.recursive {
                    // Every directory below, before listing them.
                    for d in self.master.list_status(&p, true, &c).await?.into_iter().filter(|f| f.folder) {
                        if let Ok(dp) = path(&d.path) {
                            self.master.sync_metadata(&dp, interval).await?;
                        }
                    }
                }
            }
            let recursive = o.recursive;
            let infos = self.master.list_status(&p, recursive, &c).await?;
            let batch = self.master.opts.list_batch.max(1);
            let mut chunks: Vec<Result<ListStatusPResponse, Status>> = Vec::with_capacity(infos.len() / batch + 1);
            let mut it = infos.into_iter().peekable();
            if it.peek().is_none() {
                chunks.push(Ok(ListStatusPResponse { file_infos: Vec::new() }));
            }
            while it.peek().is_some() {
                chunks.push(Ok(ListStatusPResponse { file_infos: it.by_ref().take(batch).collect() }));
            }
            Ok::<_, Status>(Response::new(Box::pin(futures::stream::iter(chunks)) as ListStream))
        }
        .await;
        self.audit_end(audit, &result);
        result
    }

    async fn create_directory(
        &self,
        req: Request<CreateDirectoryPRequest>,
    ) -> Result<Response<CreateDirectoryPResponse>, Status> {
        let c = self.auth.caller(&req).await?;
        let ip = req.remote_addr();
        let r = req.into_inner();
        let p = path(&r.path)?;
        let audit = self.audit_begin(ip, &c, "createDirectory", &p, None);
        let result = async {
            let o = r.options.unwrap_or_default();
            let wt = self.write_type(o.write_type);
            let m = self.master.clone();
            detached(async move { m.create_directory(&p, o.recursive, o.allow_exists, o.mode, wt, &c).await }).await?;
            Ok::<_, Status>(Response::new(CreateDirectoryPResponse {}))
        }
        .await;
        self.audit_end(audit, &result);
        result
    }

    async fn create_file(&self, req: Request<CreateFilePRequest>) -> Result<Response<CreateFilePResponse>, Status> {
        let c = self.auth.caller(&req).await?;
        let ip = req.remote_addr();
        let r = req.into_inner();
        let p = path(&r.path)?;
        let audit = self.audit_begin(ip, &c, "createFile", &p, None);
        let result = async {
            let o = r.options.unwrap_or_default();
            let opts = CreateFileOptions {
                block_size: o.block_size_bytes,
                recursive: o.recursive,
                mode: o.mode,
                write_type: Some(self.write_type(o.write_type)),
                ttl: o.ttl,
                ttl_action: TtlAction::try_from(o.ttl_action).unwrap_or(TtlAction::Delete),
                replication_min: o.replication_min,
                replication_max: o.replication_max,
            };
            let m = self.master.clone();
            let fi = detached(async move { m.create_file(&p, opts, &c).await }).await?;
            let renew = (self.master.opts.lease_timeout.as_millis() as i64 / 3).max(100);
            Ok::<_, Status>(Response::new(CreateFilePResponse { file_info: Some(fi), lease_renew_interval_ms: renew }))
        }
        .await;
        self.audit_end(audit, &result);
        result
    }

    async fn complete_file(
        &self,
        req: Request<CompleteFilePRequest>,
    ) -> Result<Response<CompleteFilePResponse>, Status> {
        let c = self.auth.caller(&req).await?;
        let ip = req.remote_addr();
        let r = req.into_inner();
        let p = path(&r.path)?;
        let audit = self.audit_begin(ip, &c, "completeFile", &p, None);
        let result = async {
            let o = r.options.unwrap_or_default();
            let req = Completion {
                path: p,
                file_id: r.file_id,
                length: o.length,
                state: FileSystemMaster::completed_state(self.write_type(o.write_type)),
                fingerprint: o.ufs_fingerprint,
                xattr: o.xattr,
                op_time_ms: alluxio_common::now_ms(),
            };
            let m = self.master.clone();
            let fi = detached(async move { m.complete_file(req, &c).await }).await?;
            Ok::<_, Status>(Response::new(CompleteFilePResponse { file_info: Some(fi) }))
        }
        .await;
        self.audit_end(audit, &result);
        result
    }

    async fn remove(&self, req: Request<DeletePRequest>) -> Result<Response<DeletePResponse>, Status> {
        let c = self.auth.caller(&req).await?;
        let ip = req.remote_addr();
        let r = req.into_inner();
        let p = path(&r.path)?;
        let audit = self.audit_begin(ip, &c, "delete", &p, None);
        let result = async {
            let o = r.options.unwrap_or_default();
            let m = self.master.clone();
            detached(async move { m.delete(&p, o.recursive, o.alluxio_only, &c).await }).await?;
            Ok::<_, Status>(Response::new(DeletePResponse {}))
        }
        .await;
        self.audit_end(audit, &result);
        result
    }

    async fn rename(&self, req: Request<RenamePRequest>) -> Result<Response<RenamePResponse>, Status> {
        let c = self.auth.caller(&req).await?;
        let ip = req.remote_addr();
        let r = req.into_inner();
        let (src, dst) = (path(&r.path)?, path(&r.dst_path)?);
        let audit = self.audit_begin(ip, &c, "rename", &src, Some(&dst));
        let result = async {
            let m = self.master.clone();
            detached(async move { m.rename(&src, &dst, &c).await }).await?;
            Ok::<_, Status>(Response::new(RenamePResponse {}))
        }
        .await;
        self.audit_end(audit, &result);
        result
    }

    async fn set_attribute(
        &self,
        req: Request<SetAttributePRequest>,
    ) -> Result<Response<SetAttributePResponse>, Status> {
        let c = self.auth.caller(&req).await?;
        let ip = req.remote_addr();
        let r = req.into_inner();
        let p = path(&r.path)?;
        let audit = self.audit_begin(ip, &c, "setAttribute", &p, None);
        let result = async {
            let m = self.master.clone();
            let a = attributes_of(r.options.unwrap_or_default());
            detached(async move { m.set_attribute(&p, &a, &c).await }).await?;
            Ok::<_, Status>(Response::new(SetAttributePResponse {}))
        }
        .await;
        self.audit_end(audit, &result);
        result
    }

    async fn set_acl(&self, req: Request<SetAclPRequest>) -> Result<Response<SetAclPResponse>, Status> {
        let c = self.auth.caller(&req).await?;
        let ip = req.remote_addr();
        let r = req.into_inner();
        let p = path(&r.path)?;
        let action = acl_action(&r).map_err(|e| Status::invalid_argument(format!("{e} (path {p})")))?;
        let audit = self.audit_begin(ip, &c, "setAcl", &p, None);
        let m = self.master.clone();
        let result = detached(async move { m.set_acl(&p, &action, r.recursive, &c).await })
            .await
            .map(|()| Response::new(SetAclPResponse {}));
        self.audit_end(audit, &result);
        result
    }

    async fn mount(&self, req: Request<MountPRequest>) -> Result<Response<MountPResponse>, Status> {
        let c = self.auth.caller(&req).await?;
        let ip = req.remote_addr();
        let r = req.into_inner();
        let p = path(&r.alluxio_path)?;
        let audit = self.audit_begin(ip, &c, "mount", &p, None);
        let result = async {
            let o = r.options.unwrap_or_default();
            let m = self.master.clone();
            let props = o.properties.into_iter().collect();
            detached(async move { m.mount(&p, &r.ufs_path, o.read_only, o.shared, props, &c).await }).await?;
            Ok::<_, Status>(Response::new(MountPResponse {}))
        }
        .await;
        self.audit_end(audit, &result);
        result
    }

    async fn unmount(&self, req: Request<UnmountPRequest>) -> Result<Response<UnmountPResponse>, Status> {
        let c = self.auth.caller(&req).await?;
        let ip = req.remote_addr();
        let p = path(&req.into_inner().alluxio_path)?;
        let audit = self.audit_begin(ip, &c, "unmount", &p, None);
        let m = self.master.clone();
        let result =
            detached(async move { m.unmount(&p, &c).await }).await.map(|()| Response::new(UnmountPResponse {}));
        self.audit_end(audit, &result);
        result
    }

    async fn update_mount(&self, req: Request<UpdateMountPRequest>) -> Result<Response<UpdateMountPResponse>, Status> {
        let c = self.auth.caller(&req).await?;
        let ip = req.remote_addr();
        let r = req.into_inner();
        let p = path(&r.alluxio_path)?;
        let audit = self.audit_begin(ip, &c, "updateMount", &p, None);
        let result = async {
            let o = r.options.unwrap_or_default();
            let m = self.master.clone();
            let change = MountChange {
                path: p,
                read_only: o.read_only,
                shared: o.shared,
                properties: o.properties.into_iter().collect(),
            };
            detached(async move { m.update_mount(&change, &c).await }).await?;
            Ok::<_, Status>(Response::new(UpdateMountPResponse {}))
        }
        .await;
        self.audit_end(audit, &result);
        result
    }

    async fn get_mount_table(
        &self,
        _req: Request<GetMountTablePRequest>,
    ) -> Result<Response<GetMountTablePResponse>, Status> {
        Ok(Response::new(GetMountTablePResponse { mount_points: self.master.mount_table().into_iter().collect() }))
    }

    async fn free(&self, req: Request<FreePRequest>) -> Result<Response<FreePResponse>, Status> {
        let c = self.auth.caller(&req).await?;
        let ip = req.remote_addr();
        let r = req.into_inner();
        let p = path(&r.path)?;
        let o = r.options.unwrap_or_default();
        let audit = self.audit_begin(ip, &c, "free", &p, None);
        let result = self.master.free(&p, o.recursive, o.forced, &c).await.map_err(Status::from);
        let result = result.map(|()| Response::new(FreePResponse {}));
        self.audit_end(audit, &result);
        result
    }

    async fn schedule_async_persistence(
        &self,
        req: Request<ScheduleAsyncPersistencePRequest>,
    ) -> Result<Response<ScheduleAsyncPersistencePResponse>, Status> {
        let c = self.auth.caller(&req).await?;
        let ip = req.remote_addr();
        let p = path(&req.into_inner().path)?;
        let audit = self.audit_begin(ip, &c, "scheduleAsyncPersistence", &p, None);
        let result = self.master.schedule_persist(&p, &c).await.map_err(Status::from);
        let result = result.map(|()| Response::new(ScheduleAsyncPersistencePResponse {}));
        self.audit_end(audit, &result);
        result
    }

    async fn keep_alive(&self, req: Request<KeepAlivePRequest>) -> Result<Response<KeepAlivePResponse>, Status> {
        self.master.keep_alive(&req.into_inner().file_ids);
        Ok(Response::new(KeepAlivePResponse {}))
    }

    /// Credentials included (workers open the UFS with them): the superuser only.
    async fn get_ufs_info(&self, req: Request<GetUfsInfoPRequest>) -> Result<Response<GetUfsInfoPResponse>, Status> {
        self.master.require_super(&self.auth.caller(&req).await?)?;
        let id = req.into_inner().mount_id;
        let m =
            self.master.mount_by_id(id).ok_or_else(|| Status::not_found(format!("Mount id {id} does not exist")))?;
        let ufs_mode = self.master.ufs_mode(&m).as_str_name().to_owned();
        Ok(Response::new(GetUfsInfoPResponse {
            ufs_info: Some(UfsInfo {
                uri: m.ufs_uri,
                properties: m.properties.into_iter().collect(),
                read_only: m.read_only,
                shared: m.shared,
                ufs_mode,
            }),
        }))
    }

    async fn update_ufs_mode(
        &self,
        req: Request<UpdateUfsModePRequest>,
    ) -> Result<Response<UpdateUfsModePResponse>, Status> {
        self.master.require_super(&self.auth.caller(&req).await?)?;
        let r = req.into_inner();
        let mode = alluxio_proto::journal::UfsMode::from_str_name(&r.ufs_mode).ok_or_else(|| {
            Status::invalid_argument(format!("Invalid UFS mode {}: NO_ACCESS, READ_ONLY or READ_WRITE", r.ufs_mode))
        })?;
        self.master.update_ufs_mode(&r.ufs_path, mode).await?;
        Ok(Response::new(UpdateUfsModePResponse {}))
    }
}
