//! Version handshake: every RPC carries the caller's protocol version in a header, and a
//! server refuses an incompatible peer with FAILED_PRECONDITION naming both versions.

use alluxio_common::version::{announced_protocol_version, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, VERSION};

/// gRPC metadata key carrying the sender's protocol version.
pub const PROTOCOL_HEADER: &str = "x-alluxio-protocol-version";
/// gRPC metadata key carrying the sender's software version.
pub const SOFTWARE_HEADER: &str = "x-alluxio-software-version";
/// gRPC metadata key carrying the caller's user name (SIMPLE authentication): the user the
/// connection authenticates as.
pub const USER_HEADER: &str = "x-alluxio-user";
/// gRPC metadata key carrying the user the caller acts for (impersonation), when it is not
/// the caller itself: a gateway (the proxy, FUSE) acting for its end users.
pub const IMPERSONATION_HEADER: &str = "x-alluxio-impersonation-user";

type Value = tonic::metadata::MetadataValue<tonic::metadata::Ascii>;

/// Client side: stamps versions (and the user, when given) on every outgoing request.
#[derive(Clone)]
pub struct VersionStamp {
    user: Option<Value>,
    acting_for: Option<Value>,
    protocol: u32,
}

impl VersionStamp {
    /// A stamp that also asserts `user` as the caller's identity.
    pub fn new(user: Option<&str>) -> Self {
        VersionStamp {
            user: user.and_then(|u| u.parse().ok()),
            acting_for: None,
            protocol: announced_protocol_version(),
        }
    }

    /// The same stamp acting for `user` (impersonation), which the master allows only as
    /// `alluxio.master.security.impersonation.<caller>.users|groups` say.
    pub fn acting_for(mut self, user: Option<&str>) -> Self {
        self.acting_for = user.and_then(|u| u.parse().ok());
        self
    }
}

impl tonic::service::Interceptor for VersionStamp {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let md = req.metadata_mut();
        md.insert(PROTOCOL_HEADER, tonic::metadata::MetadataValue::from(self.protocol));
        md.insert(SOFTWARE_HEADER, tonic::metadata::MetadataValue::from_static(VERSION));
        if let Some(u) = &self.user {
            md.insert(USER_HEADER, u.clone());
        }
        if let Some(u) = &self.acting_for {
            md.insert(IMPERSONATION_HEADER, u.clone());
        }
        Ok(req)
    }
}

/// Server side: refuses a request whose protocol version this build cannot serve.
/// A request without the header (a foreign gRPC client) is refused as well.
pub fn check_version(req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
    let md = req.metadata();
    let peer: Option<u32> = md.get(PROTOCOL_HEADER).and_then(|v| v.to_str().ok()).and_then(|s| s.parse().ok());
    match peer {
        Some(v) if (MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&v) => Ok(req),
        Some(v) => {
            let sw = md.get(SOFTWARE_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("unknown");
            Err(tonic::Status::failed_precondition(format!(
                "incompatible peer: it speaks alluxio-rs protocol version {v} (software {sw}), \
                 this server (software {VERSION}) speaks protocol versions {MIN_PROTOCOL_VERSION} to \
                 {PROTOCOL_VERSION}; run matching client and server versions"
            )))
        }
        None => Err(tonic::Status::failed_precondition(format!(
            "the request carries no {PROTOCOL_HEADER} header: this server (alluxio-rs {VERSION}, protocol \
             {PROTOCOL_VERSION}) only serves alluxio-rs clients"
        ))),
    }
}

/// The user a request asserts (SIMPLE authentication), if any.
pub fn request_user<T>(req: &tonic::Request<T>) -> Option<String> {
    req.metadata().get(USER_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The user a request acts for (impersonation), if it names one.
pub fn request_impersonation<T>(req: &tonic::Request<T>) -> Option<String> {
    req.metadata().get(IMPERSONATION_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned)
}
