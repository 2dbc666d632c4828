#!/usr/bin/env python3
"""permessage-deflate against a real peer: Python `websockets` (PyPI) with compression on.

Installs `websockets` into a private venv (~/.cache/wsbench/websockets-venv) when it is
missing, starts an echo server on 127.0.0.1 (port 0) with `compression="deflate"`, and
runs `wsbench-cli connect URL --ndjson` against it three times:

1. defaults: the handshake line shows the negotiated parameters (what websockets
   answers: server_max_window_bits=12; client_max_window_bits=12) and every data
   frame in both directions carries `compressedLen` (the text is compressible, so
   fewer wire bytes than message bytes);
2. --client-no-context-takeover --server-no-context-takeover: both in the answer;
3. --no-deflate: nothing offered, nothing negotiated, no `compressedLen`.

Fails loudly (exit 2) when the peer cannot be installed or started; exit 1 on any
assertion. Standard library only (the peer runs in the venv's interpreter).

    python3 tests/deflate/websockets_peer.py --client target/debug/wsbench-cli
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REQUIREMENT = os.environ.get("WSBENCH_WEBSOCKETS_REQUIREMENT", "websockets==15.0.1")
VENV = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "wsbench" / "websockets-venv"

SERVER = r"""
import asyncio, sys
from websockets.asyncio.server import serve

async def echo(ws):
    async for m in ws:
        await ws.send(m)

async def main():
    async with serve(echo, "127.0.0.1", 0, compression="deflate") as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        await asyncio.Future()

asyncio.run(main())
"""

TEXT = "the same words compress well; " * 20


def fail_setup(msg: str) -> None:
    print(f"websockets peer: SETUP FAILED: {msg}", file=sys.stderr)
    sys.exit(2)


def ensure_peer() -> Path:
    python = VENV / "bin" / "python"
    probe = [str(python), "-c", "import websockets"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, capture_output=True, timeout=300)
        r = subprocess.run(
            [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", REQUIREMENT],
            capture_output=True, text=True, timeout=600,
        )
    except (subprocess.SubprocessError, OSError) as e:
        fail_setup(f"cannot create the venv {VENV}: {e}")
    if r.returncode != 0 or subprocess.run(probe, capture_output=True).returncode != 0:
        fail_setup(f"pip could not install {REQUIREMENT}:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return python


def run_client(client: str, url: str, extra: list[str]) -> list[dict]:
    cmd = [client, "connect", url, "--ndjson", "--send", TEXT, "--send", TEXT, "--count", "2", "--timeout", "20", *extra]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr}")
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def check(cond: bool, what: str, detail: object) -> None:
    if not cond:
        raise AssertionError(f"{what}: {detail}")


def data_frames(lines: list[dict]) -> list[dict]:
    return [l for l in lines if l.get("opcode") in ("text", "binary")]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--client", required=True)
    args = ap.parse_args()
    if not os.access(args.client, os.X_OK):
        fail_setup(f"client {args.client} not found (cargo build -p wsbench-cli)")
    python = ensure_peer()
    server = subprocess.Popen([str(python), "-c", SERVER], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port_line = server.stdout.readline().strip() if server.stdout else ""
        if not port_line.isdigit():
            fail_setup(f"the websockets server did not start: {server.stderr.read() if server.stderr else ''}")
        url = f"ws://127.0.0.1:{port_line}/"
        t0 = time.monotonic()

        lines = run_client(args.client, url, [])
        hs = lines[0].get("handshake")
        check(hs is not None, "first line is the handshake", lines[0])
        check("permessage-deflate" in (hs.get("extensions") or ""), "answer names permessage-deflate", hs)
        deflate = hs.get("deflate")
        check(deflate == {"clientMaxWindowBits": 12, "serverMaxWindowBits": 12,
                          "clientNoContextTakeover": False, "serverNoContextTakeover": False},
              "negotiated parameters as websockets answers them", deflate)
        frames = data_frames(lines)
        check(len(frames) == 4, "two messages out, two echoes in", frames)
        for f in frames:
            check(f.get("text") == TEXT, "the log holds the message inflated", f)
            check(0 < f.get("compressedLen", 0) < f["len"], "compressed on the wire, fewer bytes", f)
        print(f"websockets peer: defaults negotiated {deflate}, wire sizes "
              f"{[f['compressedLen'] for f in frames]} for {len(TEXT)}-byte messages")

        lines = run_client(args.client, url, ["--client-no-context-takeover", "--server-no-context-takeover"])
        deflate = lines[0]["handshake"].get("deflate") or {}
        check(deflate.get("clientNoContextTakeover") and deflate.get("serverNoContextTakeover"),
              "no context takeover both ways", deflate)
        sizes = [f["compressedLen"] for f in data_frames(lines)]
        # Each side's encoder (zlib-rs here, zlib there) makes its own size.
        for way in ("out", "in"):
            same = {f["compressedLen"] for f in data_frames(lines) if f["direction"] == way}
            check(len(same) == 1, f"without context each copy compresses the same ({way})", sizes)
        print(f"websockets peer: no context takeover negotiated, wire sizes {sizes}")

        lines = run_client(args.client, url, ["--no-deflate"])
        hs = lines[0]["handshake"]
        check(hs.get("deflate") is None and not hs.get("extensions"), "--no-deflate: nothing negotiated", hs)
        check(all("compressedLen" not in f for f in data_frames(lines)), "--no-deflate: no compressedLen", lines)
        print(f"websockets peer: --no-deflate sends plain frames; all checks passed in {time.monotonic() - t0:.1f} s")
        return 0
    except AssertionError as e:
        print(f"websockets peer: FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
