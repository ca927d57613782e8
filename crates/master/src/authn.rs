//! Who a request comes from: the authentication type, the user a request names, and whether
//! it may act for another user (impersonation), as Alluxio's SIMPLE and NOSASL modes and its
//! `alluxio.master.security.impersonation.<user>.users|groups` properties define them.
//!
//! The rules are pure ([`Impersonation::check`] takes the target's groups as an argument);
//! [`Authenticator::caller`] adds the lookups, off the async threads when not cached.

use std::collections::{HashMap, HashSet};

use alluxio_common::Conf;

use crate::fs::Caller;
use crate::MasterError;

/// `alluxio.security.authentication.type`, as far as alluxio-rs serves it (CUSTOM is refused
/// when the configuration loads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    /// The client names its user; permissions are checked against it.
    Simple,
    /// No identity: the named user (if any) only owns what it creates; nothing is checked.
    NoSasl,
}

impl AuthType {
    /// The name Alluxio's configuration and audit log use.
    pub fn name(self) -> &'static str {
        match self {
            AuthType::Simple => "SIMPLE",
            AuthType::NoSasl => "NOSASL",
        }
    }
}

/// The users one connecting user may act for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Allowed {
    /// `...<user>.users`: names, or `*` for anyone.
    users: Option<HashSet<String>>,
    /// `...<user>.groups`: groups whose members it may act for, or `*`.
    groups: Option<HashSet<String>>,
}

/// The impersonation rules of the masters' configuration.
#[derive(Debug, Clone, Default)]
pub struct Impersonation {
    by_user: HashMap<String, Allowed>,
}

/// An impersonation the rules do not allow; the messages are Alluxio's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImpersonationDenied {
    #[error(
        "Failed to authenticate client user=\"{connection}\" connecting to Alluxio server and impersonating as \
         impersonationUser=\"{target}\" to access Alluxio file system. User \"{connection}\" is not configured to \
         allow any impersonation. Set alluxio.master.security.impersonation.{connection}.users (or .groups) on \
         the masters"
    )]
    NotConfigured { connection: String, target: String },
    #[error(
        "Failed to authenticate client user=\"{connection}\" connecting to Alluxio master and impersonating as \
         impersonationUser=\"{target}\" to access Alluxio file system. user=\"{connection}\" is not configured to \
         impersonate as impersonationUser=\"{target}\"."
    )]
    NotAllowed { connection: String, target: String },
}

const USERS_PREFIX: &str = "alluxio.master.security.impersonation.";

impl Impersonation {
    /// Reads every `alluxio.master.security.impersonation.<user>.users|groups` property.
    pub fn from_conf(conf: &Conf) -> Self {
        let mut by_user: HashMap<String, Allowed> = HashMap::new();
        for (rest, value) in conf.with_prefix(USERS_PREFIX) {
            let list = || value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
            if let Some(user) = rest.strip_suffix(".users") {
                by_user.entry(user.to_owned()).or_default().users = Some(list());
            } else if let Some(user) = rest.strip_suffix(".groups") {
                by_user.entry(user.to_owned()).or_default().groups = Some(list());
            }
        }
        Impersonation { by_user }
    }

    /// Whether `connection` may act for `target`, a member of `target_groups`.
    pub fn check(&self, connection: &str, target: &str, target_groups: &[String]) -> Result<(), ImpersonationDenied> {
        if connection == target {
            return Ok(());
        }
        let Some(allowed) = self.by_user.get(connection) else {
            return Err(ImpersonationDenied::NotConfigured { connection: connection.into(), target: target.into() });
        };
        let users_ok = allowed.users.as_ref().is_some_and(|u| u.contains("*") || u.contains(target));
        let groups_ok =
            allowed.groups.as_ref().is_some_and(|g| g.contains("*") || target_groups.iter().any(|t| g.contains(t)));
        if users_ok || groups_ok {
            Ok(())
        } else {
            Err(ImpersonationDenied::NotAllowed { connection: connection.into(), target: target.into() })
        }
    }
}

/// Turns a request's headers into the [`Caller`] the master checks permissions for.
#[derive(Debug, Clone)]
pub struct Authenticator {
    pub kind: AuthType,
    impersonation: Impersonation,
    /// The master's own user: NOSASL requests that name nobody act as it.
    master_user: String,
    /// Superusers may act for anyone without a rule: acting for another user only narrows
    /// what they may do. (Alluxio requires a rule; a proxy started by the master's user
    /// needed none there either, since it asserted its end users directly.)
    supergroup: String,
}

impl Authenticator {
    pub fn from_conf(conf: &Conf, master_user: String) -> Result<Self, MasterError> {
        let kind = match conf.get_enum("alluxio.security.authentication.type")?.as_str() {
            "NOSASL" => AuthType::NoSasl,
            _ => AuthType::Simple,
        };
        Ok(Authenticator {
            kind,
            impersonation: Impersonation::from_conf(conf),
            master_user,
            supergroup: conf.get_str("alluxio.security.authorization.permission.supergroup")?,
        })
    }

    /// The caller of a request: its named user, or the user it acts for when it may.
    pub async fn caller<T>(&self, req: &tonic::Request<T>) -> Result<Caller, tonic::Status> {
        let named = alluxio_proto::version::request_user(req);
        let acting_for = alluxio_proto::version::request_impersonation(req);
        let connection = match (self.kind, named) {
            (_, Some(u)) => u,
            (AuthType::NoSasl, None) => self.master_user.clone(),
            (AuthType::Simple, None) => {
                return Err(tonic::Status::unauthenticated(
                    "the request names no user, and this master uses SIMPLE authentication \
                     (alluxio.security.authentication.type): connect with an alluxio-rs client",
                ))
            }
        };
        let Some(target) = acting_for.filter(|t| *t != connection && self.kind == AuthType::Simple) else {
            return Ok(caller_of(connection).await);
        };
        let connecting = caller_of(connection).await;
        let target = caller_of(target).await;
        let is_super = connecting.user == self.master_user || connecting.in_group(&self.supergroup);
        if !is_super {
            self.impersonation
                .check(&connecting.user, &target.user, &target.groups)
                .map_err(|e| tonic::Status::unauthenticated(e.to_string()))?;
        }
        Ok(target)
    }
}

/// `user` with its groups from the master's user database (read on a blocking thread when
/// the answer is not cached).
async fn caller_of(user: String) -> Caller {
    let groups = match alluxio_common::user::groups_if_cached(&user) {
        Some(g) => g,
        None => {
            let u = user.clone();
            tokio::task::spawn_blocking(move || alluxio_common::user::groups_of(&u)).await.unwrap_or_default()
        }
    };
    let group = groups.first().cloned().unwrap_or_else(|| user.clone());
    Caller { user, group, groups }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(lines: &[(&str, &str)]) -> Impersonation {
        let mut c = Conf::defaults();
        for (k, v) in lines {
            c.set(k, *v);
        }
        Impersonation::from_conf(&c)
    }

    #[test]
    fn users_groups_and_wildcards() {
        let r = rules(&[
            ("alluxio.master.security.impersonation.proxy.users", "alice, bob"),
            ("alluxio.master.security.impersonation.fuse.groups", "staff"),
            ("alluxio.master.security.impersonation.any.users", "*"),
            ("alluxio.master.security.impersonation.anygroup.groups", "*"),
        ]);
        let none: &[String] = &[];
        assert_eq!(r.check("proxy", "alice", none), Ok(()));
        assert_eq!(r.check("proxy", "bob", none), Ok(()));
        assert!(matches!(r.check("proxy", "carol", none), Err(ImpersonationDenied::NotAllowed { .. })));
        assert_eq!(r.check("fuse", "carol", &["staff".to_owned()]), Ok(()));
        assert!(r.check("fuse", "carol", &["other".to_owned()]).is_err());
        assert_eq!(r.check("any", "root", none), Ok(()));
        assert_eq!(r.check("anygroup", "root", none), Ok(()));
        assert_eq!(r.check("carol", "carol", none), Ok(()), "acting as oneself is no impersonation");
        let e = r.check("mallory", "alice", none).unwrap_err().to_string();
        assert!(e.contains("User \"mallory\" is not configured to allow any impersonation"), "{e}");
        assert!(e.contains("impersonationUser=\"alice\""), "{e}");
        let e = r.check("proxy", "carol", none).unwrap_err().to_string();
        assert!(e.contains("user=\"proxy\" is not configured to impersonate as impersonationUser=\"carol\""), "{e}");
    }
}
