//! The JSON options of REST calls, read into the client's option types. Keys are those of
//! Alluxio's Java options messages; unknown keys are ignored, as the Java proxy ignores them.

use alluxio_client::{CreateFileOptions, MountOptions, SetAttributeOptions};
use alluxio_common::status::Code;
use alluxio_proto::grpc::{ReadPType, TtlAction, WritePType};
use axum::body::Body;
use serde_json::Value;

use super::RestError;

/// A request's options object.
pub(super) type Opts = serde_json::Map<String, Value>;

/// The JSON options of a request: empty, `null` and `{}` all mean defaults.
pub(super) async fn parse(body: Body) -> Result<Opts, RestError> {
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .map_err(|e| RestError::new(Code::InvalidArgument, format!("cannot read the request body: {e}")))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Default::default());
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(Value::Null) => Ok(Default::default()),
        Ok(_) => Err(RestError::new(Code::InvalidArgument, "the options must be a JSON object")),
        Err(e) => Err(RestError::new(Code::InvalidArgument, format!("the options are not valid JSON: {e}"))),
    }
}

/// An option at the top level (as the Python client sends it) or under `commonOptions` (as the
/// Java options messages nest it).
fn common<'a>(o: &'a Opts, k: &str) -> Option<&'a Value> {
    o.get(k).or_else(|| o.get("commonOptions").and_then(|c| c.get(k)))
}

pub(super) fn flag(o: &Opts, k: &str) -> bool {
    o.get(k).and_then(Value::as_bool).unwrap_or(false)
}

pub(super) fn write_type(o: &Opts) -> Result<Option<WritePType>, RestError> {
    match o.get("writeType").and_then(Value::as_str) {
        None => Ok(None),
        Some(s) => alluxio_client::parse_write_type(s).map(Some).ok_or_else(|| {
            RestError::new(
                Code::InvalidArgument,
                format!("Invalid writeType {s}: MUST_CACHE, CACHE_THROUGH, THROUGH or ASYNC_THROUGH"),
            )
        }),
    }
}

fn ttl_action(o: &Opts) -> Result<TtlAction, RestError> {
    let a = common(o, "ttlAction").and_then(Value::as_str);
    match a.map(str::to_ascii_uppercase).as_deref() {
        None | Some("DELETE") => Ok(TtlAction::Delete),
        Some("FREE") => Ok(TtlAction::Free),
        Some(other) => Err(RestError::new(Code::InvalidArgument, format!("Invalid ttlAction {other}: DELETE or FREE"))),
    }
}

/// `mode` as `{ownerBits, groupBits, otherBits}` (Alluxio's Bits names) or an integer.
fn mode(o: &Opts) -> Result<Option<i32>, RestError> {
    let Some(m) = o.get("mode") else { return Ok(None) };
    if let Some(n) = m.as_i64() {
        return Ok(Some(n as i32));
    }
    let bits = |k: &str| -> Result<i32, RestError> {
        let v = m.get(k).and_then(Value::as_str).unwrap_or("NONE");
        Ok(match v {
            "NONE" => 0,
            "EXECUTE" => 1,
            "WRITE" => 2,
            "WRITE_EXECUTE" => 3,
            "READ" => 4,
            "READ_EXECUTE" => 5,
            "READ_WRITE" => 6,
            "ALL" => 7,
            other => return Err(RestError::new(Code::InvalidArgument, format!("Invalid mode bits {other} in {k}"))),
        })
    };
    Ok(Some(bits("ownerBits")? << 6 | bits("groupBits")? << 3 | bits("otherBits")?))
}

/// `create-file`: a TTL below zero means none, as in Alluxio.
pub(super) fn create_file(o: &Opts) -> Result<CreateFileOptions, RestError> {
    let mut out = CreateFileOptions {
        write_type: write_type(o)?,
        recursive: flag(o, "recursive"),
        block_size: o.get("blockSizeBytes").and_then(Value::as_i64),
        mode: mode(o)?,
        ..Default::default()
    };
    if let Some(ttl) = common(o, "ttl").and_then(Value::as_i64).filter(|t| *t >= 0) {
        out.ttl = Some(ttl);
        out.ttl_action = Some(ttl_action(o)?);
    }
    Ok(out)
}

/// `open-file`'s `readType`, when given.
pub(super) fn read_type(o: &Opts) -> Result<Option<ReadPType>, RestError> {
    let Some(s) = o.get("readType").and_then(Value::as_str) else { return Ok(None) };
    alluxio_client::parse_read_type(s).map(Some).ok_or_else(|| {
        RestError::new(Code::InvalidArgument, format!("Invalid readType {s}: NO_CACHE, CACHE or CACHE_PROMOTE"))
    })
}

pub(super) fn mount(o: &Opts) -> MountOptions {
    let properties = o
        .get("properties")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
        .unwrap_or_default();
    MountOptions { read_only: flag(o, "readOnly"), properties, shared: flag(o, "shared") }
}

/// `set-attribute`: only the keys present change anything.
pub(super) fn set_attribute(o: &Opts) -> Result<SetAttributeOptions, RestError> {
    let mut out = SetAttributeOptions {
        pinned: o.get("pinned").and_then(Value::as_bool),
        owner: o.get("owner").and_then(Value::as_str).map(str::to_owned),
        group: o.get("group").and_then(Value::as_str).map(str::to_owned),
        mode: mode(o)?,
        recursive: flag(o, "recursive"),
        replication_max: o.get("replicationMax").and_then(Value::as_i64).map(|v| v as i32),
        replication_min: o.get("replicationMin").and_then(Value::as_i64).map(|v| v as i32),
        persisted: o.get("persisted").and_then(Value::as_bool),
        ..Default::default()
    };
    if let Some(ttl) = common(o, "ttl").and_then(Value::as_i64) {
        out.ttl = Some(ttl);
        out.ttl_action = Some(ttl_action(o)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts(v: Value) -> Opts {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn create_file_ignores_a_negative_ttl_and_reads_nested_ones() {
        let o = create_file(&opts(json!({"ttl": -1, "recursive": true}))).unwrap();
        assert_eq!((o.ttl, o.ttl_action, o.recursive), (None, None, true));
        let o = create_file(&opts(json!({"commonOptions": {"ttl": 5000, "ttlAction": "free"}}))).unwrap();
        assert_eq!((o.ttl, o.ttl_action), (Some(5000), Some(TtlAction::Free)));
    }

    #[test]
    fn modes_parse_from_bits_or_integers() {
        let o: Opts =
            serde_json::from_str(r#"{"mode":{"ownerBits":"ALL","groupBits":"READ","otherBits":"NONE"}}"#).unwrap();
        assert_eq!(mode(&o).unwrap(), Some(0o740));
        let o: Opts = serde_json::from_str(r#"{"mode":420}"#).unwrap();
        assert_eq!(mode(&o).unwrap(), Some(0o644));
        let o: Opts = serde_json::from_str(r#"{"mode":{"ownerBits":"RWX"}}"#).unwrap();
        assert!(mode(&o).is_err());
    }

    #[test]
    fn bad_enums_name_the_value_and_the_choices() {
        let e = read_type(&opts(json!({"readType": "SOMETIMES"}))).unwrap_err();
        assert_eq!(e.code, Code::InvalidArgument);
        assert!(e.message.contains("SOMETIMES") && e.message.contains("CACHE_PROMOTE"), "{}", e.message);
        assert_eq!(read_type(&opts(json!({}))).unwrap(), None);
    }
}
