//! Settings the master reads from the configuration at start, checked before anything runs.

use std::net::TcpListener;

use alluxio_common::conf::Conf;
use alluxio_common::{mode, net};
use alluxio_proto::transport::Transport;

use crate::fs::{FsOptions, LoadType};
use crate::MasterError;

/// The master's address and its bound RPC and web ports (bound first, so a port in use fails
/// the start naming the port).
pub(super) struct Listeners {
    pub host: String,
    pub rpc_port: i64,
    pub web_port: i64,
    /// `host:rpc_port`, the address clients and peers know this master by.
    pub address: String,
    pub rpc: TcpListener,
    pub web: TcpListener,
}

impl Listeners {
    pub fn bind(conf: &Conf) -> Result<Self, MasterError> {
        let host = conf.get_str("alluxio.master.hostname")?;
        let bind_host = conf.get_str("alluxio.master.bind.host")?;
        let rpc_port = conf.get_i64("alluxio.master.rpc.port")?;
        let web_port = conf.get_i64("alluxio.master.web.port")?;
        let rpc = net::bind(&bind_host, rpc_port, "alluxio.master.rpc.port")?;
        let web_bind = conf.get_str("alluxio.master.web.bind.host")?;
        let web = net::bind(&web_bind, web_port, "alluxio.master.web.port")?;
        let address = format!("{host}:{rpc_port}");
        Ok(Listeners { host, rpc_port, web_port, address, rpc, web })
    }
}

/// The file-system master's settings.
pub(super) fn fs_options(conf: &Conf, transport: &Transport) -> Result<FsOptions, MasterError> {
    let umask_s = conf.get_str("alluxio.security.authorization.permission.umask")?;
    let umask = mode::parse_octal(umask_s.trim()).ok_or_else(|| MasterError::BadValue {
        property: "alluxio.security.authorization.permission.umask",
        value: umask_s.clone(),
        expected: "expected an octal mode such as 022".into(),
    })?;
    Ok(FsOptions {
        default_block_size: conf.get_bytes("alluxio.user.block.size.bytes.default")? as i64,
        umask,
        super_user: alluxio_common::user::current_user(),
        supergroup: conf.get_str("alluxio.security.authorization.permission.supergroup")?,
        load_type: match conf.get_enum("alluxio.user.file.metadata.load.type")?.as_str() {
            "NEVER" => LoadType::Never,
            "ALWAYS" => LoadType::Always,
            _ => LoadType::Once,
        },
        list_batch: conf.get_i64("alluxio.master.filesystem.liststatus.result.message.length")?.max(1) as usize,
        checkpoint_period_entries: conf.get_i64("alluxio.master.journal.checkpoint.period.entries")?,
        // NOSASL carries no trustworthy identity: as in Alluxio, nothing can be checked.
        permission_check: conf.get_bool("alluxio.security.authorization.permission.enabled")?
            && conf.get_enum("alluxio.security.authentication.type")? != "NOSASL",
        lease_timeout: conf.get_duration("alluxio.master.file.writer.lease.timeout")?,
        transport: transport.clone(),
    })
}

/// `alluxio.master.daily.backup.time` when daily backups are enabled.
pub(super) fn daily_backup_time(conf: &Conf) -> Result<Option<String>, MasterError> {
    if conf.get_bool("alluxio.master.daily.backup.enabled")? {
        let time = conf.get_str("alluxio.master.daily.backup.time")?;
        if crate::backup::ms_until(&time, 0).is_none() {
            return Err(MasterError::BadValue {
                property: "alluxio.master.daily.backup.time",
                value: time,
                expected: "expected HH:mm (UTC), e.g. 05:00".into(),
            });
        }
        Ok(Some(time))
    } else {
        Ok(None)
    }
}
