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
    ) -> Result<()> {
        if path.is_root() {
            return Err(MasterError::InvalidArgument(
                "Cannot mount on the root: it is mounted from alluxio.master.mount.table.root.ufs".into(),
            ));
        }
        let ufs = UnderFileSystem::open(ufs_uri, &props)?;
        self.load_metadata(path).await?;
        let check = |ns: &Namespace| -> Result<i64> {
            if ns.find(path).is_some() {
                return Err(MasterError::AlreadyExists(format!("Mount point {path} already exists")));
            }
            let parent = path.parent().unwrap_or_else(AlluxioPath::root);
            let p = ns.find(&parent).ok_or_else(|| MasterError::NotFound { path: parent.to_string() })?;
            if !p.is_dir() {
                return Err(MasterError::InvalidArgument(format!("Cannot mount at {path}: {parent} is a file")));
            }
            for m in ns.mounts().iter() {
                let other = self.ufs_of(m).map(|u| u.uri().to_owned()).unwrap_or_else(|_| m.ufs_uri.clone());
                if uri_prefix(&other, ufs.uri()) || uri_prefix(ufs.uri(), &other) {
                    let (a, b) = if uri_prefix(&other, ufs.uri()) {
                        (other.clone(), ufs.uri().to_owned())
                    } else {
                        (ufs.uri().to_owned(), other.clone())
                    };
                    return Err(MasterError::InvalidArgument(format!(
                        "Mount point {a} is a prefix of {b}: UFS paths of two mounts may not contain each other (already mounted at {})",
                        m.alluxio_path
                    )));
                }
            }
            if let Some((pm, _)) = ns.mounts().resolve(path) {
                Self::check_writable(ns, pm, path).ok();
            }
            Ok(p.id)
        };
        check(&self.ns.read())?;
        let root = match ufs.stat("").await {
            Ok(Some(st)) if st.is_dir => st,
            Ok(Some(_)) => return Err(MasterError::InvalidArgument(format!("Ufs path {ufs_uri} is not a directory"))),
            Ok(None) => return Err(UfsError::NotFound { path: ufs_uri.to_owned() }.into()),
            Err(e) => return Err(MasterError::Unavailable(format!("Ufs path {ufs_uri} is not accessible: {e}"))),
        };
        let uri = ufs.uri().to_owned();
        let mut mount_id = 0;
        self.journaled(|ns| {
            let parent = check(ns)?;
            mount_id = loop {
                let id = rand::random::<i64>().abs();
                if id > ROOT_MOUNT_ID && ns.mounts().by_id(id).is_none() {
                    break id;
                }
            };
            let mut entries = vec![Entry::AddMountPoint(AddMountPointEntry {
                alluxio_path: path.to_string(),
                ufs_path: uri.clone(),
                read_only,
                properties: props.iter().map(|(k, v)| StringPairEntry { key: k.clone(), value: v.clone() }).collect(),
                shared,
                mount_id,
            })];
            let id = IdAllocator::new(ns).directory_id(&mut entries);
            let t = now_ms();
            let owner = root.owner.clone().unwrap_or_else(|| self.opts.super_user.clone());
            entries.push(Entry::InodeDirectory(InodeDirectoryEntry {
                id,
                parent_id: parent,
                name: path.name().into(),
                persistence_state: PersistenceState::Persisted.as_str().into(),
                creation_time_ms: t,
                last_modification_time_ms: t,
                group: root.group.clone().unwrap_or_else(|| alluxio_common::user::primary_group_of(&owner)),
                owner,
                mode: root.mode.unwrap_or(0o755),
                mount_point: true,
                direct_children_loaded: false,
                ttl: -1,
                ..Default::default()
            }));
            Ok(entries)
        })
        .await?;
        self.ufs_cache.write().insert(mount_id, ufs);
        Ok(())
    }

    /// `unmount`: drops the metadata and cached blocks below the mount; the UFS is untouched.
    pub async fn unmount(&self, path: &AlluxioPath) -> Result<()> {
        let mut mount_id = 0;
        let op_time_ms = now_ms();
        let removed = self
            .journaled(|ns| {
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
    pub async fn update_mount(&self, req: &plan::MountChange) -> Result<()> {
        let mut mount_id = 0;
        self.journaled(|ns| {
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
