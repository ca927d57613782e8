//! Creating directories and files, and completing files.

use super::*;

impl FileSystemMaster {
    pub(super) fn new_mode(&self, requested: Option<i32>, dir: bool) -> i32 {
        let base = requested.unwrap_or(if dir { 0o777 } else { 0o666 });
        mode::apply_umask(base, self.opts.umask)
    }

    /// Checks the parent of `path` for a create: exists (or `recursive`), is a directory,
    /// and `path` itself does not exist. Returns the depth of the deepest existing ancestor.
    pub(super) fn check_create(ns: &Namespace, path: &AlluxioPath, recursive: bool, what: &str) -> Result<usize> {
        match ns.lookup(path) {
            Lookup::Found(n) => Err(MasterError::AlreadyExists(if what == "directory" {
                format!("Not allowed to create directory because path already exists: {path}")
            } else if n.file().is_some_and(|f| !f.completed) {
                format!("Not allowed to create file because path already exists: {path} (it is being written)")
            } else {
                format!("Not allowed to create file because path already exists: {path}")
            })),
            Lookup::NotADirectory { file, .. } => Err(MasterError::InvalidArgument(format!(
                "Cannot create {what} {path}: ancestor {} is a file",
                ns.path_of(file.id).map(|p| p.to_string()).unwrap_or_default()
            ))),
            Lookup::Missing { depth, .. } => {
                if depth + 1 < path.depth() && !recursive {
                    let parent = path.parent().unwrap_or_else(AlluxioPath::root);
                    return Err(MasterError::NotFound { path: parent.to_string() });
                }
                Ok(depth)
            }
        }
    }

    /// Directory entries for the missing ancestors of `path` (from component `depth`) and,
    /// when `include_self`, for `path` itself. Returns the id of the last one created.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn dir_entries(
        &self,
        ns: &mut Namespace,
        path: &AlluxioPath,
        depth: usize,
        include_self: bool,
        mode: i32,
        persisted: bool,
        caller: &Caller,
        entries: &mut Vec<Entry>,
    ) -> Result<i64> {
        let comps: Vec<&str> = path.components().collect();
        let mut parent = match ns.lookup(&prefix_of(path, depth)) {
            Lookup::Found(n) => n.id,
            _ => return Err(MasterError::Internal(format!("ancestor of {path} vanished"))),
        };
        let end = if include_self { comps.len() } else { comps.len().saturating_sub(1) };
        let t = now_ms();
        for name in &comps[depth..end] {
            let id = ns.next_directory_id(entries);
            entries.push(Entry::InodeDirectory(InodeDirectoryEntry {
                id,
                parent_id: parent,
                name: (*name).into(),
                persistence_state: if persisted { PersistenceState::Persisted } else { PersistenceState::NotPersisted }
                    .as_str()
                    .into(),
                creation_time_ms: t,
                last_modification_time_ms: t,
                owner: caller.user.clone(),
                group: caller.group.clone(),
                mode,
                // New directories are empty in the UFS too: nothing to load.
                direct_children_loaded: true,
                ttl: -1,
                ..Default::default()
            }));
            parent = id;
        }
        Ok(parent)
    }

    /// `mkdir`.
    pub async fn create_directory(
        &self,
        path: &AlluxioPath,
        recursive: bool,
        allow_exists: bool,
        mode: Option<i32>,
        write_type: WritePType,
        caller: &Caller,
    ) -> Result<()> {
        if path.is_root() {
            if allow_exists {
                return Ok(());
            }
            return Err(MasterError::AlreadyExists(format!(
                "Not allowed to create directory because path already exists: {path}"
            )));
        }
        let persist = persists(write_type);
        self.load_metadata_opt(path, !persist).await?;
        let ufs_target = {
            let ns = self.ns.read();
            if allow_exists && ns.find(path).is_some_and(Inode::is_dir) {
                return Ok(());
            }
            Self::check_create(&ns, path, recursive, "directory")?;
            let (m, ufs, rel) = self.resolve_ufs(&ns, path)?;
            if persist {
                Self::check_writable(&ns, &m, path)?;
            }
            persist.then_some((ufs, rel))
        };
        if let Some((ufs, rel)) = &ufs_target {
            ufs.mkdirs(rel).await?;
        }
        let mode = self.new_mode(mode, true);
        let r = self
            .journaled(|ns| {
                if allow_exists && ns.find(path).is_some_and(Inode::is_dir) {
                    return Ok(Vec::new());
                }
                let depth = Self::check_create(ns, path, recursive, "directory")?;
                let mut entries = Vec::new();
                self.dir_entries(ns, path, depth, true, mode, persist, caller, &mut entries)?;
                Ok(entries)
            })
            .await;
        r.map(|_| ())
    }

    /// `createFile`: an incomplete file the client then writes and completes.
    pub async fn create_file(&self, path: &AlluxioPath, opts: CreateFileOptions, caller: &Caller) -> Result<FileInfo> {
        if path.is_root() {
            return Err(MasterError::AlreadyExists(format!(
                "Not allowed to create file because path already exists: {path}"
            )));
        }
        let write_type = opts.write_type.unwrap_or(WritePType::AsyncThrough);
        if opts.block_size < 0 || (opts.block_size > 0 && opts.block_size < MIN_BLOCK_SIZE) {
            return Err(MasterError::InvalidArgument(format!(
                "Invalid block size {} for {path}: a block is at least {MIN_BLOCK_SIZE} bytes (1MB; \
                 alluxio.user.block.size.bytes.default, or blockSizeBytes of the request)",
                opts.block_size
            )));
        }
        let persist = persists(write_type);
        self.load_metadata_opt(path, !persist).await?;
        let parent_mkdir = {
            let ns = self.ns.read();
            let depth = Self::check_create(&ns, path, opts.recursive, "file")?;
            let (m, ufs, rel) = self.resolve_ufs(&ns, path)?;
            if persist {
                Self::check_writable(&ns, &m, path)?;
            }
            // Missing ancestors of a persisted file are created in the UFS first.
            (persist && depth + 1 < path.depth())
                .then(|| (ufs, rel.rsplit_once('/').map(|(p, _)| p.to_owned()).unwrap_or_default()))
        };
        if let Some((ufs, parent_rel)) = &parent_mkdir {
            ufs.mkdirs(parent_rel).await?;
        }
        let file_mode = self.new_mode(opts.mode, false);
        let dir_mode = self.new_mode(None, true);
        let block_size = if opts.block_size > 0 { opts.block_size } else { self.opts.default_block_size };
        let mut file_id = 0;
        self.journaled(|ns| {
            let depth = Self::check_create(ns, path, opts.recursive, "file")?;
            let mut entries = Vec::new();
            let parent = self.dir_entries(ns, path, depth, false, dir_mode, persist, caller, &mut entries)?;
            file_id = ns.next_file_id(&mut entries);
            let t = now_ms();
            entries.push(Entry::InodeFile(InodeFileEntry {
                id: file_id,
                parent_id: parent,
                name: path.name().into(),
                persistence_state: PersistenceState::NotPersisted.as_str().into(),
                creation_time_ms: t,
                last_modification_time_ms: t,
                block_size_bytes: block_size,
                length: 0,
                completed: false,
                cacheable: write_type != WritePType::Through,
                ttl: opts.ttl.unwrap_or(-1),
                ttl_action: ttl_to_journal(opts.ttl_action) as i32,
                owner: caller.user.clone(),
                group: caller.group.clone(),
                mode: file_mode,
                replication_min: opts.replication_min,
                replication_max: opts.replication_max,
                ..Default::default()
            }));
            Ok(entries)
        })
        .await?;
        self.leases.lock().insert(file_id, std::time::Instant::now());
        let ns = self.ns.read();
        let n = ns.get(file_id).ok_or_else(|| MasterError::not_found(path))?;
        Ok(self.file_info(&ns, n, path, false))
    }

    /// `completeFile`: seals a file written by a client.
    pub async fn complete_file(
        &self,
        path: &AlluxioPath,
        file_id: i64,
        length: i64,
        fingerprint: String,
        write_type: WritePType,
        xattr: std::collections::HashMap<String, Vec<u8>>,
    ) -> Result<FileInfo> {
        if length < 0 {
            return Err(MasterError::InvalidArgument(format!("Invalid length {length} for {path}")));
        }
        let state = match write_type {
            WritePType::CacheThrough | WritePType::Through => PersistenceState::Persisted,
            WritePType::AsyncThrough => PersistenceState::ToBePersisted,
            _ => PersistenceState::NotPersisted,
        };
        let (mut id, mut retried) = (0, false);
        self.journaled(|ns| {
            let n = ns.find(path).ok_or_else(|| MasterError::not_found(path))?;
            let f =
                n.file().ok_or_else(|| MasterError::InvalidArgument(format!("{path} is a directory, not a file")))?;
            if file_id != 0 && n.id != file_id {
                return Err(MasterError::NotFound { path: format!("{path} (file id {file_id})") });
            }
            id = n.id;
            if f.completed {
                // The same writer retrying a completion whose answer it never got (a master
                // restart or failover after the commit): done, and nothing to change.
                if file_id == n.id && f.length == length {
                    retried = true;
                    return Ok(Vec::new());
                }
                return Err(MasterError::FailedPrecondition(format!("File {path} has already been completed.")));
            }
            let t = now_ms();
            let mut entries = vec![
                Entry::UpdateInodeFile(UpdateInodeFileEntry {
                    id: n.id,
                    length: Some(length),
                    completed: Some(true),
                    ..Default::default()
                }),
                Entry::UpdateInode(UpdateInodeEntry {
                    id: n.id,
                    persistence_state: Some(state.as_str().into()),
                    last_modification_time_ms: Some(t),
                    ufs_fingerprint: (!fingerprint.is_empty()).then(|| fingerprint.clone()),
                    xattr: xattr.clone(),
                    ..Default::default()
                }),
            ];
            if state == PersistenceState::Persisted {
                entries.extend(persisted_ancestors(ns, n.id));
            }
            Ok(entries)
        })
        .await?;
        if retried {
            // The first completion may still be on its way to disk: answer once it is there.
            self.durable(self.journal.append(Vec::new()), None).await?;
        }
        self.leases.lock().remove(&id);
        let ns = self.ns.read();
        let n = ns.get(id).ok_or_else(|| MasterError::not_found(path))?;
        Ok(self.file_info(&ns, n, path, false))
    }
}
