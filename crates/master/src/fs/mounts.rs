//! Mounting, unmounting and updating mount points.

use super::*;

impl FileSystemMaster {
    /// `mount`.
    pub async fn mount(
        &self,
        path: &AlluxioPath,
        ufs_uri: &str,
        read_only: bool,
        shared: bool,
        props: BTreeMap<String, String>,
        caller: &Caller,
    ) -> Result<()> {
        // Before the UFS is opened: the master would read it with its own rights.
        self.access(caller).authorize(&self.ns.read(), plan::Op::Mount(path))?;
        if path.is_root() {
            return Err(plan::FsError::MountOnRoot.into());
        }
        let ufs = UnderFileSystem::open(ufs_uri, &props)?;
        self.load_metadata(path).await?;
        let mut req = plan::NewMount {
            path: path.clone(),
            ufs_uri: ufs.uri().to_owned(),
            read_only,
            shared,
            properties: props,
            mount_id: 0,
            owner: String::new(),
            group: String::new(),
            mode: 0,
            mounted: self.mounted_uris(),
            op_time_ms: now_ms(),
        };
        plan::plan_mount(&self.ns.read(), &req)?;
        let root = match ufs.stat("").await {
            Ok(Some(st)) if st.is_dir => st,
            Ok(Some(_)) => return Err(MasterError::UfsNotADirectory { uri: ufs_uri.to_owned() }),
            Ok(None) => return Err(UfsError::NotFound { path: ufs_uri.to_owned() }.into()),
            Err(source) => return Err(MasterError::UfsInaccessible { uri: ufs_uri.to_owned(), source }),
        };
        req.owner = root.owner.clone().unwrap_or_else(|| self.opts.super_user.clone());
        req.group = root.group.clone().unwrap_or_else(|| alluxio_common::user::primary_group_of(&req.owner));
        req.mode = root.mode.unwrap_or(0o755);
        let mut mount_id = 0;
        self.journaled(|ns| {
            mount_id = loop {
                let id = rand::random::<i64>().abs();
                if id > ROOT_MOUNT_ID && ns.mounts().by_id(id).is_none() {
                    break id;
                }
            };
            req.mount_id = mount_id;
            Ok(plan::plan_mount(ns, &req)?)
        })
        .await?;
        self.ufs_cache.write().insert(mount_id, ufs);
        Ok(())
    }

    /// The normalised UFS URI of every mount (opening a UFS normalises its URI).
    fn mounted_uris(&self) -> Vec<(AlluxioPath, String)> {
        let mounts: Vec<MountInfo> = self.ns.read().mounts().iter().cloned().collect();
        mounts
            .into_iter()
            .map(|m| {
                let uri = self.ufs_of(&m).map(|u| u.uri().to_owned()).unwrap_or_else(|_| m.ufs_uri.clone());
                (m.alluxio_path, uri)
            })
            .collect()
    }

    /// `unmount`: drops the metadata and cached blocks below the mount; the UFS is untouched.
    pub async fn unmount(&self, path: &AlluxioPath, caller: &Caller) -> Result<()> {
        let mut mount_id = 0;
        let op_time_ms = now_ms();
        let removed = self
            .journaled(|ns| {
                self.access(caller).authorize(ns, plan::Op::Mount(path))?;
                let (id, entries) = plan::plan_unmount(ns, path, op_time_ms)?;
                mount_id = id;
                Ok(entries)
            })
            .await?;
        self.ufs_cache.write().remove(&mount_id);
        self.drop_blocks_of(&removed);
        Ok(())
    }

    /// `updateMount`: replaces a mount's options (nothing is inherited).
    pub async fn update_mount(&self, req: &plan::MountChange, caller: &Caller) -> Result<()> {
        let mut mount_id = 0;
        self.journaled(|ns| {
            self.access(caller).authorize(ns, plan::Op::Mount(&req.path))?;
            let (id, entries) = plan::plan_update_mount(ns, req)?;
            mount_id = id;
            Ok(entries)
        })
        .await?;
        self.ufs_cache.write().remove(&mount_id);
        Ok(())
    }

    /// The mount table for display: secrets redacted.
    pub fn mount_table(&self) -> BTreeMap<String, MountPointInfo> {
        let ns = self.ns.read();
        ns.mounts()
            .iter()
            .map(|m| {
                let kind = alluxio_ufs::scheme_of(&m.ufs_uri);
                (
                    m.alluxio_path.to_string(),
                    MountPointInfo {
                        ufs_uri: m.ufs_uri.clone(),
                        ufs_type: if kind == "file" { "local".into() } else { kind.into() },
                        read_only: m.read_only,
                        properties: redacted(&m.properties).into_iter().collect(),
                        shared: m.shared,
                        mount_id: m.mount_id,
                        ..Default::default()
                    },
                )
            })
            .collect()
    }
}
