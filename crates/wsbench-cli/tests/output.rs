//! What `connect` writes on stdout under load: nothing lost when stdout is slow, and
//! the `--raw` output.

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// A server that sends `msgs` then closes with 1000.
async fn sender(msgs: Vec<Message>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            let msgs = msgs.clone();
            tokio::spawn(async move {
                let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
                for m in msgs {
                    if ws.feed(m).await.is_err() {
                        return;
                    }
                }
                let _ = ws
                    .close(Some(CloseFrame {
                        code: CloseCode::Normal,
                        reason: "done".into(),
                    }))
                    .await;
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    });
    format!("ws://{addr}/")
}

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wsbench-cli"))
}

fn payload_of(len: usize, seed: usize) -> Vec<u8> {
    (0..len).map(|j| ((j * seed + j / 256) % 256) as u8).collect()
}

fn payload(i: usize) -> Vec<u8> {
    let mut p = vec![(i % 251) as u8; 1024];
    p[..8].copy_from_slice(&(i as u64).to_be_bytes());
    p
}

/// `wsbench-cli connect URL [--raw]` whose stdout nobody reads for `stall` (the pipe
/// fills and the printer blocks), then is read to the end: what it printed, its stderr
/// and how it exited.
async fn connect_with_stalled_stdout(url: String, raw: bool, stall: Duration) -> (Vec<u8>, String, ExitStatus) {
    tokio::task::spawn_blocking(move || {
        let mut args = vec!["connect", url.as_str()];
        if raw {
            args.push("--raw");
        }
        let mut child = cli()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(stall);
        let mut out = Vec::new();
        child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        (out, err, child.wait().unwrap())
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stdout_that_stops_reading_slows_the_socket_and_nothing_is_lost() {
    // 20 MB: far more than the CLI keeps unprinted (16k frames, 4 MiB), so the
    // connection has to wait for the printer instead of dropping frames.
    const N: usize = 20_000;
    let url = sender((0..N).map(|i| Message::binary(payload(i))).collect()).await;
    let (stdout, stderr, status) = connect_with_stalled_stdout(url, true, Duration::from_millis(1500)).await;
    assert!(status.success(), "{stderr}");
    assert!(!stderr.contains("evicted"), "{stderr}");
    assert_eq!(stdout.len(), N * 1024, "{stderr}");
    for (i, chunk) in stdout.chunks(1024).enumerate() {
        assert_eq!(chunk, payload(i), "message {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ndjson_lines_are_the_engines_frame_records_byte_for_byte() {
    let url = sender(vec![
        Message::text("héllo \"q\"\n"),
        Message::binary(vec![0u8, 1, 255]),
        Message::binary(Vec::new()),
        // Big ones: base64 through the encoder's scratch buffer, past the size it keeps.
        Message::binary(payload_of(2 << 20, 7)),
        Message::binary(payload_of(100_000, 11)),
    ])
    .await;
    let o = tokio::task::spawn_blocking(move || {
        cli()
            .args(["connect", &url, "--ndjson"])
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    // The handshake first, then the five messages, the server's close and ours.
    assert!(lines[0].starts_with(r#"{"handshake":{"#), "{text}");
    lines.remove(0);
    assert_eq!(lines.len(), 7, "{text}");
    let mut binary_in = Vec::new();
    for line in &lines {
        let record: wsbench_core::FrameRecord = serde_json::from_str(line).unwrap();
        let frame = wsbench_core::Frame::from_record(&record).unwrap();
        assert_eq!(&serde_json::to_string(&frame.to_record()).unwrap(), line);
        if frame.direction == wsbench_core::Direction::In && frame.opcode == wsbench_core::Opcode::Binary {
            binary_in.push(frame.payload.to_vec());
        }
    }
    let want = [
        vec![0u8, 1, 255],
        vec![],
        payload_of(2 << 20, 7),
        payload_of(100_000, 11),
    ];
    assert!(binary_in == want, "the binary payloads read back from the lines differ");
    assert!(lines[0].ends_with(r#""text":"héllo \"q\"\n"}"#), "{}", lines[0]);
    assert!(lines[1].ends_with(r#""len":3,"base64":"AAH/"}"#), "{}", lines[1]);
    assert!(lines[2].ends_with(r#""len":0}"#), "{}", lines[2]);
}

/// Big payloads (printed from the log's own bytes) between small ones, in both modes.
fn mixed(i: usize) -> [Message; 4] {
    let big_bin: Vec<u8> = (0..70_000 + i).map(|j| ((i + j) % 256) as u8).collect();
    let big_text: String = (0..20_000 + i).map(|j| (b'a' + ((i + j) % 26) as u8) as char).collect();
    [
        Message::text(format!("small {i}")),
        Message::binary(big_bin),
        Message::text(big_text),
        Message::binary(vec![i as u8, b'\n']),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_payloads_print_whole_and_in_order_between_small_ones_even_when_stdout_stalls() {
    use base64::Engine as _;
    const N: usize = 150; // about 14 MB: the printer has to wait for the pipe many times
    let url = sender((0..N).flat_map(mixed).collect()).await;
    for raw in [true, false] {
        let mut want = Vec::new();
        for m in (0..N).flat_map(mixed) {
            match m {
                Message::Text(t) => want.extend_from_slice(format!("{t}\n").as_bytes()),
                Message::Binary(b) if raw => want.extend_from_slice(&b),
                Message::Binary(b) => {
                    let line = format!("b64:{}\n", base64::engine::general_purpose::STANDARD.encode(&b));
                    want.extend_from_slice(line.as_bytes());
                }
                _ => {}
            }
        }
        let (stdout, stderr, status) = connect_with_stalled_stdout(url.clone(), raw, Duration::from_millis(700)).await;
        assert!(status.success(), "{stderr}");
        assert_eq!(stdout.len(), want.len(), "raw: {raw}, {stderr}");
        assert!(stdout == want, "raw: {raw}: the output differs from what was sent");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_writes_binary_as_it_is_and_text_as_lines() {
    let url = sender(vec![
        Message::text("hi"),
        Message::binary(vec![0u8, 1, 255, b'\n']),
        Message::text("é"),
    ])
    .await;
    let o = tokio::task::spawn_blocking(move || {
        cli()
            .args(["connect", &url, "--raw"])
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.stdout, b"hi\n\x00\x01\xff\n\xc3\xa9\n");

    let o = cli()
        .args(["connect", "ws://127.0.0.1:9/", "--raw", "--ndjson"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--ndjson"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
