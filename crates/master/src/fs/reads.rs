//! Reads of the namespace: status and listings, as wire `FileInfo`s.

use super::*;

impl FileSystemMaster {
    /// Status of a path, with block locations when `with_blocks`.
    /// Block locations are what a reader needs, so asking for them needs read permission.
    /// Owner, group and mode of `path`, if it exists (for the audit log; no checks).
    pub fn perm_of(&self, path: &AlluxioPath) -> Option<crate::audit::Perm> {
        let ns = self.ns.read();
        let i = ns.find(path)?;
        Some(crate::audit::Perm { owner: i.owner.clone(), group: i.group.clone(), mode: i.mode })
    }

    pub async fn get_status(&self, path: &AlluxioPath, with_blocks: bool, caller: &Caller) -> Result<FileInfo> {
        if let Some(fi) = self.status_now(path, with_blocks, caller)? {
            return Ok(fi);
        }
        self.load_metadata(path).await?;
        self.status_now(path, with_blocks, caller)?.ok_or_else(|| MasterError::not_found(path))
    }

    fn status_now(&self, path: &AlluxioPath, with_blocks: bool, caller: &Caller) -> Result<Option<FileInfo>> {
        let ns = self.ns.read();
        let op = if with_blocks { plan::Op::Read(path) } else { plan::Op::GetStatus(path) };
        self.access(caller).authorize(&ns, op)?;
        match ns.lookup(path) {
            Lookup::Found(n) => Ok(Some(self.file_info(&ns, n, path, with_blocks))),
            Lookup::NotADirectory { .. } => Err(MasterError::not_found(path)),
            Lookup::Missing { .. } => Ok(None),
        }
    }

    /// Lists a directory (or a file as itself); `recursive` walks the whole subtree, skipping
    /// the directories the caller may not list (as Alluxio does).
    pub async fn list_status(&self, path: &AlluxioPath, recursive: bool, caller: &Caller) -> Result<Vec<FileInfo>> {
        let access = self.access(caller);
        self.load_metadata(path).await?;
        let mut out = Vec::new();
        let mut queue = std::collections::VecDeque::from([path.clone()]);
        let mut first = true;
        while let Some(dir) = queue.pop_front() {
            self.load_children(&dir).await?;
            let ns = self.ns.read();
            let n = match ns.lookup(&dir) {
                Lookup::Found(n) => n,
                _ if first => return Err(MasterError::not_found(path)),
                _ => continue, // removed while walking
            };
            if first {
                access.authorize(&ns, plan::Op::List(path))?;
                if !n.is_dir() {
                    out.push(self.file_info(&ns, n, &dir, false));
                    return Ok(out);
                }
            } else if access.authorize(&ns, plan::Op::List(&dir)).is_err() {
                continue;
            }
            first = false;
            for c in ns.children(n) {
                let cp = dir.join(&c.name);
                if recursive && c.is_dir() {
                    queue.push_back(cp.clone());
                }
                out.push(self.file_info(&ns, c, &cp, false));
            }
        }
        Ok(out)
    }
}
