//! NDJSON: line 1 is the [`SessionMeta`] (it has `"format":"wsbench-log"`, a frame
//! record never does), then one [`crate::FrameRecord`] per line: lossless (control
//! frames, close code and reason, binary as base64, µs timestamps).

use super::{json_err, record_json, LogWriter, SessionMeta};
use crate::error::Result;
use crate::frame::Frame;
use crate::socketio::Decoded;

pub(super) struct NdjsonWriter;

impl LogWriter for NdjsonWriter {
    fn begin(&mut self, out: &mut Vec<u8>, meta: &SessionMeta) -> Result<()> {
        serde_json::to_writer(&mut *out, meta).map_err(json_err)?;
        out.push(b'\n');
        Ok(())
    }

    fn frame(&mut self, out: &mut Vec<u8>, f: &Frame) -> Result<()> {
        serde_json::to_writer(&mut *out, &f.to_record()).map_err(json_err)?;
        out.push(b'\n');
        Ok(())
    }

    fn frame_decoded(&mut self, out: &mut Vec<u8>, f: &Frame, decoded: Option<&Decoded>) -> Result<()> {
        record_json(out, f, decoded)?;
        out.push(b'\n');
        Ok(())
    }

    fn end(&mut self, _out: &mut Vec<u8>) -> Result<()> {
        Ok(())
    }
}
