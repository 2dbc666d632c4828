#!/usr/bin/env python3
"""End-to-end tests of the real wsbench desktop app, driven over W3C WebDriver.

Run under Xvfb: `xvfb-run -a -s "-screen 0 1280x800x24" python3 tests/e2e/run.py --app target/debug/wsbench`.
tauri-driver (port 4444) starts WebKitWebDriver (4445) and the app. Standard library
only; one keep-alive HTTP connection (a client closing every request makes the
driver fail at random); tauri-driver is only ever stopped with SIGTERM (SIGKILL
orphans WebKitWebDriver and the next run hangs). Prints `N passed, N failed`.
"""
import argparse
import base64
import hashlib
import http.client
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

W3C_EL = "element-6066-11e4-a52e-4f735466cecf"
DATA = None  # the app's data directory for this run
APP = None  # (binary, args)
CTRL, ENTER = "\ue009", "\ue007"


# --- a WebSocket server for hostile and flooding peers (server side, unmasked) ------

def ws_frame(opcode, payload):
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


def read_request(conn):
    """Read an HTTP request head; None if the peer hung up first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data


class WsServer:
    """Accepts WebSocket clients on 127.0.0.1:0 and runs `script(send)` for each."""

    def __init__(self, script):
        self.script = script
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.url = f"ws://127.0.0.1:{self.port}/"
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        data = read_request(conn)
        if data is None:
            return
        key = ""
        for line in data.decode("latin-1").split("\r\n"):
            if line.lower().startswith("sec-websocket-key:"):
                key = line.split(":", 1)[1].strip()
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        conn.sendall(f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n".encode())
        try:
            self.script(conn)
            # Answer the client's close, then hang up.
            buf = b""
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                buf += chunk
                while len(buf) >= 2:
                    op, ln = buf[0] & 0x0F, buf[1] & 0x7F
                    off = 2
                    if ln == 126:
                        ln, off = struct.unpack("!H", buf[2:4])[0], 4
                    elif ln == 127:
                        ln, off = struct.unpack("!Q", buf[2:10])[0], 10
                    if len(buf) < off + 4 + ln:
                        break
                    mask, body = buf[off:off + 4], buf[off + 4:off + 4 + ln]
                    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(body))
                    buf = buf[off + 4 + ln:]
                    if op == 0x8:
                        conn.sendall(ws_frame(0x8, payload[:2]))
                        conn.close()
                        return
                    if op == 0x9:
                        conn.sendall(ws_frame(0xA, payload))
        except OSError:
            pass
        finally:
            conn.close()


HOSTILE = [
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=2</script>",
    "safe\u202Eexe.txt and \u2066isolate\u2069 and zero\u200Bwidth",
    '{"html":"<b>bold?</b>","n":1}',
]
BIG_LINE = "A" * (5 * 1024 * 1024)


def hostile(conn):
    for text in HOSTILE:
        conn.sendall(ws_frame(0x1, text.encode()))
    conn.sendall(ws_frame(0x1, BIG_LINE.encode()))
    conn.sendall(ws_frame(0x2, b"\x00\x01<script>\xff"))


FLOOD = 200_000


def flood(conn):
    frames = b"".join(ws_frame(0x1, f"flood {i}".encode()) for i in range(FLOOD))
    conn.sendall(frames)


# --- a minimal W3C WebDriver client ---------------------------------------------

class Driver:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.sid = None

    def req(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        self.conn.request(method, path, body=data, headers=headers)
        r = self.conn.getresponse()
        raw = r.read()
        value = json.loads(raw or b"{}").get("value")
        if r.status >= 400:
            raise RuntimeError(f"{method} {path} -> {r.status}: {value}")
        return value

    def start(self, app, args=()):
        opts = {"application": app, "args": list(args)}
        v = self.req("POST", "/session", {"capabilities": {"alwaysMatch": {"tauri:options": opts}}})
        self.sid = v["sessionId"]

    def quit(self):
        if self.sid:
            try:
                self.req("DELETE", f"/session/{self.sid}")
            except Exception:
                pass
            self.sid = None

    def restart(self):
        """Quit the app and start it again on the same data directory."""
        self.quit()
        self.start(*APP)

    def s(self, path):
        return f"/session/{self.sid}{path}"

    def js(self, script, *args):
        return self.req("POST", self.s("/execute/sync"), {"script": script, "args": list(args)})

    def find(self, css):
        return self.req("POST", self.s("/element"), {"using": "css selector", "value": css})[W3C_EL]

    def click(self, css):
        try:
            self.req("POST", self.s(f"/element/{self.find(css)}/click"), {})
        except RuntimeError as e:
            # A toast from an earlier step can sit over the target for a few seconds, as it
            # would for a user, who waits for it: hide it and click once more (anything
            # else in the way still fails).
            if "click intercepted" not in str(e) and "not interactable" not in str(e):
                raise
            if not self.js("const t=document.getElementById('toast'); if(!t||t.hidden) return false; t.hidden=true; return true;"):
                raise
            self.req("POST", self.s(f"/element/{self.find(css)}/click"), {})

    def type(self, css, text):
        self.req("POST", self.s(f"/element/{self.find(css)}/value"), {"text": text})

    def keys(self, *keys):
        actions = [{"type": "keyDown", "value": k} for k in keys] + [{"type": "keyUp", "value": k} for k in reversed(keys)]
        self.req("POST", self.s("/actions"), {"actions": [{"type": "key", "id": "kb", "actions": actions}]})
        self.req("DELETE", self.s("/actions"))

    def set_value(self, css, value):
        """Set an input/select value and fire input+change, as a user edit would."""
        self.js(
            "const el=document.querySelector(arguments[0]); el.value=arguments[1];"
            "el.dispatchEvent(new Event('input',{bubbles:true})); el.dispatchEvent(new Event('change',{bubbles:true}));",
            css, value)

    def text(self, css):
        return self.js("const el=document.querySelector(arguments[0]); return el ? el.textContent : null;", css)

    def screenshot(self, path):
        # The previous frame can still be on screen right after a DOM change.
        self.js("return new Promise(r=>requestAnimationFrame(()=>requestAnimationFrame(()=>r(1))))")
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        # What the X display shows (the user's view). WebDriver's own screenshot never
        # answers while a modal <dialog> is open in WebKitGTK's non-composited mode,
        # the app's default on Linux; it is the fallback without ImageMagick.
        if os.environ.get("DISPLAY") and os.access("/usr/bin/import", os.X_OK):
            subprocess.run(["/usr/bin/import", "-window", "root", path], check=True, timeout=60)
            return
        png = base64.b64decode(self.req("GET", self.s("/screenshot")))
        with open(path, "wb") as f:
            f.write(png)


def wait(what, fn, timeout=15.0, every=0.1):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # the page may be mid-reload
            last = e
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what} (last: {str(last)[:300]})")


ROWS = "return Array.from(document.querySelectorAll('.frame-row')).map(r=>({cls:r.className, text:r.textContent, seq:+r.dataset.seq}))"


def rows(d):
    return d.js(ROWS)


# --- the tests ------------------------------------------------------------------

def test_connect_send_filter_search_detail_close_reload(d, out):
    wait("the first tab", lambda: d.text(".tab .tab-name") == "Local echo")
    d.click("button[aria-label='Connect']")
    wait("Open", lambda: (d.text("#state-line") or "").startswith("Open"))
    assert d.text("#connect") == "Disconnect"
    d.type("#message", "hello wsbench")
    d.keys(CTRL, ENTER)
    wait("the echo", lambda: any("in text" in r["cls"] and "hello wsbench" in r["text"] for r in rows(d)))
    d.set_value("#mode", "hex")
    d.set_value("#message", "de ad be ef")
    assert "4 B" in d.text("#composer-status")
    d.click("button[aria-label='Send']")
    wait("the binary echo", lambda: any("in binary" in r["cls"] and "de ad be ef" in r["text"] for r in rows(d)))
    d.set_value("#message", "zz")
    assert "not a hex digit" in d.text("#composer-status"), d.text("#composer-status")
    d.screenshot(f"{out}/echo.png")

    d.set_value("#filter-type", "binary")
    wait("binary only", lambda: (r := rows(d)) and all(" binary" in x["cls"] for x in r) and len(r) == 2)
    d.set_value("#filter-type", "")
    d.set_value("#search", "HELLO")
    wait("search results", lambda: (r := rows(d)) and len(r) == 2 and all("hello wsbench" in x["text"] for x in r))
    d.set_value("#search", "")
    wait("all rows back", lambda: len(rows(d)) >= 4)

    target = next(r for r in rows(d) if "in text" in r["cls"])
    d.click(f".frame-row[data-seq='{target['seq']}']")
    wait("detail", lambda: d.text("#detail-body") == "hello wsbench")

    d.set_value("#close-code", "4001")
    d.set_value("#close-reason", "bye now")
    d.click("#close-with-code")
    wait("closed 4001", lambda: "Closed 4001" in (d.text("#state-line") or ""))
    wait("close row", lambda: any(" close" in r["cls"] and "4001 bye now" in r["text"] for r in rows(d)))
    # The counters are redrawn at most 4 times a second: wait, as a user's eye would, for
    # them to count every received row the log shows.
    wait("the counters to count the close", lambda: (d.text("#counters") or "").startswith(
        f"↓ {sum('in' in r['cls'].split() for r in rows(d))} ("))
    before = {"counters": d.text("#counters"), "rows": len(rows(d)), "tab": d.text(".tab .tab-name")}

    d.keys("\ue035")  # F5
    time.sleep(1)
    wait("the tab after reload", lambda: d.text(".tab .tab-name") == before["tab"])
    wait("the log after reload", lambda: len(rows(d)) == before["rows"])
    assert "Closed 4001" in d.text("#state-line"), d.text("#state-line")
    assert d.text("#counters").split(" · ")[:2] == before["counters"].split(" · ")[:2], (d.text("#counters"), before)


def test_hostile_payloads_render_inert(d, out):
    srv = WsServer(hostile)
    n_tabs = d.js("return document.querySelectorAll('.tab').length")
    d.click("button[aria-label='New tab']")
    wait("a new tab", lambda: d.js("return document.querySelectorAll('.tab').length") == n_tabs + 1)
    d.set_value("#url", srv.url)
    d.click("button[aria-label='Connect']")
    wait("open", lambda: (d.text("#state-line") or "").startswith("Open"))
    # Wait for the rows a user sees, not just the counters (rows are drawn on the next frame).
    wait("all hostile rows drawn", lambda: len([x for x in rows(d) if "frame-row in " in x["cls"]]) >= 6)
    r = rows(d)
    texts = " ".join(x["text"] for x in r)
    assert '<img src=x onerror="window.__pwned=1">' in texts, texts[:500]
    assert "<script>window.__pwned=2</script>" in texts, texts[:500]
    assert "<U+202E>" in texts and "<U+2066>" in texts and "<U+200B>" in texts, "bidi/zero-width made visible"
    assert d.js("return document.querySelectorAll('img').length") == 0, "an <img> element was created"
    assert d.js("return document.querySelectorAll('script:not([src])').length") == 0, "an inline <script> element was created"
    assert d.js("return window.__pwned === undefined"), "a payload ran"
    big = next(x for x in r if "5.0 MiB" in x["text"])
    t = time.time()
    d.click(f".frame-row[data-seq='{big['seq']}']")
    wait("the 5 MB frame in detail", lambda: "of 5.0 MiB" in (d.text("#detail-truncated") or ""))
    opened = time.time() - t
    shown = d.js("return document.getElementById('detail-body').textContent.length")
    assert shown == 256 * 1024, f"detail shows {shown} characters"
    assert opened < 3.0, f"opening the 5 MB frame took {opened:.1f} s"
    d.click("#send-ping")
    wait("a pong after the 5 MB line", lambda: any(" pong" in x["cls"] for x in rows(d)))
    assert d.js("return window.__pwned === undefined"), "a payload ran"
    d.screenshot(f"{out}/hostile.png")
    print(f"  5 MB line opened in the detail pane in {opened:.2f} s; app still answers")


def test_flood_keeps_dom_bounded_and_disconnect_prompt(d, out):
    srv = WsServer(flood)
    d.click("button[aria-label='New tab']")
    time.sleep(0.3)
    d.set_value("#url", srv.url)
    d.click("button[aria-label='Connect']")
    peak = 0
    t0 = time.time()
    while time.time() - t0 < 20:
        peak = max(peak, d.js("return window.wsbench.domRowCount()") or 0)
        got = d.js("return window.wsbench.model.tabs.get(window.wsbench.model.active)?.stats?.framesIn") or 0
        if got >= FLOOD:
            break
        time.sleep(0.05)
    got = d.js("return window.wsbench.model.tabs.get(window.wsbench.model.active)?.stats?.framesIn") or 0
    assert got >= FLOOD, f"only {got} of {FLOOD} frames reached the log in 20 s"
    assert 0 < peak <= 120, f"DOM rows peaked at {peak}"
    held = d.js("return window.wsbench.model.tabs.get(window.wsbench.model.active).stats.heldFrames")
    d.screenshot(f"{out}/flood.png")
    t = time.time()
    d.click("button[aria-label='Disconnect']")
    wait("closed within a second", lambda: "Closed" in (d.text("#state-line") or ""), timeout=1.0, every=0.02)
    took = time.time() - t
    assert took < 1.0, took
    print(f"  {got} frames in the log ({held} held); DOM rows peaked at {peak}; Disconnect took {took * 1000:.0f} ms")


def test_tabs_shortcuts_rename_unread_and_small_window(d, out):
    tabs = lambda: d.js("return Array.from(document.querySelectorAll('.tab')).map(t=>({name:t.querySelector('.tab-name').textContent, active:t.classList.contains('active'), unread:(t.querySelector('.unread')||{}).textContent||''}))")
    wait("the app's tabs", lambda: d.js("return !!document.querySelector('.tab.active')"))
    n = len(tabs())
    d.keys(CTRL, "t")
    wait("Ctrl+T opens a tab", lambda: len(tabs()) == n + 1 and tabs()[-1]["active"])
    # Rename by double-click (WebKitWebDriver synthesizes no dblclick from two
    # pointer clicks, so the event is dispatched on the tab's name).
    d.js("document.querySelector('.tab.active .tab-name').dispatchEvent(new MouseEvent('dblclick', {bubbles: true}))")
    wait("the rename field", lambda: d.js("return !!document.querySelector('.tab input.rename')"))
    d.set_value(".tab input.rename", "orders feed")
    d.js("document.querySelector('.tab input.rename').dispatchEvent(new KeyboardEvent('keydown',{key:'Enter',bubbles:true}))")
    wait("the new name", lambda: tabs()[-1]["name"] == "orders feed")
    # Connect this tab to the echo server, switch away with Ctrl+1, traffic counts as unread.
    d.click("button[aria-label='Connect']")
    wait("open", lambda: (d.text("#state-line") or "").startswith("Open"))
    active_id = d.js("return window.wsbench.model.active")
    d.keys(CTRL, "1")
    wait("Ctrl+1 selects the first tab", lambda: tabs()[0]["active"])
    d.js("return window.__TAURI__.core.invoke('send', {id: arguments[0], message: {type: 'text', data: 'while away'}})", active_id)
    wait("an unread badge", lambda: tabs()[-1]["unread"] not in ("", "0"))
    # Ctrl+Tab cycles; the last tab is reached and its unread count clears.
    for _ in range(len(tabs()) - 1):
        d.keys(CTRL, "\ue004")
    wait("Ctrl+Tab reached the last tab", lambda: tabs()[-1]["active"] and tabs()[-1]["unread"] == "")
    # Ctrl+W on a connected tab asks first; Cancel keeps it.
    d.keys(CTRL, "w")
    wait("the confirm dialog", lambda: d.js("return !!document.querySelector('dialog.confirm[open]')"))
    d.click("dialog.confirm button[aria-label='Cancel']")
    assert len(tabs()) == n + 1
    d.keys(CTRL, "w")
    wait("the confirm dialog", lambda: d.js("return !!document.querySelector('dialog.confirm[open]')"))
    d.click("dialog.confirm button[aria-label='Close tab anyway']")
    wait("the tab closed", lambda: len(tabs()) == n)
    # A new idle tab closes without asking.
    d.keys(CTRL, "t")
    wait("another tab", lambda: len(tabs()) == n + 1)
    d.click(".tab.active button[aria-label='Close tab']")
    wait("closed without a question", lambda: len(tabs()) == n and not d.js("return !!document.querySelector('dialog[open]')"))
    # The layout works at 1024x700: every main control is on screen.
    d.req("POST", d.s("/window/rect"), {"width": 1024, "height": 700})
    time.sleep(0.5)
    off = d.js("""return ['connect','send','send-ping','clear-log','search','message','url'].filter(id => {
        const r = document.getElementById(id).getBoundingClientRect();
        return !(r.width > 0 && r.right <= innerWidth && r.bottom <= innerHeight && r.left >= 0 && r.top >= 0);
      })""")
    assert off == [], f"off screen at {d.js('return [innerWidth, innerHeight]')}: {off}"
    # A followed log still shows its newest row after the resize.
    last = d.js("return window.wsbench.model.tabs.get(window.wsbench.model.active).stats.lastSeq")
    if last:
        wait("the newest row in view", lambda: d.js(
            "const r=document.querySelector(`.frame-row[data-seq='${arguments[0]}']`); if(!r) return false;"
            "const v=document.getElementById('log-viewport').getBoundingClientRect(); const b=r.getBoundingClientRect();"
            "return b.bottom <= v.bottom + 1", last))
    d.screenshot(f"{out}/small-window.png")


def http_401_server():
    """Answers every request with 401 and a short body."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)

    def serve():
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            read_request(conn)
            body = b"token expired: log in again"
            conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return f"ws://127.0.0.1:{sock.getsockname()[1]}/chat"


def test_failures_are_explained_next_to_the_url_and_composer_helps(d, out):
    d.keys(CTRL, "t")
    time.sleep(0.3)
    d.set_value("#url", "http://127.0.0.1:1/x")
    assert "ws://127.0.0.1:1/x" in (d.text(".url-hint") or ""), d.text(".url-hint")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    d.set_value("#url", f"ws://127.0.0.1:{closed}/")
    d.click("button[aria-label='Connect']")
    wait("refused", lambda: "connection refused" in (d.text("#state-line") or ""))
    d.set_value("#url", http_401_server())
    d.click("button[aria-label='Connect']")
    wait("the 401 with its body", lambda: "token expired: log in again" in (d.text("#state-line") or ""))
    assert "401" in d.text("#state-line")
    d.screenshot(f"{out}/http-401.png")

    # Back on the echo server: JSON validation and formatting, history recall.
    d.set_value("#url", d.js("return window.__TAURI__.core.invoke('local_server_url')"))
    d.click("button[aria-label='Connect']")
    wait("open", lambda: (d.text("#state-line") or "").startswith("Open"))
    d.set_value("#mode", "json")
    d.set_value("#message", '{"a": }')
    assert (d.text("#composer-status") or "").startswith("Not JSON"), d.text("#composer-status")
    d.set_value("#message", '{"a":[1,2]}')
    d.click("button[aria-label='Format JSON']")
    assert d.js("return document.getElementById('message').value") == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    d.click("button[aria-label='Send']")
    wait("the JSON echo", lambda: any("in text" in r["cls"] for r in rows(d)))
    d.set_value("#message", "")
    d.js("const m=document.getElementById('message'); m.focus(); m.setSelectionRange(0,0)")
    d.keys("\ue013")  # ArrowUp
    assert d.js("return document.getElementById('message').value").startswith('{\n  "a"'), "Up recalls the last sent message"


def dialog_input(d, name, value):
    d.set_value(f"dialog[open] input[name='{name}']", value)


def new_tab(d, name):
    before = d.js("return document.querySelectorAll('.tab').length")
    d.click("button[aria-label='New tab']")
    wait("the new tab", lambda: d.js("return document.querySelectorAll('.tab').length") == before + 1)
    d.js("const t=[...document.querySelectorAll('.tab .tab-name')].pop(); t.dispatchEvent(new MouseEvent('dblclick',{bubbles:true}))")
    d.set_value(".tab input.rename", name)
    d.keys(ENTER)
    wait("the tab's name", lambda: d.text(".tab.active .tab-name") == name)


def in_texts(d):
    return [r["text"] for r in rows(d) if "in text" in r["cls"]]


def test_saved_connection_survives_restart_and_its_messages_send(d, out):
    new_tab(d, "Echo chat")
    d.set_value("#message", '{"op":"hello"}')
    d.click("#save-message")
    wait("the name dialog", lambda: d.js("return !!document.querySelector('dialog[open] input[name=name]')"))
    dialog_input(d, "name", "hello")
    d.click("dialog[open] button[aria-label='Save']")
    wait("the saved message", lambda: d.text("#saved-message-list .saved-message .name") == "hello")
    d.click("input[aria-label='Send hello on connect']")
    d.set_value("#message", "second message")
    d.click("#save-message")
    wait("the name dialog", lambda: d.js("return !!document.querySelector('dialog[open] input[name=name]')"))
    dialog_input(d, "name", "second")
    d.click("dialog[open] button[aria-label='Save']")
    wait("two saved messages", lambda: d.js("return document.querySelectorAll('.saved-message').length") == 2)
    # Reorder: "second" first, then back.
    d.click("button[aria-label='Move second up']")
    wait("reordered", lambda: d.text(".saved-message .name") == "second")
    d.click("button[aria-label='Move second down']")
    wait("reordered back", lambda: d.text(".saved-message .name") == "hello")
    # Ctrl+S on a tab never saved asks where; the tab is then marked clean.
    d.click("#message")
    d.keys(CTRL, "s")
    wait("the save dialog", lambda: d.js("return !!document.querySelector('dialog[open] select[name=collection]')"))
    d.click("dialog[open] button[aria-label='Save']")
    wait("the sidebar entry", lambda: d.js("return !!document.querySelector(\".tree-row[data-id='echo-chat.json']\")"))
    wait("no unsaved marker after saving", lambda: d.js("return !document.querySelector('.tab.active .dirty')"))
    # An edit marks the tab (and its sidebar row) unsaved; Ctrl+S saves over the file.
    d.click("button[aria-label='Move second up']")
    wait("the unsaved marker", lambda: d.js("return !!document.querySelector('.tab.active .dirty') && !!document.querySelector(\".tree-row[data-id='echo-chat.json'] .dirty\")"))
    d.click("button[aria-label='Move second down']")
    d.click("#message")
    d.keys(CTRL, "s")
    wait("saved again", lambda: d.js("return !document.querySelector('.tab.active .dirty')"))
    d.set_value("#message", "unsent draft")
    state_file = os.path.join(DATA, "state.json")
    wait("the draft in state.json", lambda: "unsent draft" in open(state_file).read())
    d.screenshot(f"{out}/saved-connection.png")

    d.restart()
    wait("the sidebar after restart", lambda: d.js("return !!document.querySelector(\".tree-row[data-id='echo-chat.json']\")"))
    wait("the restored tab", lambda: "Echo chat" in d.js("return [...document.querySelectorAll('.tab .tab-name')].map(t=>t.textContent)"))
    d.js("[...document.querySelectorAll('.tab')].find(t=>t.textContent.includes('Echo chat')).click()")
    wait("the restored draft", lambda: d.js("return document.getElementById('message').value") == "unsent draft")
    assert d.js("return document.querySelectorAll('.saved-message').length") == 2
    # Connecting sends the on-connect message; a click sends another.
    d.click("button[aria-label='Connect']")
    wait("the on-connect echo", lambda: any('{"op":"hello"}' in t for t in in_texts(d)))
    d.click("button[aria-label='Send second']")
    wait("the saved message's echo", lambda: any("second message" in t for t in in_texts(d)))
    d.click("button[aria-label='Disconnect']")
    wait("closed", lambda: (d.text("#state-line") or "").startswith("Closed"))
    # The file on disk is the user's: pretty JSON with the messages in order.
    with open(os.path.join(DATA, "workspace", "echo-chat.json")) as f:
        saved = json.load(f)
    assert [m["name"] for m in saved["messages"]] == ["hello", "second"], saved
    assert saved["messages"][0]["sendOnConnect"] is True


def test_environment_variable_in_a_header(d, out):
    d.click("#edit-environments")
    wait("the environments dialog", lambda: d.js("return !!document.querySelector('dialog.environments[open]')"))
    d.click("#new-environment")
    d.set_value("input[name='env-name']", "local")
    d.click("#add-variable")
    d.set_value("dialog.environments input[aria-label='Variable name']", "trace")
    d.set_value("dialog.environments input[aria-label^='Value of']", "abc-123")
    d.click("#save-environment")
    wait("the environment listed", lambda: d.js("return [...document.querySelectorAll('.env-item')].some(e=>e.textContent==='local')"))
    d.screenshot(f"{out}/environments.png")
    d.click("button[aria-label='Close environments']")
    wait("the picker", lambda: d.js("return [...document.querySelectorAll('#env-select option')].some(o=>o.value==='local')"))
    d.set_value("#env-select", "local")
    wait("local active in the app", lambda: d.js("return window.wsbench.model.ws.activeEnvironment") == "local")
    new_tab(d, "With vars")
    d.js("document.querySelector('details.settings').open = true")
    d.click("button[aria-label='Add header']")
    d.set_value("input[aria-label='header 1 name']", "X-Trace")
    d.set_value("input[aria-label='header 1 value']", "{{trace}}")
    d.click("button[aria-label='Connect']")
    wait("Open", lambda: (d.text("#state-line") or "").startswith("Open"))
    req = d.text(".hs-req") or ""
    assert "x-trace: abc-123" in req.lower(), req
    d.click("button[aria-label='Disconnect']")
    wait("closed", lambda: (d.text("#state-line") or "").startswith("Closed"))
    # An unknown variable is named before anything is dialed.
    d.set_value("input[aria-label='header 1 value']", "{{nope}}")
    time.sleep(0.3)
    d.click("button[aria-label='Connect']")
    wait("the unknown variable", lambda: "unknown variable {{nope}} in header X-Trace" in (d.text("#state-line") or ""))


def test_history_reopens_a_past_session_read_only(d, out):
    d.js("document.querySelector('details.history-box').open = true")
    wait("history entries", lambda: d.js("return document.querySelectorAll('.history-entry').length") >= 2)
    d.js("document.querySelector('details.history-box').scrollIntoView()")
    echo_chat = d.js("const g=[...document.querySelectorAll('.history-entry')].find(e=>e.previousElementSibling && [...document.querySelectorAll('.history-group')].some(h=>h.textContent==='Echo chat')); return !!g")
    assert echo_chat, "the Echo chat session is listed"
    d.js("const groups=[...document.querySelector('#history').children]; let inEcho=false; for (const el of groups) { if (el.classList.contains('history-group')) inEcho = el.textContent==='Echo chat'; else if (inEcho && el.classList.contains('history-entry')) { el.click(); break; } }")
    wait("a read-only tab", lambda: d.text("#connect") == "Read-only")
    assert d.js("return !!document.querySelector('.tab.active .ro')")
    wait("its frames", lambda: any('{"op":"hello"}' in t for t in in_texts(d)))
    assert d.text("#state-line").startswith("Recorded session")
    assert d.js("return document.querySelector('#message') === null"), "no composer on a recording"
    d.screenshot(f"{out}/history.png")


def test_export_from_the_app_writes_the_file(d, out):
    # Export the live-session tab "Echo chat" (it exchanged 4+ frames).
    d.js("[...document.querySelectorAll('.tab')].find(t=>t.textContent.includes('Echo chat')).click()")
    wait("its frames", lambda: len(rows(d)) >= 4)
    n = len(rows(d))
    for fmt in ("ndjson", "har", "csv"):
        path = os.path.join(os.path.abspath(out), f"export.{fmt}")
        if os.path.exists(path):
            os.remove(path)
        d.click("#export-log")
        wait("the export dialog", lambda: d.js("return !!document.querySelector('dialog.export[open]')"))
        d.set_value("#export-format", fmt)
        d.set_value("#export-path", path)
        d.click("#export-go")
        wait("the export to finish", lambda: (d.text("#export-status") or "").startswith("Wrote"))
        if fmt == "ndjson":
            d.screenshot(f"{out}/export.png")
        d.click("#export-cancel")
        with open(path, encoding="utf-8") as f:
            body = f.read()
        if fmt == "ndjson":
            lines = [json.loads(l) for l in body.splitlines()]
            assert lines[0]["format"] == "wsbench-log" and lines[0]["name"] == "Echo chat", lines[0]
            frames = lines[1:]
            assert len(frames) == n, (len(frames), n)
            assert any(f.get("text") == '{"op":"hello"}' and f["direction"] == "in" for f in frames)
            assert any(f["opcode"] == "close" for f in frames)
        elif fmt == "har":
            har = json.loads(body)
            msgs = har["log"]["entries"][0]["_webSocketMessages"]
            assert any(m["type"] == "send" and m["data"] == "second message" for m in msgs), msgs
        else:
            import csv, io
            table = list(csv.reader(io.StringIO(body)))
            assert len(table) == n + 1, len(table)


BIG_WORKSPACE = 5000


def write_big_workspace(root, n):
    """`n` saved connection files in 50 collections, shaped like the app's own (the file
    the save test wrote is the template when there is one)."""
    template = {"version": 2, "name": "", "config": {"url": ""}, "messages": [
        {"name": "hello", "format": "json", "body": '{"op":"hello"}', "sendOnConnect": True}]}
    saved = os.path.join(DATA, "workspace", "echo-chat.json")
    if os.path.exists(saved):
        with open(saved) as f:
            template = json.load(f)
    per = max(1, n // 50)
    for i in range(n):
        folder = os.path.join(root, f"group-{i // per:02d}")
        os.makedirs(folder, exist_ok=True)
        conn = json.loads(json.dumps(template))
        conn["name"] = f"conn {i:05d}"
        conn["config"]["url"] = f"ws://127.0.0.1:9/feed/{i}"
        with open(os.path.join(folder, f"conn-{i:05d}.json"), "w") as f:
            json.dump(conn, f, indent=2)
            f.write("\n")


def test_window_stays_responsive_during_a_big_rescan(d, out):
    root = os.path.join(DATA, "big-workspace")
    t = time.time()
    write_big_workspace(root, BIG_WORKSPACE)
    print(f"  wrote {BIG_WORKSPACE} connection files in {time.time() - t:.1f} s")
    # Open it the way a user does (Ctrl+O's dialog).
    tree_rows = "return document.querySelectorAll('#tree .tree-row.connection').length"
    t = time.time()
    d.click("#open-folder")
    wait("the open dialog", lambda: d.js("return !!document.querySelector('dialog[open] input[name=path]')"))
    dialog_input(d, "path", root)
    d.click("dialog[open] button[aria-label='Open']")
    wait("the big workspace in the sidebar", lambda: d.js(tree_rows) == BIG_WORKSPACE, timeout=120)
    opened = time.time() - t
    for attempt in range(5):
        m = measure_during_rescan(d, root, attempt)
        # Proof only counts if the rescan was still running when the new tab appeared
        # (the app's own 3 s rescan may have read the touched files first: try again).
        if m["overlap"]:
            break
    print(f"  opened {BIG_WORKSPACE} files in {opened:.2f} s; rescan of {BIG_WORKSPACE} touched files took {m['rescan_ms']:.0f} ms"
          f" ({m['changes']} changes); during it Ctrl+T took {m['new_tab_ms']:.0f} ms and typing {m['typing_ms']:.0f} ms")
    d.screenshot(f"{out}/big-workspace.png")
    assert m["error"] is None, m["error"]
    assert m["new_tab_ms"] < 500, f"Ctrl+T took {m['new_tab_ms']:.0f} ms while the rescan ran ({m['rescan_ms']:.0f} ms)"
    assert m["typing_ms"] < 500, f"typing took {m['typing_ms']:.0f} ms while the rescan ran ({m['rescan_ms']:.0f} ms)"
    assert m["overlap"], f"the rescan ({m['rescan_ms']:.0f} ms) ended before the new tab appeared: too fast to prove anything; raise BIG_WORKSPACE"


def measure_during_rescan(d, root, attempt):
    """Touch every file (same bytes, new time) so the next rescan reads and hashes all of
    them, start it as the app's focus/3 s timer does, and time two UI actions meanwhile."""
    later = time.time() + 10 * (attempt + 1)
    for dirpath, _, files in os.walk(root):
        for f in files:
            os.utime(os.path.join(dirpath, f), (later, later))
    d.js("window.__rescan = {start: performance.now()};"
         "window.__TAURI__.core.invoke('workspace_rescan').then("
         "r => { window.__rescan.end = performance.now(); window.__rescan.changes = r.changes.length; },"
         "e => { window.__rescan.end = performance.now(); window.__rescan.error = String(e && e.message || e); })")
    time.sleep(0.1)  # the rescan is under way
    # Ctrl+T opens a tab (a command of its own); what is typed shows in the URL field.
    n = d.js("return document.querySelectorAll('.tab').length")
    t0 = time.time()
    d.keys(CTRL, "t")
    wait("Ctrl+T during the rescan", lambda: d.js("return document.querySelectorAll('.tab').length") == n + 1, timeout=60, every=0.01)
    new_tab_ms = (time.time() - t0) * 1000
    tab_done_at = d.js("return performance.now()")
    t0 = time.time()
    d.type("#url", "/ok")
    wait("the typed URL", lambda: d.js("return document.getElementById('url').value").endswith("/ok"), timeout=60, every=0.01)
    typing_ms = (time.time() - t0) * 1000
    r = wait("the rescan's end", lambda: d.js("return window.__rescan.end !== undefined && window.__rescan"), timeout=120)
    return {"rescan_ms": r["end"] - r["start"], "changes": r.get("changes"), "error": r.get("error"),
            "new_tab_ms": new_tab_ms, "typing_ms": typing_ms, "overlap": tab_done_at < r["end"]}


class ConnectProxy:
    """A tiny HTTP CONNECT proxy on 127.0.0.1:0 that records the targets asked for."""

    def __init__(self):
        self.asked = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            b = conn.recv(1)
            if not b:
                return conn.close()
            head += b
        target = head.split(b" ")[1].decode()
        self.asked.append(target)
        host, port = target.rsplit(":", 1)
        try:
            up = socket.create_connection((host.strip("[]"), int(port)), timeout=5)
        except OSError:
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return conn.close()
        up.settimeout(None)
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

        def pump(a, b):
            try:
                while (data := a.recv(65536)):
                    b.sendall(data)
            except OSError:
                pass
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        threading.Thread(target=pump, args=(up, conn), daemon=True).start()
        pump(conn, up)


def test_a_proxy_in_the_connection_settings_carries_the_echo(d, out):
    proxy = ConnectProxy()
    n = d.js("return document.querySelectorAll('.tab').length")
    d.keys(CTRL, "t")  # the tab bar may be too full to click its + button
    wait("the new tab", lambda: d.js("return document.querySelectorAll('.tab').length") == n + 1)
    d.js("document.querySelector('details.settings').open = true")
    d.set_value("select[aria-label='Proxy']", "url")
    wait("the proxy URL field", lambda: d.js("return !document.querySelector('input[aria-label=\"Proxy URL\"]').closest('label').hidden"))
    d.set_value("input[aria-label='Proxy URL']", proxy.url)
    time.sleep(0.3)
    d.click("button[aria-label='Connect']")
    wait("Open", lambda: (d.text("#state-line") or "").startswith("Open"))
    d.type("#message", "through the proxy")
    d.keys(CTRL, ENTER)
    wait("the echo", lambda: any("through the proxy" in t for t in in_texts(d)))
    assert len(proxy.asked) == 1, proxy.asked
    d.js("document.querySelector('details.handshake').open = true")
    shown = d.text(".hs-proxy") or ""
    assert f"Proxy: HTTP CONNECT {proxy.url} (this connection's setting)" in shown, shown
    exchange = d.text(".hs-proxy-exchange") or ""
    assert f"> CONNECT {proxy.asked[0]} HTTP/1.1" in exchange and "< HTTP/1.1 200" in exchange, exchange
    d.screenshot(f"{out}/proxy.png")
    d.click("button[aria-label='Disconnect']")
    wait("closed", lambda: (d.text("#state-line") or "").startswith("Closed"))


DEFLATE_TLS_SERVER = r"""
import asyncio, ssl, sys
from websockets.asyncio.server import serve

async def echo(ws):
    async for m in ws:
        await ws.send(m)

async def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    async with serve(echo, "127.0.0.1", 0, compression="deflate", ssl=ctx) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()

asyncio.run(main())
"""


def test_deflate_over_wss_shows_its_parameters_the_certificate_and_wire_sizes(d, out):
    """A Python `websockets` server (PyPI) with compression on, over wss with an
    `openssl req -x509` certificate given as the tab's CA file (pinned)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "deflate"))
    import websockets_peer
    try:
        python = websockets_peer.ensure_peer()
    except SystemExit as e:
        raise AssertionError(f"the websockets peer could not be installed (exit {e.code}): this test needs it") from None
    tmp = tempfile.mkdtemp(prefix="wsbench-e2e-tls-")
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    fp = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-fingerprint", "-sha256"],
                        check=True, capture_output=True, text=True, timeout=60).stdout.strip().split("=", 1)[1]
    server = subprocess.Popen([str(python), "-c", DEFLATE_TLS_SERVER, cert, key], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        port = server.stdout.readline().strip()
        assert port.isdigit(), f"the websockets server did not start: {server.stderr.read()}"
        n = d.js("return document.querySelectorAll('.tab').length")
        d.keys(CTRL, "t")
        wait("the new tab", lambda: d.js("return document.querySelectorAll('.tab').length") == n + 1)
        d.set_value("#url", f"wss://127.0.0.1:{port}/")
        d.js("document.querySelector('details.settings').open = true")
        d.set_value("input[aria-label='CA file (PEM)']", cert)
        time.sleep(0.3)
        d.click("button[aria-label='Connect']")
        wait("Open", lambda: (d.text("#state-line") or "").startswith("Open"), timeout=30)
        text = "the same words compress well; " * 20
        d.set_value("#message", text)
        d.click("button[aria-label='Send']")
        wait("the echo", lambda: any(text[:40] in t for t in in_texts(d)), timeout=30)
        d.js("document.querySelector('details.handshake').open = true")
        deflate = d.text(".hs-deflate") or ""
        assert deflate == "Compression: permessage-deflate · client 12-bit window · server 12-bit window", deflate
        certs = d.text(".hs-certs") or ""
        assert "#1 CN=localhost" in certs and "(self-signed)" in certs, certs
        assert "names:   DNS:localhost, IP:127.0.0.1" in certs, certs
        assert fp.lower().replace(":", "") in certs.lower().replace(":", ""), (fp, certs)
        assert "certificate pinned by the CA file" in (d.text(".hs-meta") or ""), d.text(".hs-meta")
        echo = next(r for r in rows(d) if "in text" in r["cls"] and text[:40] in r["text"])
        d.click(f".frame-row[data-seq='{echo['seq']}']")
        wait("the detail", lambda: "on the wire" in (d.text(".detail-head") or ""))
        head = d.text(".detail-head")
        import re
        m = re.search(r"· 600 B · compressed, (\d+) B on the wire", head)
        assert m and 0 < int(m.group(1)) < 600, head
        d.js("document.querySelector('.hs-certs').scrollIntoView()")
        d.screenshot(f"{out}/deflate-wss.png")
        d.click("button[aria-label='Disconnect']")
        wait("closed", lambda: (d.text("#state-line") or "").startswith("Closed"))
    finally:
        server.terminate()
        try:
            _, err = server.communicate(timeout=10)
            if err.strip():
                print(f"websockets server stderr:\n{err[-3000:]}")
        except subprocess.TimeoutExpired:
            server.kill()
        for f in (cert, key):
            if os.path.exists(f):
                os.remove(f)
        os.rmdir(tmp)


def test_the_global_proxy_from_the_sidebar_carries_a_system_tab(d, out):
    """Proxy… in the sidebar sets the proxy of every tab left on "system"; it is put back after."""
    proxy = ConnectProxy()
    d.click("#proxy-settings")
    wait("the proxy dialog", lambda: d.js("return !!document.querySelector(\"dialog[open] select[name='mode']\")"))
    d.set_value("dialog[open] select[name='mode']", "url")
    dialog_input(d, "url", proxy.url)
    d.screenshot(f"{out}/global-proxy.png")
    d.click("dialog[open] button[aria-label='Save']")
    wait("the dialog closes", lambda: not d.js("return !!document.querySelector('dialog[open]')"))
    n = d.js("return document.querySelectorAll('.tab').length")
    d.keys(CTRL, "t")
    wait("the new tab", lambda: d.js("return document.querySelectorAll('.tab').length") == n + 1)
    try:
        d.click("button[aria-label='Connect']")
        wait("Open", lambda: (d.text("#state-line") or "").startswith("Open"))
        d.type("#message", "via the global proxy")
        d.keys(CTRL, ENTER)
        wait("the echo", lambda: any("via the global proxy" in t for t in in_texts(d)))
        assert len(proxy.asked) == 1, proxy.asked
        d.click("button[aria-label='Disconnect']")
        wait("closed", lambda: (d.text("#state-line") or "").startswith("Closed"))
    finally:
        d.click("#proxy-settings")
        wait("the proxy dialog", lambda: d.js("return !!document.querySelector(\"dialog[open] select[name='mode']\")"))
        d.set_value("dialog[open] select[name='mode']", "system")
        d.click("dialog[open] button[aria-label='Save']")
        wait("the dialog closes", lambda: not d.js("return !!document.querySelector('dialog[open]')"))


def sio_server():
    """A stock socket.io@4 chat server (tests/socketio/server.js), npm-installed on first use."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sio_dir = os.path.join(root, "target", "sio-node", "v4")
    if not os.path.exists(os.path.join(sio_dir, "node_modules", "socket.io", "package.json")):
        os.makedirs(sio_dir, exist_ok=True)
        if not os.path.exists(os.path.join(sio_dir, "package.json")):
            with open(os.path.join(sio_dir, "package.json"), "w") as f:
                f.write('{"private":true}\n')
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "socket.io@4"], cwd=sio_dir, check=True)
    env = dict(os.environ, SIO_DIR=sio_dir, PORT="0")
    proc = subprocess.Popen(["node", os.path.join(root, "tests", "socketio", "server.js")], env=env, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("PORT "), line
    return proc, int(line.split()[1])


def test_socketio_chat_decoded_with_raw_frames_one_click_away(d, out):
    proc, port = sio_server()
    try:
        wait("the app", lambda: d.text(".tab .tab-name"))
        # After the other tests the tab bar overflows its + button: Ctrl+T opens the tab.
        before = d.js("return document.querySelectorAll('.tab').length")
        d.keys(CTRL, "t")
        wait("the new tab", lambda: d.js("return document.querySelectorAll('.tab').length") == before + 1)
        d.set_value("#conn-mode", "socketio")
        wait("the Socket.IO settings", lambda: d.text("#sio-settings summary"))
        assert "no long-polling" in d.text("#sio-settings summary")
        d.set_value("#url", f"http://127.0.0.1:{port}")
        assert d.text(".url-hint") == "", d.text(".url-hint")
        d.click("#connect")
        wait("Open", lambda: (d.text("#state-line") or "").startswith("Open"))
        wait("the namespace connected", lambda: any("sio" in r["cls"] and "connect sid" in r["text"] for r in rows(d)))
        wait("the Engine.IO session shown", lambda: "Engine.IO sid" in (d.text("#state-line") or ""))
        d.set_value("#sio-event", "chat")
        d.set_value("#message", '{"msg":"hi from e2e"}')
        # Focus without a click: a toast from an earlier test may sit over the composer.
        d.js("document.querySelector('#message').focus()")
        d.keys(CTRL, ENTER)
        want = 'chat({"msg":"hi from e2e"})'
        wait("the broadcast, decoded", lambda: any(" in " in f" {r['cls']} " and want in r["text"] for r in rows(d)))
        assert not any("ping" in r["text"] and "sio-control" not in r["cls"] for r in rows(d))
        d.screenshot(f"{out}/socketio.png")
        got = next(r for r in rows(d) if " in " in f" {r['cls']} " and want in r["text"])
        d.click(f".frame-row[data-seq='{got['seq']}']")
        wait("the decoded detail", lambda: "hi from e2e" in (d.text("#detail-args") or ""))
        assert "chat" in d.text("#detail-decoded")
        assert d.text("#detail-body").replace("\n", "").replace(" ", "").startswith('42["chat"'), d.text("#detail-body")
        d.click("#show-raw")
        wait("the raw frames", lambda: any('42["chat",{"msg":"hi from e2e"}]' in r["text"] for r in rows(d)))
        d.click("#show-raw")
        d.set_value("#filter-events", "chat")
        wait("only chat events", lambda: (r := rows(d)) and len(r) == 2 and all("chat(" in x["text"] for x in r))
        d.set_value("#filter-events", "")
        d.click("#connect")
        wait("closed", lambda: (d.text("#state-line") or "").startswith("Closed"))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


SCENARIO = {
    "steps": [
        {"type": "send", "json": {"op": "login", "token": "abc123"}},
        {"type": "expect", "json": {"op": "login"}},
        {"type": "capture", "name": "token", "pointer": "/token"},
        {"type": "send", "text": "token={{token}}"},
        {"type": "expect", "equals": "token=abc123", "timeoutMs": 1500},
    ]
}


def step_results(d):
    return d.js("return [...document.querySelectorAll('#scenario-results .step-result')].map(r=>({cls:r.className, text:r.textContent}))")


def run_scenario(d, scenario, verdict):
    d.set_value("#scenario-text", json.dumps(scenario, indent=2))
    d.click("#scenario-run")
    wait(f"the run to end {verdict}", lambda: verdict in (d.text("#scenario-verdict") or ""), timeout=30)
    return step_results(d)


def test_a_scenario_runs_in_the_tab_passes_then_fails_with_what_arrived(d, out):
    wait("the app", lambda: d.js("return !!document.querySelector(\".new-tab\")"))
    new_tab(d, "Scenario echo")
    d.click("#scenario-toggle")
    wait("the scenario editor", lambda: d.js("return !!document.querySelector('#scenario-text')?.offsetParent"))
    results = run_scenario(d, SCENARIO, "passed")
    assert len(results) == 5 and all("passed" in r["cls"] for r in results), results
    assert "captured {{token}}" in results[2]["text"], results
    # The frames are in the tab's log like any others.
    wait("the captured token sent and echoed", lambda: any("token=abc123" in t for t in in_texts(d)))
    d.screenshot(f"{out}/scenario-passed.png")

    failing = json.loads(json.dumps(SCENARIO))
    failing["steps"][4]["equals"] = "token=wrong"
    results = run_scenario(d, failing, "failed")
    assert [r["cls"].split()[-1] for r in results] == ["passed"] * 4 + ["failed"], results
    last = results[4]["text"]
    # What arrived is shown, the captured token too (the user's own session, on screen);
    # the report written to a file redacts it.
    assert 'expected equals "token=wrong"' in last and "arrived token=abc123" in last, last
    assert "frame #" in last, last
    d.screenshot(f"{out}/scenario-failed.png")

    # A broken scenario is refused with its line and step, and nothing runs.
    d.set_value("#scenario-text", '{\n  "steps": [\n    {"type": "expect", "regex": "("}\n  ]\n}')
    d.click("#scenario-apply")
    wait("the error with its line", lambda: "(line 3, column 1): scenario step 1: the regex" in (d.text("#scenario-error") or ""))

    # Periodic send of a saved message: 3 rounds, {{$counter}} counting them.
    d.set_value("#message", "tick {{$counter}}")
    d.click("#save-message")
    wait("the name dialog", lambda: d.js("return !!document.querySelector('dialog[open] input[name=name]')"))
    dialog_input(d, "name", "tick")
    d.click("dialog[open] button[aria-label='Save']")
    d.click("button[aria-label='Connect']")
    wait("Open", lambda: (d.text("#state-line") or "").startswith("Open"))
    d.click("button[aria-label='Send tick periodically']")
    wait("the periodic dialog", lambda: d.js("return !!document.querySelector('dialog[open] input[name=every]')"))
    dialog_input(d, "every", "100")
    dialog_input(d, "times", "3")
    d.click("dialog[open] button[aria-label='Start']")
    wait("the indicator says 3 sent", lambda: "3 sent" in (d.text("#periodic") or ""))
    def ticks_echoed():
        d.js("const b=document.getElementById('new-badge'); if (b && !b.hidden) b.click()")
        return all(any(f"tick {i}" in t for t in in_texts(d)) for i in (1, 2, 3))
    wait("three ticks echoed", ticks_echoed)
    wait("the indicator says 3 sent and stopped", lambda: "3 sent" in (d.text("#periodic") or "") and d.js("return !!document.querySelector('#periodic .periodic.ended')"))
    # Until stopped: the indicator runs until Stop.
    d.click("button[aria-label='Send tick periodically']")
    wait("the periodic dialog", lambda: d.js("return !!document.querySelector('dialog[open] input[name=every]')"))
    dialog_input(d, "every", "200")
    d.click("dialog[open] button[aria-label='Start']")
    wait("running", lambda: d.js("return !!document.querySelector('#periodic .periodic.running')"))
    d.screenshot(f"{out}/periodic.png")
    d.click("button[aria-label='Stop sending tick']")
    wait("stopped", lambda: not d.js("return !!document.querySelector('#periodic .periodic.running')"))
    d.click("button[aria-label='Disconnect']")
    wait("closed", lambda: (d.text("#state-line") or "").startswith("Closed"))

    # Saved with its scenario, the connection runs from the sidebar's Run scenario.
    d.set_value("#scenario-text", json.dumps(SCENARIO, indent=2))
    d.click("#scenario-apply")
    wait("kept", lambda: not (d.text("#scenario-error") or ""))
    d.click("#message")
    d.keys(CTRL, "s")
    wait("the save dialog", lambda: d.js("return !!document.querySelector('dialog[open] select[name=collection]')"))
    d.click("dialog[open] button[aria-label='Save']")
    row = ".tree-row[data-id='scenario-echo.json']"
    wait("the sidebar entry", lambda: d.js(f"return !!document.querySelector(\"{row}\")"))
    with open(os.path.join(DATA, "workspace", "scenario-echo.json")) as f:
        assert json.load(f)["scenario"]["steps"][2] == {"type": "capture", "name": "token", "pointer": "/token"}
    d.js(f"document.querySelector(\"{row} .menu-button\").click()")  # shown on hover
    d.click("button[aria-label='Run scenario']")
    wait("the run from the sidebar passed", lambda: "passed" in (d.text("#scenario-verdict") or ""), timeout=30)
    assert d.js("return !document.querySelector('.tab.active .dirty')"), "running an unchanged scenario leaves the tab saved"
    d.screenshot(f"{out}/scenario-saved-run.png")


def test_a_collection_run_leaves_a_tab_per_connection_with_its_frames(d, out):
    wait("the app", lambda: d.js("return !!document.querySelector(\".new-tab\")"))
    url = d.js("return window.__TAURI__.core.invoke('local_server_url')")
    os.makedirs(os.path.join(DATA, "workspace", "ci"), exist_ok=True)
    for name, want in (("Good", "hi"), ("Bad", "bye")):
        conn = {"name": name, "config": {"url": url}, "scenario": {"steps": [
            {"type": "send", "text": "hi"}, {"type": "expect", "equals": want, "timeoutMs": 500}]}}
        with open(os.path.join(DATA, "workspace", "ci", f"{name.lower()}.json"), "w") as f:
            json.dump(conn, f)
    # Files written outside the app are picked up by its rescan.
    row = ".tree-row[data-collection='ci']"
    wait("the collection in the sidebar", lambda: d.js(f"return !!document.querySelector(\"{row}\")"), timeout=20)
    tabs = d.js("return document.querySelectorAll('.tab').length")
    active = d.text(".tab.active .tab-name")
    d.js(f"document.querySelector(\"{row} .menu-button\").click()")
    d.click("button[aria-label='Run scenarios…']")
    wait("the run dialog", lambda: d.js("return !!document.querySelector('dialog[open] input[name=parallel]')"))
    dialog_input(d, "parallel", "2")
    d.click("dialog[open] button[aria-label='Run']")
    wait("both scenarios ended", lambda: "2 scenarios: 1 passed, 1 failed" in (d.text("dialog[open]") or ""), timeout=30)
    # One new tab per connection, in the tab bar; the user stays on their tab.
    names = d.js("return [...document.querySelectorAll('.tab .tab-name')].map(t=>t.textContent)")
    assert len(names) == tabs + 2 and "Good" in names and "Bad" in names, names
    assert d.text(".tab.active .tab-name") == active
    d.screenshot(f"{out}/collection-run.png")
    # The failed step's frame link opens Bad's tab, whose log holds the run's frames.
    d.js("[...document.querySelectorAll('dialog[open] button.link')].find(b=>/^Open frame \\d+ of Bad$/.test(b.getAttribute('aria-label'))).click()")
    wait("Bad's tab in front", lambda: d.text(".tab.active .tab-name") == "Bad")
    assert not d.js("return !!document.querySelector('dialog[open]')"), "the dialog closed"
    wait("the echoed hi in Bad's log", lambda: any("hi" in t for t in in_texts(d)))
    if not d.js("return !!document.querySelector('#scenario-results')?.offsetParent"):
        d.click("#scenario-toggle")
    wait("the tab's scenario panel open", lambda: d.js("return !!document.querySelector('#scenario-results')?.offsetParent"))
    results = step_results(d)
    assert [r["cls"].split()[-1] for r in results] == ["passed", "failed"], results
    assert 'arrived hi' in results[1]["text"], results
    d.screenshot(f"{out}/collection-run-tab.png")


TESTS = [
    test_connect_send_filter_search_detail_close_reload,
    test_hostile_payloads_render_inert,
    test_flood_keeps_dom_bounded_and_disconnect_prompt,
    test_tabs_shortcuts_rename_unread_and_small_window,
    test_failures_are_explained_next_to_the_url_and_composer_helps,
    test_saved_connection_survives_restart_and_its_messages_send,
    test_environment_variable_in_a_header,
    test_history_reopens_a_past_session_read_only,
    test_export_from_the_app_writes_the_file,
    test_a_proxy_in_the_connection_settings_carries_the_echo,
    test_the_global_proxy_from_the_sidebar_carries_a_system_tab,
    test_socketio_chat_decoded_with_raw_frames_one_click_away,
    test_a_scenario_runs_in_the_tab_passes_then_fails_with_what_arrived,
    test_a_collection_run_leaves_a_tab_per_connection_with_its_frames,
    test_deflate_over_wss_shows_its_parameters_the_certificate_and_wire_sizes,
    # Last: it leaves the app on a 5,000-connection workspace of its own.
    test_window_stays_responsive_during_a_big_rescan,
]


# --- driver lifecycle -------------------------------------------------------------

def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--driver", default="tauri-driver")
    ap.add_argument("--out", default="target/e2e")
    args = ap.parse_args()
    app = os.path.abspath(args.app)
    # A fresh data directory: a first launch, and nothing of the user's touched.
    global DATA, APP
    DATA = tempfile.mkdtemp(prefix="wsbench-e2e-")
    APP = (app, ["--data-dir", DATA])
    if not os.access(app, os.X_OK):
        sys.exit(f"e2e: app binary {app} missing: build it first (cargo build -p wsbench)")
    # E2E_PORT / E2E_NATIVE_PORT move the drivers off 4444/4445 (two runs on one machine).
    port, native = int(os.environ.get("E2E_PORT", "4444")), int(os.environ.get("E2E_NATIVE_PORT", "4445"))
    for port_ in (port, native):
        if port_open(port_):
            sys.exit(f"e2e: port {port_} is taken (an orphaned tauri-driver/WebKitWebDriver?); stop it first")
    driver = subprocess.Popen([args.driver, "--port", str(port), "--native-port", str(native)], stdout=subprocess.DEVNULL, stderr=open(os.path.join(args.out, "driver.log") if os.path.isdir(args.out) else os.devnull, "w"))
    passed = failed = 0
    try:
        wait("tauri-driver and WebKitWebDriver", lambda: port_open(port) and port_open(native), timeout=30)
        d = Driver(port)
        d.start(*APP)
        # Like a user, start once the window shows its first tab (whichever test runs first).
        wait("the app's first screen", lambda: d.js("return !!(window.wsbench && window.wsbench.readyAt)"), timeout=60)
        try:
            # E2E_ONLY=part1,part2 runs only the tests whose names contain one of them.
            only = [x for x in os.environ.get("E2E_ONLY", "").split(",") if x]
            for t in TESTS:
                name = t.__name__
                if only and not any(o in name for o in only):
                    continue
                try:
                    t(d, args.out)
                    passed += 1
                    print(f"ok   {name}")
                except Exception:
                    failed += 1
                    print(f"FAIL {name}")
                    traceback.print_exc()
                    try:
                        d.screenshot(f"{args.out}/{name}.failed.png")
                    except Exception:
                        pass
        finally:
            d.quit()
    finally:
        driver.send_signal(signal.SIGTERM)
        try:
            driver.wait(timeout=10)
        except subprocess.TimeoutExpired:
            driver.send_signal(signal.SIGTERM)
            driver.wait(timeout=10)
    print(f"e2e: {passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    os.makedirs("target/e2e", exist_ok=True)
    main()
