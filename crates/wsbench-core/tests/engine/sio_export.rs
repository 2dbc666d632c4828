//! Socket.IO logs in every export format, and read back: the decoded packet of each
//! frame survives NDJSON, JSON and HAR (so a reopened log or history entry shows the
//! decoded rows), and CSV and text transcripts carry it in columns and brackets.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::json;
use wsbench_core::config::{LogLimits, SocketIoConfig};
use wsbench_core::export::{export_to_writer, read_log, ExportFormat, ExportOptions, LogSource};
use wsbench_core::socketio::{Decoded, OpenInfo};
use wsbench_core::{ConnectConfig, Direction, Frame, FrameLog, Opcode};

const T0: i64 = 1_795_316_685_000_000;

fn frame(i: u64, direction: Direction, opcode: Opcode, payload: &'static [u8]) -> Frame {
    Frame {
        seq: 0,
        at_us: T0 + i as i64 * 1000,
        offset_us: i * 1000,
        payload: Bytes::from_static(payload),
        rtt_us: 0,
        compressed_len: 0,
        direction,
        opcode,
    }
}

/// A short Socket.IO session: open, join, an event with an ack, its ack, a binary
/// event and its attachment, a heartbeat, and one raw frame with no view.
fn session() -> (LogSource, Vec<Option<Decoded>>) {
    use Direction::{In, Out};
    let open = Decoded {
        open: Some(OpenInfo {
            sid: "abc".into(),
            upgrades: vec![],
            ping_interval: 25_000,
            ping_timeout: 20_000,
            max_payload: Some(1_000_000),
        }),
        ..Decoded::engine("open")
    };
    let connect = Decoded {
        packet: Some("connect".into()),
        namespace: Some("/chat".into()),
        sid: Some("s1".into()),
        ..Decoded::engine("message")
    };
    let chat = Decoded {
        packet: Some("event".into()),
        namespace: Some("/chat".into()),
        event: Some("chat".into()),
        args: Some(vec![json!({"msg": "hi, \"you\""}), json!(2)]),
        ack_id: Some(7),
        ..Decoded::engine("message")
    };
    let ack = Decoded {
        packet: Some("ack".into()),
        namespace: Some("/chat".into()),
        args: Some(vec![json!("ok")]),
        ack_id: Some(7),
        ack_of: Some("chat".into()),
        rtt_us: Some(1500),
        ..Decoded::engine("message")
    };
    let bin = Decoded {
        packet: Some("binaryEvent".into()),
        namespace: Some("/".into()),
        event: Some("file".into()),
        args: Some(vec![json!({"_binary": "3q2+7w=="})]),
        attachments: 1,
        attachment: Some(0),
        ..Decoded::engine("binary")
    };
    let partial = Decoded {
        packet: Some("binaryEvent".into()),
        namespace: Some("/".into()),
        attachments: 1,
        partial: true,
        ..Decoded::engine("message")
    };
    let ping = Decoded {
        auto: false,
        ..Decoded::engine("ping")
    };
    let pong = Decoded {
        auto: true,
        ..Decoded::engine("pong")
    };
    let rows: Vec<(Frame, Option<Decoded>)> = vec![
        (frame(1, In, Opcode::Text, br#"0{"sid":"abc"}"#), Some(open)),
        (frame(2, In, Opcode::Text, br#"40/chat,{"sid":"s1"}"#), Some(connect)),
        (
            frame(3, Out, Opcode::Text, br#"42/chat,7["chat",{"msg":"hi, \"you\""},2]"#),
            Some(chat),
        ),
        (frame(4, In, Opcode::Text, br#"43/chat,7["ok"]"#), Some(ack)),
        (
            frame(5, In, Opcode::Text, br#"451-["file",{"_placeholder":true,"num":0}]"#),
            Some(partial),
        ),
        (frame(6, In, Opcode::Binary, b"\xde\xad\xbe\xef"), Some(bin)),
        (frame(7, In, Opcode::Text, b"2"), Some(ping)),
        (frame(8, Out, Opcode::Text, b"3"), Some(pong)),
        (frame(9, In, Opcode::Pong, b""), None),
    ];
    let log = FrameLog::new(LogLimits::default());
    let mut views = Vec::new();
    for (f, d) in rows {
        match d.clone() {
            Some(d) => log.push_decoded(f, d),
            None => log.push(f).seq,
        };
        views.push(d);
    }
    let mut config = ConnectConfig::new("ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket");
    config.socketio = Some(SocketIoConfig::default());
    let src = LogSource {
        name: "chat".into(),
        config,
        handshake: None,
        stats: None,
        log: Arc::new(log),
    };
    (src, views)
}

fn export(src: &LogSource, format: ExportFormat) -> Vec<u8> {
    let mut out = Vec::new();
    export_to_writer(src, &mut out, &ExportOptions::new(format), |_, _| true).unwrap();
    out
}

#[test]
fn decoded_fields_survive_ndjson_json_and_har_and_reopen_as_decoded_rows() {
    let (src, views) = session();
    for format in [ExportFormat::Ndjson, ExportFormat::Json, ExportFormat::Har] {
        let bytes = export(&src, format);
        let name = format!("chat.{}", format.extension());
        let rec = read_log(std::io::Cursor::new(&bytes), Path::new(&name))
            .unwrap()
            .remove(0);
        assert_eq!(rec.frames.len(), views.len(), "{format:?}");
        // Reopened (history and import both go through this), the log shows the decoded rows.
        assert!(
            rec.config().socketio.is_some(),
            "{format:?}: reopened in Socket.IO mode"
        );
        let log = rec.clone().into_frame_log(LogLimits::default());
        for (i, want) in views.iter().enumerate() {
            let seq = rec.frames[i].seq;
            let got = log.decoded(seq).map(|d| (*d).clone());
            assert_eq!(got.as_ref(), want.as_ref(), "{format:?}: frame {} decoded view", i + 1);
        }
        // And a conversion to another format keeps them.
        let again = export(&rec.into_log_source(), ExportFormat::Ndjson);
        let text = String::from_utf8(again).unwrap();
        assert!(
            text.contains(r#""event":"chat","args":[{"msg":"hi, \"you\""},2],"ackId":7"#),
            "{format:?}: {text}"
        );
    }
}

#[test]
fn csv_has_socketio_columns_and_the_text_transcript_brackets() {
    let (src, _) = session();
    let csv = String::from_utf8(export(&src, ExportFormat::Csv)).unwrap();
    let mut lines = csv.split("\r\n");
    assert_eq!(
        lines.next().unwrap(),
        "seq,time,atUs,offsetUs,direction,opcode,len,compressedLen,rttUs,closeCode,closeReason,encoding,payload,\
         sioEngine,sioPacket,sioNamespace,sioEvent,sioArgs,sioAckId,sioAttachments,sioError"
    );
    let chat = lines.nth(2).unwrap();
    assert!(
        chat.ends_with(r#",message,event,/chat,chat,"[{""msg"":""hi, \""you\""""},2]",7,,"#),
        "{chat}"
    );
    let attachment = csv.split("\r\n").nth(6).unwrap();
    assert!(
        attachment.ends_with(r#",binary,binaryEvent,/,file,"[{""_binary"":""3q2+7w==""}]",,1,"#),
        "{attachment}"
    );
    let raw_pong = csv.split("\r\n").nth(9).unwrap();
    assert!(
        raw_pong.ends_with(",,,,,,,,"),
        "a frame without a view has empty cells: {raw_pong}"
    );
    // A raw WebSocket connection's CSV keeps its old columns.
    let mut raw = src.clone();
    raw.config.socketio = None;
    let plain = String::from_utf8(export(&raw, ExportFormat::Csv)).unwrap();
    assert!(plain.starts_with(
        "seq,time,atUs,offsetUs,direction,opcode,len,compressedLen,rttUs,closeCode,closeReason,encoding,payload\r\n"
    ));

    let text = String::from_utf8(export(&src, ExportFormat::Text)).unwrap();
    for want in [
        // Backslashes are escaped like the payload's, so every frame stays one line.
        r#"[socket.io event /chat "chat" args [{"msg":"hi, \\"you\\""},2] ack 7]"#,
        r#"[socket.io binaryEvent / attachments 1 partial]"#,
        r#"[socket.io connect /chat sid s1]"#,
        r#"[socket.io ack /chat args ["ok"] ack 7]"#,
        r#"[engine.io open]"#,
        r#"[engine.io pong auto]"#,
    ] {
        assert!(text.contains(want), "{want} in\n{text}");
    }
}
