"""Start-up of the real wsbench app, measured without WebDriver (used by app.py).

The app is spawned straight under the current X display on a fresh data directory with
WSBENCH_STARTUP_TRACE=1; it prints one line per milestone on stderr
(src-tauri/src/startup.rs). Start to usable is spawn to "ui-ready": the first tab drawn
and painted, Connect visible. The CPU time the app and its WebKit processes used until
then is read from /proc, since on a shared, loaded machine it moves far less than wall
time does.
"""
import os
import subprocess
import sys
import tempfile
import threading
import time

CLK = os.sysconf("SC_CLK_TCK")


def pct(xs, p):
    if not xs:
        return 0.0
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def family(pid):
    """The process and every descendant (the WebKit web and network processes)."""
    kids = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(p))
    out, todo = [], [pid]
    while todo:
        x = todo.pop()
        out.append(x)
        todo.extend(kids.get(x, []))
    return out


# In the order they usually come. "page-*": the UI's own clock (performance.now()),
# placed on the same timeline through the page's time origin.
MILESTONES = ["main", "engine-ready", "built", "setup", "engine-joined", "page-load-started", "page-origin",
              "page-load-finished", "page-script", "page-data", "page-drawn", "page-frame", "page-painted",
              "ui-ready"]


def parse_phases(words, t0):
    """`origin 1764694321297.1 script 20.4 ...` -> {"page-origin": s, "page-script": s, ...} since t0."""
    kv = dict(zip(words[0::2], (float(x) for x in words[1::2])))
    origin = kv.pop("origin", None)
    if origin is None:
        return {}
    out = {"page-origin": origin / 1000 - t0}
    out.update({f"page-{k}": (origin + v) / 1000 - t0 for k, v in kv.items()})
    return out


def cpu_seconds(pid):
    """user + system CPU time of a process, its threads included (10 ms resolution)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK
    except (OSError, IndexError, ValueError):
        return 0.0


def launch_direct(app, timeout=60):
    """Start the app straight under this X display (no WebDriver) on a fresh data
    directory with WSBENCH_STARTUP_TRACE=1; returns {milestone: s since the spawn}
    from the lines it prints on stderr, up to "ui-ready" (the first tab drawn and
    painted: Connect visible). The app is then stopped with SIGTERM."""
    data = tempfile.mkdtemp(prefix="wsbench-perf-")
    env = dict(os.environ, WSBENCH_STARTUP_TRACE="1")
    t0 = time.time()
    p = subprocess.Popen([os.path.abspath(app), "--data-dir", data], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    marks = {}
    timer = threading.Timer(timeout, p.terminate)
    timer.start()
    try:
        for line in p.stderr:
            parts = line.split()
            if line.startswith("wsbench startup: ") and len(parts) >= 7:
                marks[parts[2]] = float(parts[6]) - t0
                if len(parts) > 8 and parts[7] == "page:":
                    marks.update(parse_phases(parts[8:], t0))
                if parts[2] == "ui-ready":
                    # CPU time the app and its WebKit processes used so far: on a
                    # loaded machine it moves far less than wall time does.
                    by = {q: cpu_seconds(q) for q in family(p.pid)}
                    marks["cpu"] = sum(by.values())
                    marks["cpu-by"] = {comm(q): c for q, c in by.items()}
                    break
    finally:
        timer.cancel()
        p.terminate()
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        if p.stderr:
            p.stderr.close()
    if "ui-ready" not in marks:
        sys.exit(f"perf: {app} printed no 'ui-ready' start-up mark within {timeout} s "
                 f"(is it built with the start-up trace?); got {sorted(marks)}")
    return marks


def run_startup_direct(apps, runs):
    """`runs` rounds; each round launches every app once, in turn (before and after
    side by side). One unmeasured launch of each first (the disk cache). Returns
    {app: [marks, ...]}."""
    for a in apps:
        launch_direct(a)
    out = {a: [] for a in apps}
    for i in range(runs):
        for a in apps:
            m = launch_direct(a)
            out[a].append(m)
            cpu_by = " + ".join(f"{k} {v:.2f}" for k, v in sorted(m.get("cpu-by", {}).items()))
            print(f"  direct launch {i + 1} {os.path.relpath(a)}: usable {m['ui-ready']:.3f} s, CPU {m.get('cpu', 0):.2f} s ({cpu_by}); "
                  + ", ".join(f"{k} {m[k] * 1000:.0f}" for k in MILESTONES if k in m) + " ms", flush=True)
    return out


def startup_table(results):
    """Markdown rows: per app, usable best / median / all, and the median of every milestone."""
    rows = ["| app | start to usable (direct, no WebDriver): best / median (all) | CPU time to usable, all processes: median | median milestones, ms since spawn |",
            "|---|---|---|---|"]
    for a, ms in results.items():
        us = [m["ui-ready"] for m in ms]
        cpu = pct([m.get("cpu", 0) for m in ms], 50)
        med = {k: pct([m[k] for m in ms if k in m], 50) * 1000 for k in MILESTONES if any(k in m for m in ms)}
        rows.append(f"| {os.path.relpath(a)} | {min(us):.3f} / {pct(us, 50):.3f} s ({', '.join(f'{u:.2f}' for u in us)}) | {cpu:.2f} s | "
                    + ", ".join(f"{k} {v:.0f}" for k, v in med.items()) + " |")
    return "\n".join(rows)
