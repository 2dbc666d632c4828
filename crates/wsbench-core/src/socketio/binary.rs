//! Binary attachments: a binary event or ack travels as a text packet whose data
//! holds placeholders (`{"_placeholder":true,"num":N}`), then N binary messages.
//!
//! In wsbench's JSON view a binary value is `{"_binary":"<base64>"}`: that is how
//! received attachments appear once reassembled, and how a user puts one in an
//! argument list to send it.

use base64::Engine as _;
use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::CodecError;

/// The key of wsbench's JSON form of a binary value.
pub const BINARY_KEY: &str = "_binary";

/// `{"_binary":"<base64>"}`
pub fn binary_value(b: &[u8]) -> Value {
    json!({ BINARY_KEY: base64::engine::general_purpose::STANDARD.encode(b) })
}

fn placeholder_num(o: &Map<String, Value>) -> Option<u64> {
    if o.get("_placeholder") == Some(&Value::Bool(true)) {
        o.get("num").and_then(Value::as_u64)
    } else {
        None
    }
}

/// Turn every `{"_binary":"<base64>"}` in `data` into a placeholder, appending the
/// bytes to `attachments` (which may already hold attachments that placeholders in
/// `data` refer to). A placeholder naming an attachment that does not exist is an error.
pub fn deconstruct(data: &mut Value, attachments: &mut Vec<Bytes>) -> Result<(), String> {
    let given = attachments.len();
    walk_out(data, attachments, given)
}

fn walk_out(v: &mut Value, out: &mut Vec<Bytes>, given: usize) -> Result<(), String> {
    match v {
        Value::Array(a) => a.iter_mut().try_for_each(|x| walk_out(x, out, given)),
        Value::Object(o) => {
            if let Some(n) = placeholder_num(o) {
                return if (n as usize) < given {
                    Ok(())
                } else {
                    Err(format!("placeholder {n} names no attachment (there are {given})"))
                };
            }
            if o.len() == 1 {
                if let Some(Value::String(b64)) = o.get(BINARY_KEY) {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(b64)
                        .map_err(|e| format!("{BINARY_KEY} value is not base64: {e}"))?;
                    let num = out.len();
                    out.push(Bytes::from(bytes));
                    *v = json!({"_placeholder": true, "num": num});
                    return Ok(());
                }
            }
            o.values_mut().try_for_each(|x| walk_out(x, out, given))
        }
        _ => Ok(()),
    }
}

/// Replace every placeholder in `data` with its attachment as `{"_binary": ...}`.
pub fn reconstruct(data: &mut Value, attachments: &[Bytes]) -> Result<(), CodecError> {
    match data {
        Value::Array(a) => a.iter_mut().try_for_each(|x| reconstruct(x, attachments)),
        Value::Object(o) => {
            if let Some(n) = placeholder_num(o) {
                let b = attachments.get(n as usize).ok_or_else(|| {
                    CodecError::new(
                        0,
                        format!("placeholder {n} names no attachment (there are {})", attachments.len()),
                    )
                })?;
                *data = binary_value(b);
                return Ok(());
            }
            o.values_mut().try_for_each(|x| reconstruct(x, attachments))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_values_become_placeholders_and_back() {
        let mut data = json!(["upload", {"name": "a", "file": {"_binary": "AAEC"}}, {"_binary": "/w=="}]);
        let mut att = Vec::new();
        deconstruct(&mut data, &mut att).unwrap();
        assert_eq!(
            data,
            json!(["upload", {"name": "a", "file": {"_placeholder": true, "num": 0}}, {"_placeholder": true, "num": 1}])
        );
        assert_eq!(att, vec![Bytes::from_static(&[0, 1, 2]), Bytes::from_static(&[255])]);
        reconstruct(&mut data, &att).unwrap();
        assert_eq!(
            data,
            json!(["upload", {"name": "a", "file": {"_binary": "AAEC"}}, {"_binary": "/w=="}])
        );
    }

    #[test]
    fn given_attachments_and_bad_references() {
        let mut att = vec![Bytes::from_static(b"x")];
        let mut data = json!(["a", {"_placeholder": true, "num": 0}, {"_binary": "eQ=="}]);
        deconstruct(&mut data, &mut att).unwrap();
        assert_eq!(att.len(), 2);
        let mut bad = json!(["a", {"_placeholder": true, "num": 3}]);
        assert!(deconstruct(&mut bad, &mut vec![])
            .unwrap_err()
            .contains("placeholder 3"));
        assert!(deconstruct(&mut json!([{"_binary": "%%"}]), &mut vec![])
            .unwrap_err()
            .contains("base64"));
        let e = reconstruct(&mut json!([{"_placeholder": true, "num": 1}]), &att[..1]).unwrap_err();
        assert!(e.to_string().contains("placeholder 1 names no attachment"), "{e}");
    }
}
