//! JSON: one document, the [`SessionMeta`] fields then `"frames"`, an array of
//! frame records, one per line so the file stays readable and diffable:
//!
//! ```text
//! {"format":"wsbench-log","version":1,...,"handshake":null,"frames":[
//! {"seq":1,...},
//! {"seq":2,...}
//! ]}
//! ```
//!
//! Written as it goes: only the (small) metadata is serialized as a whole.

use super::{json_err, record_json, LogWriter, SessionMeta};
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::socketio::Decoded;

#[derive(Default)]
pub(super) struct JsonWriter {
    any: bool,
}

impl LogWriter for JsonWriter {
    fn begin(&mut self, out: &mut Vec<u8>, meta: &SessionMeta) -> Result<()> {
        let head = serde_json::to_vec(meta).map_err(json_err)?;
        // `{...}` -> `{...,"frames":[`
        let open = head
            .strip_suffix(b"}")
            .ok_or_else(|| Error::Io("the export metadata is not a JSON object".into()))?;
        out.extend_from_slice(open);
        out.extend_from_slice(b",\"frames\":[");
        Ok(())
    }

    fn frame(&mut self, out: &mut Vec<u8>, f: &Frame) -> Result<()> {
        out.extend_from_slice(if self.any { b",\n" } else { b"\n" });
        self.any = true;
        serde_json::to_writer(&mut *out, &f.to_record()).map_err(json_err)
    }

    fn frame_decoded(&mut self, out: &mut Vec<u8>, f: &Frame, decoded: Option<&Decoded>) -> Result<()> {
        out.extend_from_slice(if self.any { b",\n" } else { b"\n" });
        self.any = true;
        record_json(out, f, decoded)
    }

    fn end(&mut self, out: &mut Vec<u8>) -> Result<()> {
        out.extend_from_slice(if self.any { b"\n]}\n" } else { b"]}\n" });
        Ok(())
    }
}
