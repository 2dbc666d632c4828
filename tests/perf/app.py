#!/usr/bin/env python3
"""Benchmark of the real wsbench desktop app under Xvfb, driven over W3C WebDriver.

  xvfb-run -a -s "-screen 0 1280x800x24" python3 tests/perf/app.py --app target/release/wsbench
      start-to-usable (5 launches started directly, then 3 over WebDriver), idle
      memory of every process (PSS), a paced 100k msg/s stream of 32 B frames for
      15 s: frames shown/sent, drain lag, tab switch latency, requestAnimationFrame
      gaps, memory per frame. Prints a table.
  ... app.py --app B --before A --startup-only [--direct N]
                                   start-up only, without WebDriver: A and B launched in
                                   turn, N rounds; prints every milestone (see below)
  ... app.py --app ... --check     correctness only: the app starts directly to usable
                                   (its start-up trace); every frame of a short stream
                                   shown and drawn, tab nodes kept, unread badge at 999+
  ... app.py --app ... --soak      issue 15: 50 tabs x 1,000 msg/s x 60 s

Start-up is measured two ways. Directly: the app is spawned under this display with
WSBENCH_STARTUP_TRACE=1 and prints its milestones on stderr (tests/perf/startup.py);
start to usable is spawn to "ui-ready" (first tab drawn and painted). Over WebDriver:
spawn to Connect visible, polled; WebKit in automation mode waits for the driver's
session before it loads the page, so this figure is larger than what a user sees.

Reuses the WebDriver client of tests/e2e/run.py (one keep-alive connection; the
driver is stopped with SIGTERM only). The driver runs on free ports, so it never
collides with an E2E run. The flood server is on 127.0.0.1 port 0. Exits 1 when a
frame is missing or not drawn, or (--check) the tab bar replaced a tab's node.
"""
import argparse
import base64
import hashlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from startup import comm, family, launch_direct, pct, run_startup_direct, startup_table  # noqa: E402
_spec = importlib.util.spec_from_file_location("e2e_run", os.path.join(HERE, "..", "e2e", "run.py"))
e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e2e)
Driver, wait, ws_frame, read_request = e2e.Driver, e2e.wait, e2e.ws_frame, e2e.read_request

PAYLOAD = 32


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- a paced flood server ------------------------------------------------------------

def frame_bytes(conn_no, start, count):
    """`count` text frames of exactly 32 B: 'c<conn> <seq>' padded with dots."""
    out = []
    for i in range(start, start + count):
        p = f"c{conn_no} {i} ".ljust(PAYLOAD, ".").encode()
        out.append(ws_frame(0x1, p))
    return b"".join(out)


class PacedServer:
    """Accepts WebSocket clients; once `go()` is called, sends every client `rate`
    frames/s in 10 ms slices for `secs` seconds. `sent[i]` counts per client."""

    def __init__(self, rate, secs):
        self.rate, self.secs = rate, secs
        self.conns = []
        self.sent = []
        self.lock = threading.Lock()
        self.started = threading.Event()
        self.done_at = None
        self.began_at = None
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.url = f"ws://127.0.0.1:{self.sock.getsockname()[1]}/"
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            data = read_request(conn)
            if data is None:
                conn.close()
                continue
            key = ""
            for line in data.decode("latin-1").split("\r\n"):
                if line.lower().startswith("sec-websocket-key:"):
                    key = line.split(":", 1)[1].strip()
            acc = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
            conn.sendall(f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {acc}\r\n\r\n".encode())
            # Drain whatever the client sends (pings, close) so it never blocks.
            threading.Thread(target=self.drain, args=(conn,), daemon=True).start()
            with self.lock:
                self.conns.append(conn)
                self.sent.append(0)

    @staticmethod
    def drain(conn):
        try:
            while conn.recv(65536):
                pass
        except OSError:
            pass

    def go(self):
        threading.Thread(target=self.pump, daemon=True).start()

    def pump(self):
        slice_s = 0.01
        per = max(1, round(self.rate * slice_s))
        n_slices = round(self.secs / slice_s)
        conns = list(self.conns)
        # Prebuilt payloads: the pump must keep the pace, not format strings.
        chunks = [[frame_bytes(c, s * per, per) for s in range(n_slices)] for c in range(len(conns))] if len(conns) <= 2 else None
        self.began_at = time.time()
        self.started.set()
        t0 = time.perf_counter()
        for s in range(n_slices):
            for c, conn in enumerate(conns):
                data = chunks[c][s] if chunks else frame_bytes(c, s * per, per)
                try:
                    conn.sendall(data)
                    self.sent[c] += per
                except OSError:
                    pass
            delay = t0 + (s + 1) * slice_s - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        self.done_at = time.time()


# --- processes and memory --------------------------------------------------------------

CLK = os.sysconf("SC_CLK_TCK")


def boot_time():
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("btime"):
                return int(line.split()[1])
    return 0


def proc_start(pid):
    """Process start as a Unix time (10 ms resolution)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return boot_time() + int(fields[19]) / CLK


def find_app(binary):
    real = os.path.realpath(binary)
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                if os.readlink(f"/proc/{p}/exe") == real:
                    return int(p)
            except OSError:
                pass
    return None


def pss_kib(pid, field="Pss:"):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pid):
    """user + system clock ticks of a process (all its threads)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def cpu_sample(pid):
    """Ticks per process name of the app's family, this harness (its pump thread), and the
    machine ({busy, total} over every core) at one instant."""
    by = {}
    for p in family(pid):
        by[comm(p)] = by.get(comm(p), 0) + cpu_ticks(p)
    by["harness (python)"] = cpu_ticks(os.getpid())
    # The web process's main thread (its task id is the process id): ns running, and ns
    # runnable but waiting for a CPU (the machine's load, not our work).
    for p in family(pid):
        if comm(p).startswith("WebKitWebProc"):
            try:
                with open(f"/proc/{p}/task/{p}/schedstat") as f:
                    run, delay = f.read().split()[:2]
                by["web main thread running"] = int(run) * CLK / 1e9
                by["web main thread waiting for a CPU"] = int(delay) * CLK / 1e9
            except (OSError, ValueError):
                pass
    with open("/proc/stat") as f:
        t = [int(x) for x in f.readline().split()[1:]]
    return by, {"busy": sum(t) - t[3] - t[4], "total": sum(t)}


def cpu_share(a, b, secs):
    """Cores used per process between two samples, and the machine's busy share."""
    (pa, ma), (pb, mb) = a, b
    per = {k: (pb.get(k, 0) - v) / CLK / secs for k, v in pa.items()}
    per["machine busy (all processes, of 1.0)"] = (mb["busy"] - ma["busy"]) / max(1, mb["total"] - ma["total"])
    return per


def smaps(pid):
    """{(process name, mapping): PSS KiB} over the app's processes; anonymous mappings
    are named by their kind ([heap], [anon], [stack]...)."""
    out = {}
    for p in family(pid):
        name = comm(p)
        try:
            with open(f"/proc/{p}/smaps") as f:
                cur = None
                for line in f:
                    head = line.split()
                    if "-" in head[0] and not head[0].endswith(":"):
                        cur = (name, head[5] if len(head) > 5 else "[anon]")
                    elif head[0] == "Pss:" and cur:
                        out[cur] = out.get(cur, 0) + int(head[1])
        except OSError:
            pass
    return out


def memory(pid):
    """{name: PSS MiB} for the app's processes, and the total."""
    by = {}
    for p in family(pid):
        name = comm(p)
        by[name] = by.get(name, 0) + pss_kib(p)
    total = sum(by.values())
    return {k: v / 1024 for k, v in by.items()}, total / 1024


# --- page helpers ------------------------------------------------------------------------

def js_async(d, body, *args):
    """Run `body` (may use await) as an async script; it must `return` a value."""
    script = f"const done = arguments[arguments.length - 1]; (async () => {{ {body} }})().then(done, e => done({{error: String(e)}}));"
    return d.req("POST", d.s("/execute/async"), {"script": script, "args": list(args)})


START_RAF = """
// Each animation frame: its start, and when the frame's rendering (every rAF callback,
// style, layout, paint) was over: a message posted in the frame runs after it.
window.__perf = { gaps: [], work: [], last: 0, on: true };
const ch = new MessageChannel();
ch.port1.onmessage = (e) => { const p = window.__perf; if (p.on) p.work.push(performance.now() - e.data); };
const loop = (t) => { const p = window.__perf; if (!p.on) return;
  if (p.last) p.gaps.push(t - p.last); p.last = t; ch.port2.postMessage(t); requestAnimationFrame(loop); };
requestAnimationFrame(loop);
window.__wsbenchTrace = [];
return 1;
"""

STOP_RAF = "const p = window.__perf; p.on = false; return p.gaps;"
# The frames' work and the UI's traced steps ([name, start, ms, n]); tracing off again.
STOP_TRACE = "const t = window.__wsbenchTrace ?? []; window.__wsbenchTrace = undefined; return { work: window.__perf.work, trace: t };"

TAB_SWITCH = """
const id = arguments[0];
const el = document.querySelector(`.tab[data-tab='${id}']`);
const t0 = performance.now();
el.click();
const raf = () => new Promise(r => requestAnimationFrame(r));
for (let i = 0; i < 200; i++) {
  await raf();
  const a = document.querySelector('.tab.active');
  if (a && a.dataset.tab === String(id) && window.wsbench.model.active === id) { await raf(); return performance.now() - t0; }
}
return -1;
"""

STATS = "const t = window.wsbench.model.tabs.get(arguments[0]); return t ? t.stats : null;"


class Bench:
    def __init__(self, args):
        self.args = args
        self.app = os.path.abspath(args.app)
        self.port, self.native = free_port(), free_port()
        self.driver = None
        self.d = None
        self.data = None

    def __enter__(self):
        log = open(os.path.join(self.args.out, "driver.log"), "w")
        self.driver = subprocess.Popen(
            ["tauri-driver", "--port", str(self.port), "--native-port", str(self.native)],
            stdout=subprocess.DEVNULL, stderr=log)
        wait("tauri-driver and WebKitWebDriver", lambda: e2e.port_open(self.port) and e2e.port_open(self.native), timeout=30)
        return self

    def __exit__(self, *exc):
        self.quit()
        self.driver.send_signal(signal.SIGTERM)
        try:
            self.driver.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.driver.send_signal(signal.SIGTERM)
            self.driver.wait(timeout=10)

    def quit(self):
        if self.d:
            self.d.quit()
            self.d = None

    def launch(self):
        """Start the app on a fresh data directory; returns the start-up timings (s)."""
        self.quit()
        self.data = tempfile.mkdtemp(prefix="wsbench-perf-")
        self.d = Driver(self.port)
        self.d.conn.timeout = 300
        self.d.start(self.app, ["--data-dir", self.data])
        pid = wait("the app process", lambda: find_app(self.app), timeout=30)
        self.pid = pid
        t_start = proc_start(pid)
        usable = wait("Connect visible", lambda: self.d.js(
            "const b=document.querySelector(\"button[aria-label='Connect']\"); return !!(b && b.offsetParent);") and time.time(),
            timeout=60, every=0.005)
        t = self.d.js("""
          const nav = performance.getEntriesByType('navigation')[0];
          const paint = performance.getEntriesByType('paint').map(e => [e.name, e.startTime]);
          return { origin: performance.timeOrigin, dcl: nav ? nav.domContentLoadedEventEnd : null,
                   load: nav ? nav.loadEventEnd : null, paint, ready: window.wsbench?.readyAt ?? null };""")
        o = t["origin"] / 1000
        fp = dict(t["paint"]).get("first-paint") or dict(t["paint"]).get("first-contentful-paint")
        return {
            "usable": usable - t_start,
            "page": o - t_start,
            "dcl": o + (t["dcl"] or 0) / 1000 - t_start if t["dcl"] else None,
            "paint": o + fp / 1000 - t_start if fp else None,
            "ready": o + t["ready"] / 1000 - t_start if t["ready"] else None,
        }

    def active_id(self):
        return self.d.js("return window.wsbench.model.active")

    def new_tab(self, url):
        d = self.d
        n = d.js("return window.wsbench.model.order.length")
        # With many tabs the + button is scrolled out of the bar: click it from script.
        d.js("document.querySelector(\"button[aria-label='New tab']\").click()")
        wait("a new tab", lambda: d.js("return window.wsbench.model.order.length") == n + 1 and d.js("return !!document.querySelector('#url')"))
        tid = self.active_id()
        d.set_value("#url", url)
        return tid

    def connect_active(self):
        self.d.click("button[aria-label='Connect']")
        wait("Open", lambda: (self.d.text("#state-line") or "").startswith("Open"), timeout=30)


def fmt(x, unit="", nd=2):
    return "-" if x is None else f"{x:.{nd}f}{unit}"


def run_startup(b, runs):
    out = []
    for i in range(runs):
        out.append(b.launch())
        print(f"  launch {i + 1}: usable {fmt(out[-1]['usable'], ' s')}, page load from {fmt(out[-1]['page'], ' s')}, "
              f"DOMContentLoaded {fmt(out[-1]['dcl'], ' s')}, first paint {fmt(out[-1]['paint'], ' s')}, UI ready {fmt(out[-1]['ready'], ' s')}", flush=True)
    return out


def run_stream(b, rate, secs, measure=True):
    """Two tabs: a streaming one and an idle one to switch to. Returns figures."""
    d = b.d
    idle_tab = b.active_id()
    srv = PacedServer(rate, secs)
    tid = b.new_tab(srv.url)
    b.connect_active()
    wait("the server sees the client", lambda: len(srv.conns) == 1)
    time.sleep(1.0)
    idle_gaps = []
    if measure:
        # The same frame loop with no stream: what the machine's load alone costs.
        d.js(START_RAF)
        time.sleep(5)
        idle_gaps = d.js(STOP_RAF)
    by0, mem0 = memory(b.pid)
    anon0 = sum(pss_kib(p, "Pss_Anon:") for p in family(b.pid))
    maps0 = smaps(b.pid) if b.args.smaps else {}
    if measure:
        d.js(START_RAF)
    srv.go()
    srv.started.wait()
    cpu0 = cpu_sample(b.pid)
    switches = []
    if not measure:
        # Watch the stream from the other tab: the streaming tab's unread count
        # changes every frame, and its node must stay the node a user clicks.
        js_async(d, TAB_SWITCH, idle_tab)
        d.js("document.querySelectorAll('.tab').forEach(t => { t.__perfMark = t.dataset.tab; }); return 1;")
    # Switch away and back every ~1.5 s while the stream runs.
    while srv.done_at is None:
        time.sleep(1.5 if measure else 0.5)
        if measure and srv.done_at is None:
            switches.append(js_async(d, TAB_SWITCH, idle_tab))
            switches.append(js_async(d, TAB_SWITCH, tid))
            if b.args.shot and len(switches) == 4:
                d.screenshot(b.args.shot)  # what a user sees mid-stream
    cpu = cpu_share(cpu0, cpu_sample(b.pid), time.time() - srv.began_at)
    sent = srv.sent[0]
    got = 0
    end = time.time() + 120
    while time.time() < end:
        got = (d.js(STATS, tid) or {}).get("framesIn", 0)
        if got >= sent:
            break
        time.sleep(0.02)
    drained = time.time()
    kept = True
    if not measure:
        kept = d.js("return Array.from(document.querySelectorAll('.tab')).every(t => t.__perfMark === t.dataset.tab)")
        unread = wait("the unread badge", lambda: d.js(f"return document.querySelector(\".tab[data-tab='{tid}'] .unread\")?.textContent"))
        assert unread == "999+", f"unread badge shows {unread!r}"
        assert js_async(d, TAB_SWITCH, tid) >= 0, "switching back to the streaming tab"
    gaps = d.js(STOP_RAF) if measure else []
    traced = d.js(STOP_TRACE) if measure else {"work": [], "trace": []}
    by1, mem1 = memory(b.pid)
    # The tail a user sees: the last row drawn is the last frame sent.
    last_payload = f"c0 {sent - 1} "
    shown_last = wait("the last frame drawn", lambda: d.js(
        "return Array.from(document.querySelectorAll('.frame-row')).some(r => r.textContent.includes(arguments[0]))",
        last_payload), timeout=30)
    # The same once the web process's garbage collector and the allocators have settled.
    time.sleep(5 if measure else 0)
    by2, mem2 = memory(b.pid)
    anon2 = sum(pss_kib(p, "Pss_Anon:") for p in family(b.pid))
    maps = smaps(b.pid) if b.args.smaps else {}
    # What the page holds once the stream is over (a leak would grow with the stream).
    held = d.js("""const t = window.wsbench.model.tabs.get(arguments[0]);
      return { ipcCallbacks: window.__TAURI_INTERNALS__?.callbacks?.size ?? null, previews: t.previews.size,
               rows: window.wsbench.domRowCount(), nodes: document.getElementsByTagName('*').length,
               resourceTimings: performance.getEntriesByType('resource').length };""", tid) if b.args.smaps else {}
    grown = sorted(((v - maps0.get(k, 0), k) for k, v in maps.items()), reverse=True)
    return {
        "held": held,
        "smaps_grown": [(f"{k[0]} {k[1]}", kib * 1024 / max(1, got)) for kib, k in grown[:8] if kib > 0],
        "sent": sent, "shown": got, "last_row": bool(shown_last), "secs": srv.done_at - srv.began_at, "kept_nodes": kept,
        "drain": drained - srv.done_at, "switch": [s for s in switches if isinstance(s, (int, float))],
        "gaps": gaps, "idle_gaps": idle_gaps, "mem0": mem0, "mem1": mem1,
        "per_frame": (mem1 - mem0) * 1048576 / max(1, got),
        "per_frame_by": {k: (by1.get(k, 0) - v) * 1048576 / max(1, got) for k, v in by0.items()},
        "per_frame_settled": (mem2 - mem0) * 1048576 / max(1, got),
        # Anonymous memory only: shared library pages' PSS moves with other processes on the machine.
        "per_frame_anon": (anon2 - anon0) * 1024 / max(1, got),
        "per_frame_settled_by": {k: (by2.get(k, 0) - v) * 1048576 / max(1, got) for k, v in by0.items()},
        "cpu": cpu, "work": traced["work"], "trace": traced["trace"],
    }


SET_CAP = """
const [id, cap, done] = arguments; const tab = window.wsbench.model.tabs.get(id);
tab.config.log = { ...(tab.config.log ?? {}), maxFrames: cap };
window.__TAURI__.core.invoke('set_config', { id, config: tab.config }).then(() => done(1), e => done(String(e?.message ?? e)));
"""


def run_soak(b, tabs, rate, secs, cap):
    d = b.d
    srv = PacedServer(rate, secs)
    ids = []
    for i in range(tabs):
        ids.append(b.new_tab(srv.url))
        ok = d.req("POST", d.s("/execute/async"), {"script": SET_CAP, "args": [ids[-1], cap]})
        assert ok == 1, f"setting the log cap failed: {ok}"
        b.connect_active()
    wait("every client connected", lambda: len(srv.conns) == tabs, timeout=60)
    first = ids[0]
    _, mem0 = memory(b.pid)
    d.js(START_RAF)
    srv.go()
    srv.started.wait()
    samples, switches, clicks = [], [], []
    k = 0
    while srv.done_at is None:
        time.sleep(2.0)
        by, total = memory(b.pid)
        samples.append((time.time() - srv.began_at, total, by.get("wsbench", 0), by.get("WebKitWebProces", 0)))
        switches.append(js_async(d, TAB_SWITCH, ids[k % tabs]))
        k += 7
        # Click to effect: the Type filter select, changed as a user would.
        clicks.append(js_async(d, """
          const s = document.getElementById('filter-type'); const t0 = performance.now();
          s.value = s.value ? '' : 'text'; s.dispatchEvent(new Event('change', {bubbles: true}));
          await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
          return performance.now() - t0;"""))
    d.js("const s = document.getElementById('filter-type'); if (s.value) { s.value=''; s.dispatchEvent(new Event('change',{bubbles:true})); }")
    sent = sum(srv.sent)
    end = time.time() + 180
    logged = 0
    while time.time() < end:
        logged = d.js("let n=0; for (const id of arguments[0]) n += window.wsbench.model.tabs.get(id)?.stats?.framesIn ?? 0; return n;", ids)
        if logged >= sent:
            break
        time.sleep(0.2)
    drained = time.time()
    gaps = d.js(STOP_RAF)
    d.screenshot(os.path.join(b.args.out, "soak.png"))
    per_tab = d.js("return arguments[0].map(id => { const s = window.wsbench.model.tabs.get(id).stats; return [s.framesIn, s.heldFrames, s.evictedFrames, s.framesOut]; })", ids)
    _, mem1 = memory(b.pid)
    return {"sent": sent, "logged": logged, "drain": drained - srv.done_at, "samples": samples, "switch": switches,
            "clicks": clicks, "gaps": gaps, "mem0": mem0, "mem1": mem1, "per_tab": per_tab, "per_conn_sent": list(srv.sent),
            "held": sum(p[1] for p in per_tab), "evicted": sum(p[2] for p in per_tab), "out": sum(p[3] for p in per_tab)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", default="target/release/wsbench")
    ap.add_argument("--out", default="target/perf")
    ap.add_argument("--check", action="store_true", help="correctness only: every frame of a short stream shown")
    ap.add_argument("--soak", action="store_true", help="50 tabs x 1,000 msg/s x 60 s")
    ap.add_argument("--rate", type=int, default=100_000)
    ap.add_argument("--secs", type=float, default=15)
    ap.add_argument("--launches", type=int, default=3)
    ap.add_argument("--tabs", type=int, default=50)
    ap.add_argument("--cap", type=int, default=10_000, help="soak: each tab's log cap (frames), reached after cap/rate seconds")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--shot", help="stream: save a screenshot of the window mid-stream to this PNG")
    ap.add_argument("--smaps", action="store_true", help="stream: also print which mappings grew (B per frame)")
    ap.add_argument("--no-stream", action="store_true", help="start-up and idle memory only")
    ap.add_argument("--direct", type=int, default=5, help="launches started straight, without WebDriver (start-up trace)")
    ap.add_argument("--startup-only", action="store_true",
                    help="only the direct launches, of --app and every --before binary, in turn")
    ap.add_argument("--before", action="append", default=[], help="with --startup-only: another binary to compare")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for a in [args.app] + args.before:
        if not os.access(a, os.X_OK):
            sys.exit(f"perf: app binary {a} missing: build it first (cargo build --release -p wsbench --features tauri/custom-protocol)")
    if args.startup_only:
        print(startup_table(run_startup_direct(args.before + [args.app], args.direct)))
        return
    ok = True
    figures = {}
    direct = run_startup_direct([args.app], args.direct)[args.app] if not (args.check or args.soak) and args.direct else []
    if args.check:
        # The app reaches usable without WebDriver and its start-up trace still says so.
        m = launch_direct(args.app)
        print(f"perf check: started directly, usable (first tab drawn and painted) after {m['ui-ready']:.2f} s")
    with Bench(args) as b:
        if args.check:
            b.launch()
            r = run_stream(b, 20_000, 3, measure=False)
            ok = r["shown"] == r["sent"] and r["last_row"] and r["kept_nodes"]
            print(f"perf check: {r['shown']} of {r['sent']} frames shown, last frame drawn: {r['last_row']}, "
                  f"tab nodes kept through the stream: {r['kept_nodes']}")
        elif args.soak:
            b.launch()
            rate = 1000 if args.rate == 100_000 else args.rate
            secs = 60 if args.secs == 15 else args.secs
            r = run_soak(b, args.tabs, rate, secs, args.cap)
            figures = r
            ok = r["logged"] == r["sent"] and r["held"] + r["evicted"] == r["logged"] + r["out"]
            sw = [x for x in r["switch"] if isinstance(x, (int, float)) and x >= 0]
            ck = [x for x in r["clicks"] if isinstance(x, (int, float))]
            print(f"\nsoak: {args.tabs} tabs x {rate} msg/s x {secs:.0f} s")
            print("| figure | value |\n|---|---|")
            print(f"| frames sent / logged (held + evicted by the {args.cap:,}-frame cap per tab) | {r['sent']:,} / {r['logged']:,} ({r['held']:,} + {r['evicted']:,}) |")
            print(f"| drain after the last send | {r['drain']:.2f} s |")
            print(f"| memory (PSS, all processes) before / after | {r['mem0']:.0f} / {r['mem1']:.0f} MiB |")
            print("| memory over time (s: total = app + web process MiB) | " + ", ".join(f"{t:.0f}: {m:.0f} = {a:.0f} + {w:.0f}" for t, m, a, w in r["samples"]) + " |")
            print(f"| tab switch p50 / max | {pct(sw, 50):.0f} / {max(sw or [0]):.0f} ms ({len(sw)} switches) |")
            print(f"| click to effect (filter) p50 / max | {pct(ck, 50):.0f} / {max(ck or [0]):.0f} ms ({len(ck)} clicks) |")
            print(f"| rAF gap p50 / p99 / max | {pct(r['gaps'], 50):.1f} / {pct(r['gaps'], 99):.1f} / {max(r['gaps'] or [0]):.1f} ms |")
            bad = [(i, s, p) for i, (s, p) in enumerate(zip(r["per_conn_sent"], r["per_tab"])) if p[0] != s]
            if bad:
                print(f"tabs with missing frames (index, sent, [framesIn, held, dropped]): {bad[:10]}")
        else:
            st = run_startup(b, args.launches)
            time.sleep(3)
            by, total = memory(b.pid)
            figures["startup"], figures["idle"] = st, {"total": total, **by}
            us = [s["usable"] for s in st]
            du = [m["ui-ready"] for m in direct]
            if du:
                print(f"| start to usable, started directly | {', '.join(f'{u:.2f}' for u in du)} s |")
            print(f"| start to usable, over WebDriver | {', '.join(f'{u:.2f}' for u in us)} s |\n| idle PSS | {total:.0f} MiB: " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(by.items())) + " |")
            if args.no_stream:
                return
            r = run_stream(b, args.rate, args.secs)
            figures["stream"] = {k: v for k, v in r.items()}
            ok = r["shown"] == r["sent"] and r["last_row"]
            sw = [x for x in r["switch"] if x >= 0]
            us = [s["usable"] for s in st]
            print(f"\napp benchmark ({os.path.relpath(args.app)})")
            print("| figure | value |\n|---|---|")
            du = [m["ui-ready"] for m in direct]
            if du:
                print(f"| start to usable window (Connect visible), started directly, {len(du)} launches, best / median | "
                      f"{min(du):.2f} / {pct(du, 50):.2f} s ({', '.join(f'{u:.2f}' for u in du)}) |")
            print(f"| start to usable window (Connect visible), over WebDriver, {len(us)} launches | {', '.join(f'{u:.2f}' for u in us)} s |")
            print(f"| ... of which: page load starts / first paint / UI ready | {fmt(st[-1]['page'], ' s')} / {fmt(st[-1]['paint'], ' s')} / {fmt(st[-1]['ready'], ' s')} |")
            print(f"| idle memory, all processes (PSS) | {total:.0f} MiB: " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(by.items())) + " |")
            print(f"| stream: frames shown / sent ({args.rate:,} msg/s x {r['secs']:.1f} s) | {r['shown']:,} / {r['sent']:,}; last frame drawn: {r['last_row']} |")
            print(f"| stream: drain lag after the last send | {r['drain']:.2f} s |")
            print(f"| stream: tab switch p50 / max | {pct(sw, 50):.0f} / {max(sw or [0]):.0f} ms ({len(sw)} switches) |")
            g = r["gaps"]
            print(f"| stream: rAF gap p50 / p99 / max | {pct(g, 50):.1f} / {pct(g, 99):.1f} / {max(g or [0]):.1f} ms ({len(g)} frames, {sum(1 for x in g if x > 100)} over 100 ms) |")
            ig = r["idle_gaps"]
            print(f"| idle (no stream): rAF gap p50 / p99 / max | {pct(ig, 50):.1f} / {pct(ig, 99):.1f} / {max(ig or [0]):.1f} ms ({len(ig)} frames) |")
            print(f"| stream: frame work (rAF callbacks + style/layout/paint) p50 / p99 / max | {pct(r['work'], 50):.1f} / {pct(r['work'], 99):.1f} / {max(r['work'] or [0]):.1f} ms |")
            for name in sorted({t[0] for t in r["trace"]}):
                ms = [t[2] for t in r["trace"] if t[0] == name]
                ns = [t[3] for t in r["trace"] if t[0] == name]
                print(f"| stream: UI step '{name}' p50 / p99 / max (calls, mean n) | {pct(ms, 50):.2f} / {pct(ms, 99):.2f} / {max(ms):.2f} ms ({len(ms)}, {sum(ns) / len(ns):.1f}) |")
            print("| stream: CPU, cores used | " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(r["cpu"].items())) + " |")
            print(f"| stream: memory growth per frame (PSS) | {r['per_frame']:.0f} B ({r['mem0']:.0f} -> {r['mem1']:.0f} MiB): "
                  + ", ".join(f"{k} {v:.0f} B" for k, v in sorted(r["per_frame_by"].items())) + " |")
            if r["smaps_grown"]:
                print("| stream: mappings that grew (B per frame) | " + ", ".join(f"{k} {v:.1f}" for k, v in r["smaps_grown"]) + " |")
                print("| stream: what the page holds after it | " + ", ".join(f"{k} {v}" for k, v in r["held"].items()) + " |")
            print(f"| stream: ... 5 s later | {r['per_frame_settled']:.0f} B (anonymous memory only: {r['per_frame_anon']:.0f} B): "
                  + ", ".join(f"{k} {v:.0f} B" for k, v in sorted(r["per_frame_settled_by"].items())) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, default=str)
    if not ok:
        print("perf: FAIL: a frame is missing or not drawn, or the tab bar replaced a tab's node (see above)")
        sys.exit(1)


if __name__ == "__main__":
    main()
