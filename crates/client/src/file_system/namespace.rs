//! Metadata calls to the file-system master: status, listings, creating, deleting, renaming,
//! attributes, mounts, persistence.

use std::collections::HashMap;
use std::time::Duration;

use alluxio_common::status::Code;
use alluxio_common::AlluxioPath;
use alluxio_proto::grpc::file::*;
use alluxio_proto::grpc::{FileInfo, ReadPType, TtlAction, WritePType};
use alluxio_proto::journal::UfsMode;

use super::FileSystem;
use crate::error::{ClientError, Result};
use crate::in_stream::FileInStream;
use crate::options::{CreateFileOptions, MountOptions, SetAttributeOptions};
use crate::out_stream::FileOutStream;

impl FileSystem {
    pub async fn get_status(&self, path: &AlluxioPath) -> Result<FileInfo> {
        self.get_status_opts(path, false).await
    }

    pub(crate) async fn get_status_opts(&self, path: &AlluxioPath, include_blocks: bool) -> Result<FileInfo> {
        let r = self
            .retry(|| {
                let mut c = self.fs_client();
                let req = GetStatusPRequest {
                    path: path.to_string(),
                    options: Some(GetStatusPOptions {
                        include_blocks,
                        sync_interval_ms: (self.inner.conf.sync_interval_ms >= 0)
                            .then_some(self.inner.conf.sync_interval_ms),
                        ..Default::default()
                    }),
                };
                async move { c.get_status(req).await }
            })
            .await?;
        r.into_inner().file_info.ok_or_else(|| ClientError::new(Code::Internal, "master sent no file info"))
    }

    pub async fn exists(&self, path: &AlluxioPath) -> Result<bool> {
        match self.get_status(path).await {
            Ok(_) => Ok(true),
            Err(e) if e.code == Code::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn list_status(&self, path: &AlluxioPath, recursive: bool) -> Result<Vec<FileInfo>> {
        let resp = self
            .retry(|| {
                let mut c = self.fs_client();
                let req = ListStatusPRequest {
                    path: path.to_string(),
                    options: Some(ListStatusPOptions {
                        recursive,
                        sync_interval_ms: (self.inner.conf.sync_interval_ms >= 0)
                            .then_some(self.inner.conf.sync_interval_ms),
                        ..Default::default()
                    }),
                };
                async move { c.list_status(req).await }
            })
            .await?;
        let mut stream = resp.into_inner();
        let mut out = Vec::new();
        while let Some(batch) = stream.message().await? {
            out.extend(batch.file_infos);
        }
        Ok(out)
    }

    pub async fn create_directory(
        &self,
        path: &AlluxioPath,
        recursive: bool,
        allow_exists: bool,
        write_type: Option<WritePType>,
    ) -> Result<()> {
        let wt = write_type.unwrap_or(self.inner.conf.write_type);
        self.retry(|| {
            let mut c = self.fs_client();
            let req = CreateDirectoryPRequest {
                path: path.to_string(),
                options: Some(CreateDirectoryPOptions {
                    recursive,
                    allow_exists,
                    write_type: wt as i32,
                    ..Default::default()
                }),
            };
            async move { c.create_directory(req).await }
        })
        .await?;
        Ok(())
    }

    /// Creates a file and opens it for writing; the file is complete when the stream closes.
    pub async fn create_file(&self, path: &AlluxioPath, o: CreateFileOptions) -> Result<FileOutStream> {
        let wt = o.write_type.unwrap_or(self.inner.conf.write_type);
        let block_size = o.block_size.unwrap_or(self.inner.conf.block_size);
        let resp = self
            .retry(|| {
                let mut c = self.fs_client();
                let req = CreateFilePRequest {
                    path: path.to_string(),
                    options: Some(CreateFilePOptions {
                        block_size_bytes: block_size,
                        recursive: o.recursive,
                        mode: o.mode,
                        write_type: wt as i32,
                        ttl: o.ttl,
                        ttl_action: o.ttl_action.unwrap_or(TtlAction::Delete) as i32,
                        replication_min: self.inner.conf.replication_min,
                        replication_max: self.inner.conf.replication_max,
                        ..Default::default()
                    }),
                };
                async move { c.create_file(req).await }
            })
            .await?;
        let resp = resp.into_inner();
        let renew = Duration::from_millis(resp.lease_renew_interval_ms.max(100) as u64);
        let info = resp.file_info.ok_or_else(|| ClientError::new(Code::Internal, "master sent no file info"))?;
        FileOutStream::new(self.clone(), path.clone(), info, wt, renew).await
    }

    /// Opens a file for reading.
    pub async fn open_file(&self, path: &AlluxioPath, read_type: Option<ReadPType>) -> Result<FileInStream> {
        let info = self.get_status_opts(path, true).await?;
        if info.folder {
            return Err(ClientError::new(Code::InvalidArgument, format!("Path \"{path}\" is a directory, not a file")));
        }
        if !info.completed {
            return Err(ClientError::new(
                Code::FailedPrecondition,
                format!("File {path} is incomplete: it is still being written"),
            ));
        }
        Ok(FileInStream::new(self.clone(), info, read_type.unwrap_or(self.inner.conf.read_type)))
    }

    pub async fn delete(&self, path: &AlluxioPath, recursive: bool, alluxio_only: bool) -> Result<()> {
        let req = DeletePRequest {
            path: path.to_string(),
            options: Some(DeletePOptions { recursive, alluxio_only, unchecked: false }),
        };
        self.fs_call(|mut c| {
            let req = req.clone();
            async move { c.remove(req).await }
        })
        .await?;
        Ok(())
    }

    pub async fn rename(&self, src: &AlluxioPath, dst: &AlluxioPath) -> Result<()> {
        let req = RenamePRequest { path: src.to_string(), dst_path: dst.to_string() };
        self.fs_call(|mut c| {
            let req = req.clone();
            async move { c.rename(req).await }
        })
        .await?;
        Ok(())
    }

    pub async fn set_attribute(&self, path: &AlluxioPath, options: SetAttributeOptions) -> Result<()> {
        let req = SetAttributePRequest { path: path.to_string(), options: Some(options.into()) };
        self.fs_call(|mut c| {
            let req = req.clone();
            async move { c.set_attribute(req).await }
        })
        .await?;
        Ok(())
    }

    /// `setfacl`: `entries` are `[default:]user|group|mask|other:[name]:rwx`.
    pub async fn set_acl(
        &self,
        path: &AlluxioPath,
        action: crate::options::AclAction,
        entries: &[String],
        recursive: bool,
    ) -> Result<()> {
        let req = alluxio_proto::grpc::file::SetAclPRequest {
            path: path.to_string(),
            action: alluxio_proto::grpc::file::SetAclAction::from(action) as i32,
            entries: entries.to_vec(),
            recursive,
        };
        self.fs_call(|mut c| {
            let req = req.clone();
            async move { c.set_acl(req).await }
        })
        .await?;
        Ok(())
    }

    pub async fn mount(&self, path: &AlluxioPath, ufs: &str, options: MountOptions) -> Result<()> {
        let req = MountPRequest { alluxio_path: path.to_string(), ufs_path: ufs.into(), options: Some(options.into()) };
        self.fs_call(|mut c| {
            let req = req.clone();
            async move { c.mount(req).await }
        })
        .await?;
        Ok(())
    }

    pub async fn unmount(&self, path: &AlluxioPath) -> Result<()> {
        let req = UnmountPRequest { alluxio_path: path.to_string() };
        self.fs_call(|mut c| {
            let req = req.clone();
            async move { c.unmount(req).await }
        })
        .await?;
        Ok(())
    }

    pub async fn update_mount(&self, path: &AlluxioPath, options: MountOptions) -> Result<()> {
        let req = UpdateMountPRequest { alluxio_path: path.to_string(), options: Some(options.into()) };
        self.fs_call(|mut c| {
            let req = req.clone();
            async move { c.update_mount(req).await }
        })
        .await?;
        Ok(())
    }

    /// `fsadmin ufs --mode`: whether Alluxio may read and write the under storage at `ufs_path`.
    pub async fn update_ufs_mode(&self, ufs_path: &str, mode: UfsMode) -> Result<()> {
        let req = UpdateUfsModePRequest { ufs_path: ufs_path.into(), ufs_mode: mode.as_str_name().into() };
        self.fs_call(|mut c| {
            let req = req.clone();
            async move { c.update_ufs_mode(req).await }
        })
        .await?;
        Ok(())
    }

    pub async fn mount_table(&self) -> Result<HashMap<String, MountPointInfo>> {
        Ok(self.fs_call(|mut c| async move { c.get_mount_table(GetMountTablePRequest {}).await }).await?.mount_points)
    }

    pub async fn free(&self, path: &AlluxioPath, recursive: bool, forced: bool) -> Result<()> {
        let req = FreePRequest { path: path.to_string(), options: Some(FreePOptions { recursive, forced }) };
        self.fs_call(|mut c| {
            let req = req.clone();
            async move { c.free(req).await }
        })
        .await?;
        Ok(())
    }

    /// Renews the lease on files being written.
    pub(crate) async fn keep_alive(&self, file_ids: Vec<i64>) -> Result<()> {
        let req = KeepAlivePRequest { file_ids };
        self.fs_call(|mut c| {
            let req = req.clone();
            async move { c.keep_alive(req).await }
        })
        .await?;
        Ok(())
    }

    pub async fn persist(&self, path: &AlluxioPath) -> Result<()> {
        let req = ScheduleAsyncPersistencePRequest { path: path.to_string() };
        self.fs_call(|mut c| {
            let req = req.clone();
            async move { c.schedule_async_persistence(req).await }
        })
        .await?;
        Ok(())
    }

    pub(crate) async fn complete_file(
        &self,
        path: &AlluxioPath,
        file_id: i64,
        length: i64,
        fingerprint: String,
        wt: WritePType,
        xattr: HashMap<String, Vec<u8>>,
    ) -> Result<FileInfo> {
        let req = CompleteFilePRequest {
            path: path.to_string(),
            file_id,
            options: Some(CompleteFilePOptions { length, ufs_fingerprint: fingerprint, write_type: wt as i32, xattr }),
        };
        let r = self
            .fs_call(|mut c| {
                let req = req.clone();
                async move { c.complete_file(req).await }
            })
            .await?;
        r.file_info.ok_or_else(|| ClientError::new(Code::Internal, "master sent no file info"))
    }

    // ------------------------------------------------------------------ cluster
}
