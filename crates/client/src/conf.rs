//! Client settings read from the configuration once.

use std::time::Duration;

use alluxio_common::Conf;
use alluxio_proto::grpc::{ReadPType, WritePType};
use alluxio_proto::transport::Transport;

use crate::error::Result;

/// Client settings read from the configuration once.
#[derive(Debug, Clone)]
pub struct ClientConf {
    pub master_address: String,
    pub user: String,
    /// The user this client acts for (`alluxio.security.login.impersonation.username`), when
    /// it names one: the master allows it only as its impersonation properties say.
    pub impersonation: Option<String>,
    pub block_size: i64,
    pub write_type: WritePType,
    pub read_type: ReadPType,
    pub chunk_size: usize,
    pub short_circuit: bool,
    pub local_hosts: Vec<String>,
    pub retry_duration: Duration,
    pub write_tier: i32,
    /// Copy blocks read from a remote worker to the local one (`alluxio.user.file.passive.cache.enabled`).
    pub passive_cache: bool,
    /// `alluxio.user.block.write.location.policy.class`, simple name.
    pub write_policy: String,
    pub replication_min: i32,
    pub replication_max: i32,
    /// `alluxio.user.file.metadata.sync.interval` in ms; negative: never sync.
    pub sync_interval_ms: i64,
    /// Plaintext or TLS (`alluxio.network.tls.*`), for masters, workers and data ports alike.
    pub transport: Transport,
}

impl ClientConf {
    pub fn from_conf(conf: &Conf) -> Result<Self> {
        // `alluxio.master.rpc.addresses` lists every master; the client uses the one that answers.
        let master_address = match conf.get_list("alluxio.master.rpc.addresses")? {
            l if !l.is_empty() => l.join(","),
            _ => format!("{}:{}", conf.get_str("alluxio.master.hostname")?, conf.get_i64("alluxio.master.rpc.port")?),
        };
        let user = conf.get("alluxio.security.login.username")?.unwrap_or_else(alluxio_common::user::current_user);
        // `_HDFS_USER_` means the Hadoop client's user, which only Alluxio's Hadoop client has.
        let impersonation = conf
            .get("alluxio.security.login.impersonation.username")?
            .filter(|u| !u.is_empty() && u != "_NONE_" && u != "_HDFS_USER_");
        let write_type = crate::parse_write_type(&conf.get_enum("alluxio.user.file.writetype.default")?)
            .unwrap_or(WritePType::AsyncThrough);
        let read_type =
            crate::parse_read_type(&conf.get_enum("alluxio.user.file.readtype.default")?).unwrap_or(ReadPType::Cache);
        let mut local_hosts =
            vec!["localhost".to_owned(), "127.0.0.1".to_owned(), alluxio_common::user::local_hostname()];
        if let Some(h) = conf.get("alluxio.user.hostname")? {
            local_hosts.push(h);
        }
        Ok(ClientConf {
            master_address,
            user,
            impersonation,
            block_size: conf.get_bytes("alluxio.user.block.size.bytes.default")? as i64,
            write_type,
            read_type,
            chunk_size: conf.get_bytes("alluxio.user.network.writer.chunk.size.bytes")?.max(4096) as usize,
            short_circuit: conf.get_bool("alluxio.user.short.circuit.enabled")?,
            local_hosts,
            retry_duration: conf.get_duration("alluxio.user.rpc.retry.max.duration")?,
            write_tier: conf.get_i64("alluxio.user.file.write.tier.default")? as i32,
            passive_cache: conf.get_bool("alluxio.user.file.passive.cache.enabled")?,
            replication_min: conf.get_i64("alluxio.user.file.replication.min")? as i32,
            sync_interval_ms: conf.get_duration_ms("alluxio.user.file.metadata.sync.interval")?,
            replication_max: conf.get_i64("alluxio.user.file.replication.max")? as i32,
            write_policy: {
                let c = conf.get_str("alluxio.user.block.write.location.policy.class")?;
                c.rsplit('.').next().unwrap_or(&c).to_owned()
            },
            transport: Transport::client(conf)
                .map_err(|e| crate::ClientError::new(alluxio_common::Code::InvalidArgument, e.to_string()))?,
        })
    }
}
