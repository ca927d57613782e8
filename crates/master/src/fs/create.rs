//! Creating directories and files, and completing files.

use super::*;

impl FileSystemMaster {
    /// The mode asked for a new inode, before the umask (the plan applies it, unless a
    /// default ACL replaces it).
    fn asked_mode(requested: Option<i32>, dir: bool) -> i32 {
        requested.unwrap_or(if dir { 0o777 } else { 0o666 })
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
        let persisted = persists(write_type);
        let req = plan::NewDirectory {
            path: path.clone(),
            recursive,
            allow_exists,
            mode: Self::asked_mode(mode, true),
            umask: self.opts.umask,
            persisted,
            op_time_ms: now_ms(),
        };
        if path.is_root() {
            if allow_exists {
                return Ok(());
            }
            let kind = plan::Kind::Directory;
            return Err(plan::FsError::AlreadyExists { kind, path: path.clone(), being_written: false }.into());
        }
        self.load_metadata_opt(path, !persisted).await?;
        // Nothing to create (`mkdir -p` of an existing directory) needs no write permission.
        let access = self.access(caller);
        let plan = |ns: &Namespace| -> Result<Vec<Entry>> {
            let entries = plan::plan_create_directory(ns, &req, caller)?;
            if !entries.is_empty() {
                access.authorize(ns, plan::Op::Create(path))?;
            }
            Ok(entries)
        };
        let ufs_target = {
            let ns = self.ns.read();
            if plan(&ns)?.is_empty() {
                return Ok(());
            }
            let (m, ufs, rel) = self.resolve_ufs(&ns, path)?;
            if persisted {
                Self::check_writable(&ns, &m, path)?;
            }
            persisted.then_some((ufs, rel))
        };
        if let Some((ufs, rel)) = &ufs_target {
            ufs.mkdirs(rel).await?;
        }
        self.journaled(|ns| plan(ns)).await?;
        Ok(())
    }

    /// The persistence state a file written with `write_type` has once complete.
    pub fn completed_state(write_type: WritePType) -> PersistenceState {
        match write_type {
            WritePType::CacheThrough | WritePType::Through => PersistenceState::Persisted,
            WritePType::AsyncThrough => PersistenceState::ToBePersisted,
            _ => PersistenceState::NotPersisted,
        }
    }

    /// `createFile`: an incomplete file the client then writes and completes.
    pub async fn create_file(&self, path: &AlluxioPath, opts: CreateFileOptions, caller: &Caller) -> Result<FileInfo> {
        if path.is_root() {
            let kind = plan::Kind::File;
            return Err(plan::FsError::AlreadyExists { kind, path: path.clone(), being_written: false }.into());
        }
        let write_type = opts.write_type.unwrap_or(WritePType::AsyncThrough);
        if opts.block_size < 0 || (opts.block_size > 0 && opts.block_size < MIN_BLOCK_SIZE) {
            let (size, min) = (opts.block_size, MIN_BLOCK_SIZE);
            return Err(plan::FsError::InvalidBlockSize { size, min, path: path.clone() }.into());
        }
        let persisted = persists(write_type);
        let req = plan::NewFile {
            path: path.clone(),
            recursive: opts.recursive,
            mode: Self::asked_mode(opts.mode, false),
            dir_mode: Self::asked_mode(None, true),
            umask: self.opts.umask,
            persisted_dirs: persisted,
            block_size: if opts.block_size > 0 { opts.block_size } else { self.opts.default_block_size },
            cacheable: write_type != WritePType::Through,
            ttl: opts.ttl.unwrap_or(-1),
            ttl_action: ttl_to_journal(opts.ttl_action) as i32,
            replication_min: opts.replication_min,
            replication_max: opts.replication_max,
            op_time_ms: now_ms(),
        };
        self.load_metadata_opt(path, !persisted).await?;
        let parent_mkdir = {
            let ns = self.ns.read();
            self.access(caller).authorize(&ns, plan::Op::Create(path))?;
            let depth = plan::check_create(&ns, path, opts.recursive, plan::Kind::File)?;
            let (m, ufs, rel) = self.resolve_ufs(&ns, path)?;
            if persisted {
                Self::check_writable(&ns, &m, path)?;
            }
            // Missing ancestors of a persisted file are created in the UFS first.
            (persisted && depth + 1 < path.depth())
                .then(|| (ufs, rel.rsplit_once('/').map(|(p, _)| p.to_owned()).unwrap_or_default()))
        };
        if let Some((ufs, parent_rel)) = &parent_mkdir {
            ufs.mkdirs(parent_rel).await?;
        }
        let mut file_id = 0;
        self.journaled(|ns| {
            self.access(caller).authorize(ns, plan::Op::Create(path))?;
            let (id, entries) = plan::plan_create_file(ns, &req, caller)?;
            file_id = id;
            Ok(entries)
        })
        .await?;
        self.leases.lock().insert(file_id, std::time::Instant::now());
        let ns = self.ns.read();
        let n = ns.get(file_id).ok_or_else(|| MasterError::not_found(path))?;
        Ok(self.file_info(&ns, n, path, false))
    }

    /// `completeFile`: seals a file written by a client.
    pub async fn complete_file(&self, req: plan::Completion, caller: &Caller) -> Result<FileInfo> {
        let path = &req.path;
        if req.length < 0 {
            return Err(plan::FsError::InvalidLength { length: req.length, path: path.clone() }.into());
        }
        let (mut id, mut retried) = (0, false);
        self.journaled(|ns| {
            self.access(caller).authorize(ns, plan::Op::Write(path))?;
            let (n, entries) = plan::plan_complete_file(ns, &req)?;
            (id, retried) = (n, entries.is_empty());
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
