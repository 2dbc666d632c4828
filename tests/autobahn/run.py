#!/usr/bin/env python3
"""Run the Autobahn WebSocket *client* conformance suite against a client CLI.

The fuzzing server is kosoku (PyPI, an Autobahn-compatible rewrite), started by
this script on 127.0.0.1 with an OS-chosen port. The client under test is any
program with this contract (wsbench-cli's):

    CLIENT connect URL --count 1   print the first text message received, exit 0
    CLIENT connect URL --echo      echo every data message back with the same
                                   opcode until the server closes, then exit
                                   (any exit code; only the report counts)

Flow: getCaseCount -> runCase?case=1..N&agent=AGENT -> updateReports?agent=AGENT,
then kosoku writes OUT/reports/index.json (Autobahn format) and exits. This
script summarises it (stdout and OUT/summary.md, Markdown) and exits 0 only if
every case is acceptable:

    every group (1-10, and 12, 13: permessage-deflate) behavior and behaviorClose
    in {OK, NON-STRICT, INFORMATIONAL}

Exit codes: 0 all acceptable, 1 conformance failures (listed), 2 setup error
(client missing, kosoku not installable / not starting, protocol driver broken).

Standard library only; kosoku is installed with pip when missing.

    python3 tests/autobahn/run.py --client target/release/wsbench-cli
    python3 tests/autobahn/run.py --client PATH --cases '1.*,2.*' --out /tmp/ab
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

KOSOKU_REQUIREMENT = os.environ.get("WSBENCH_KOSOKU_REQUIREMENT", "kosoku==0.1.0")
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "target" / "autobahn"
HOST = "127.0.0.1"

ACCEPTABLE = ("OK", "NON-STRICT", "INFORMATIONAL")

CATEGORIES = {
    "0": "Handshake",
    "1": "Framing",
    "2": "Pings/Pongs",
    "3": "Reserved Bits",
    "4": "Opcodes",
    "5": "Fragmentation",
    "6": "UTF-8 Handling",
    "7": "Close Handling",
    "8": "Misc",
    "9": "Limits/Performance",
    "10": "Misc",
    "12": "Compression (payloads)",
    "13": "Compression (parameters)",
}

# Column order for the tables; anything else kosoku reports is appended.
BEHAVIOR_ORDER = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED", "ERROR", "MISSING"]
CLOSE_ORDER = [
    "OK", "INFORMATIONAL", "UNIMPLEMENTED", "NON-STRICT", "FAILED", "FAILED BY CLIENT",
    "WRONG CODE", "UNCLEAN", "NO_CLOSE", "ERROR", "MISSING",
]


class SetupError(Exception):
    """Anything that prevents running the suite at all (exit 2)."""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def case_key(case_id: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in case_id.split("."))


def split_patterns(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return out


# --------------------------------------------------------------------------
# kosoku: find or install
# --------------------------------------------------------------------------

def _private_venv() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wsbench" / "kosoku-venv"


def find_kosoku() -> str | None:
    """Path of a `kosoku` console script, or None."""
    candidates = [shutil.which("kosoku")]
    for scheme in (None, f"{os.name}_user"):
        try:
            d = sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")
        except KeyError:
            continue
        candidates.append(os.path.join(d, "kosoku"))
    candidates.append(str(_private_venv() / "bin" / "kosoku"))
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            # pyenv shims exist for every version; make sure this one resolves.
            if "/shims/" in c:
                r = subprocess.run([c, "--help"], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   timeout=60)
                if r.returncode != 0:
                    continue
            return c
    return None


def _pip(python: str, extra: list[str]) -> subprocess.CompletedProcess:
    cmd = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
           *extra, KOSOKU_REQUIREMENT]
    log(f"[autobahn] $ {' '.join(cmd)}")
    env = dict(os.environ, PIP_NO_INPUT="1")
    try:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=600, env=env)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(cmd, 124, stdout=f"timed out: {e}")


def ensure_kosoku() -> str:
    found = find_kosoku()
    if found:
        return found
    log(f"[autobahn] kosoku not found; installing {KOSOKU_REQUIREMENT}")
    py = sys.executable
    in_venv = sys.prefix != getattr(sys, "base_prefix", sys.prefix)
    site_writable = os.access(sysconfig.get_path("purelib"), os.W_OK)
    attempts: list[tuple[str, list[str]]] = []
    if in_venv or site_writable:
        attempts.append((py, []))
    else:
        attempts.append((py, ["--user"]))
    outputs = []
    for python, extra in attempts:
        r = _pip(python, extra)
        outputs.append(r.stdout or "")
        if r.returncode == 0 and find_kosoku():
            return find_kosoku()  # type: ignore[return-value]
    # Externally managed interpreter (PEP 668), no pip, ...: private venv.
    venv = _private_venv()
    log(f"[autobahn] falling back to a private venv at {venv}")
    try:
        if not (venv / "bin" / "python").exists():
            subprocess.run([py, "-m", "venv", str(venv)], check=True, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=300)
        r = _pip(str(venv / "bin" / "python"), [])
        outputs.append(r.stdout or "")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
        outputs.append(f"venv creation failed: {e} {getattr(e, 'stdout', '') or ''}")
    found = find_kosoku()
    if found:
        return found
    tail = "\n".join("\n".join(o.strip().splitlines()[-8:]) for o in outputs)
    raise SetupError(
        f"cannot install {KOSOKU_REQUIREMENT} with pip (tried {py} -m pip, then a venv at "
        f"{venv}). Last pip output:\n{tail}"
    )


def kosoku_version(kosoku: str) -> str:
    """Version of the kosoku distribution behind the console script."""
    python = None
    try:
        with open(kosoku, "rb") as f:
            first = f.readline().decode("utf-8", "replace").strip()
        if first.startswith("#!") and "python" in first:
            python = first[2:].strip().split()[0]
    except OSError:
        pass
    if python is None or "/shims/" in kosoku:
        python = None
    code = "import importlib.metadata as m; print(m.version('kosoku'))"
    for exe in filter(None, (python, sys.executable)):
        try:
            r = subprocess.run([exe, "-c", code], stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if r.returncode == 0 and r.stdout.strip():
            return r.stdout.strip()
    return "unknown"


# --------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------

def kill_group(proc: subprocess.Popen, grace: float = 3.0) -> None:
    """SIGTERM the process group of proc, then SIGKILL after `grace` seconds."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


class Kosoku:
    """The fuzzing server, its log, and the port it bound."""

    LISTEN_RE = re.compile(r"listening on ws://([^:/\s]+):(\d+)")

    def __init__(self, exe: str, outdir: Path, logpath: Path, include: list[str],
                 exclude: list[str], port: int):
        cmd = [exe, "-m", "fuzzingserver", f"{HOST}:{port}", "-o", str(outdir)]
        for p in include:
            cmd += ["-i", p]
        for p in exclude:
            cmd += ["-x", p]
        self.cmd = cmd
        self.requested_port = port
        self.port: int | None = None
        self._port_event = threading.Event()
        self.logpath = logpath
        self._log = open(logpath, "w", encoding="utf-8")
        log(f"[autobahn] $ {' '.join(cmd)}")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1,
                                     start_new_session=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._log.write(line)
            self._log.flush()
            m = self.LISTEN_RE.search(line)
            if m and self.port is None:
                self.port = int(m.group(2))
                self._port_event.set()
        self._port_event.set()

    def wait_ready(self, timeout: float = 60.0) -> int:
        """Wait for kosoku's "listening on ws://HOST:PORT" line (printed once
        bound; with port 0 it carries the OS-chosen port), then check the port
        accepts connections. A bind failure makes kosoku exit instead."""
        deadline = time.monotonic() + timeout
        self._port_event.wait(timeout)
        if self.port is None:
            if self.proc.poll() is not None:
                raise SetupError(self._why(f"exited with code {self.proc.returncode}"))
            raise SetupError(self._why(f"did not report its listening address within {timeout:.0f}s"))
        if self.requested_port and self.port != self.requested_port:
            raise SetupError(self._why(f"listens on {self.port}, not the requested {self.requested_port}"))
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SetupError(self._why(f"exited with code {self.proc.returncode}"))
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    return self.port
            except OSError:
                time.sleep(0.2)
        raise SetupError(self._why(f"is not accepting connections on {HOST}:{self.port}"))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, n: int = 20) -> str:
        try:
            lines = self.logpath.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join("    " + line for line in lines[-n:])

    def _why(self, what: str) -> str:
        time.sleep(0.3)
        return f"kosoku fuzzingserver {what}.\n  command: {' '.join(self.cmd)}\n  log ({self.logpath}):\n{self.log_tail()}"

    def stop(self, wait: float) -> int | None:
        """Give kosoku `wait` seconds to exit by itself (it does after writing
        the reports), then SIGTERM it, then SIGKILL it after 10 s more."""
        try:
            self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            if wait:
                log(f"[autobahn] kosoku still running after {wait:.0f}s; sending SIGTERM")
            kill_group(self.proc, grace=10.0)
        self._reader.join(timeout=5)
        self._log.close()
        return self.proc.returncode


class Client:
    def __init__(self, exe: str, logpath: Path):
        self.exe = exe
        self.log = open(logpath, "w", encoding="utf-8", errors="replace")

    def run(self, url: str, mode: list[str], timeout: float, capture: bool = False,
            keep_stdout: bool = False):
        """Run one client connection. Returns (rc or None on timeout, stdout, secs).

        stdout is captured (capture), appended to client.log (keep_stdout) or
        discarded: wsbench-cli prints every message it receives, and 9.* alone
        would put hundreds of MiB of payload into the log. stderr is kept."""
        cmd = [self.exe, "connect", url, *mode]
        self.log.write(f"=== {' '.join(cmd)}\n")
        self.log.flush()
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE if capture else (self.log if keep_stdout else subprocess.DEVNULL),
                                stderr=self.log, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
            rc: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            kill_group(proc)
            out, _ = proc.communicate()
            rc = None
            self.log.write(f"=== TIMEOUT after {timeout:.0f}s, killed\n")
        except BaseException:  # Ctrl-C / SIGTERM of the runner: take the client down too
            kill_group(proc)
            raise
        dt = time.monotonic() - t0
        if rc is not None:
            self.log.write(f"=== exit {rc} ({dt:.2f}s)\n")
        self.log.flush()
        text = out.decode("utf-8", "replace") if isinstance(out, bytes) else ""
        return rc, text, dt

    def close(self) -> None:
        self.log.close()


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------

def load_index(path: Path, agent: str) -> dict[str, dict]:
    if not path.is_file():
        raise SetupError(f"kosoku wrote no {path} (see kosoku.log next to it)")
    data = json.loads(path.read_text(encoding="utf-8"))
    if agent in data:
        return data[agent]
    if len(data) == 1:
        (only,) = data
        log(f"[autobahn] warning: index.json has agent {only!r}, not {agent!r}; using it")
        return data[only]
    raise SetupError(f"agent {agent!r} not in {path} (agents: {sorted(data)})")


def acceptable(case_id: str, value: str) -> bool:
    del case_id  # every group, compression included, is held to the same bar
    return value in ACCEPTABLE


def columns(counters: list[Counter], order: list[str]) -> list[str]:
    seen = set().union(*counters) if counters else set()
    cols = [c for c in order if c in seen]
    cols += sorted(seen - set(cols))
    return cols


def md_table(title: str, groups: dict[str, Counter], total: Counter, order: list[str]) -> list[str]:
    cols = columns(list(groups.values()) + [total], order)
    head = ["Group", "Cases", *cols]
    lines = [f"**{title}**", "", "| " + " | ".join(head) + " |",
             "|" + "|".join(["---"] * 2 + ["---:"] * len(cols)) + "|"]
    for g in sorted(groups, key=lambda x: int(x) if x.isdigit() else 999):
        c = groups[g]
        name = f"{g}.* {CATEGORIES.get(g, '')}".strip()
        lines.append("| " + " | ".join([name, str(sum(c.values()))] + [str(c.get(k, 0) or "") for k in cols]) + " |")
    lines.append("| " + " | ".join(["**Total**", f"**{sum(total.values())}**"]
                                   + [f"**{total.get(k, 0)}**" for k in cols]) + " |")
    return lines


def summarize(results: dict[str, dict], expected_count: int, meta: dict) -> tuple[str, list[str], int, int]:
    """Returns (markdown, offending lines, passing cases, failing cases)."""
    ids = sorted(results, key=case_key)
    by_group: dict[str, Counter] = defaultdict(Counter)
    close_by_group: dict[str, Counter] = defaultdict(Counter)
    total, close_total = Counter(), Counter()
    offending: list[str] = []
    passed = 0
    for cid in ids:
        r = results[cid]
        g = cid.split(".")[0]
        b, bc = r.get("behavior", "MISSING"), r.get("behaviorClose", "MISSING")
        by_group[g][b] += 1
        total[b] += 1
        close_by_group[g][bc] += 1
        close_total[bc] += 1
        bad = []
        if not acceptable(cid, b):
            bad.append(f"behavior={b}")
        if not acceptable(cid, bc):
            bad.append(f"behaviorClose={bc}")
        if bad:
            extra = f" remoteCloseCode={r.get('remoteCloseCode')}"
            offending.append(f"  {cid:<10} {' '.join(bad)}{extra}  [{r.get('reportfile', '')}]")
        else:
            passed += 1
    missing = max(0, expected_count - len(ids))
    if missing:
        total["MISSING"] += missing
        offending.append(f"  {missing} case(s) announced by getCaseCount are missing from index.json")

    md = [f"### Autobahn client conformance: `{meta['agent']}`", ""]
    md.append(f"{len(ids)} cases, kosoku {meta['kosoku_version']} fuzzingserver, "
              f"{meta['elapsed']:.0f} s wall time"
              + (f", selection `{meta['cases']}`" if meta.get("cases") else "") + ".")
    md.append("Acceptable: OK, NON-STRICT, INFORMATIONAL, in every group (12.*/13.*, "
              "permessage-deflate, included).")
    md.append("")
    md += md_table("Message behavior (`behavior`)", by_group, total, BEHAVIOR_ORDER)
    md.append("")
    md += md_table("Closing behavior (`behaviorClose`)", close_by_group, close_total, CLOSE_ORDER)
    md.append("")
    return "\n".join(md), offending, passed, len(ids) - passed + missing


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--client", required=True, help="client binary (wsbench-cli contract)")
    ap.add_argument("--agent", default="wsbench", help="agent name in the report (default: %(default)s)")
    ap.add_argument("--out", default=str(DEFAULT_OUT),
                    help="output dir; reports go to OUT/reports (default: %(default)s)")
    ap.add_argument("--cases", action="append",
                    help="case ids or globs to run, comma-separated or repeated (e.g. '1.*,9.1.1'); default all")
    ap.add_argument("--exclude", action="append", help="case ids or globs to leave out")
    ap.add_argument("--case-timeout", type=float, default=60.0,
                    help="seconds before a hung client is killed (default: %(default)s)")
    ap.add_argument("--total-timeout", type=float, default=1800.0,
                    help="stop running cases after this many seconds (default: %(default)s)")
    ap.add_argument("--fail-on-timeout", action="store_true",
                    help="also fail when the client had to be killed (hung after the server closed)")
    ap.add_argument("--port", type=int, default=0,
                    help="fuzzing server port on 127.0.0.1; 0 lets the OS pick (default)")
    ap.add_argument("--kosoku", help="kosoku executable to use instead of finding/installing one")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per case; keep the client's stdout in client.log")
    return ap.parse_args(argv)


def run(args: argparse.Namespace) -> int:
    t_start = time.monotonic()
    client_path = shutil.which(args.client) if os.sep not in args.client else args.client
    if not client_path or not os.path.isfile(client_path):
        raise SetupError(f"client binary not found: {args.client} (build it first, e.g. "
                         f"`cargo build --release -p wsbench-cli`)")
    if not os.access(client_path, os.X_OK):
        raise SetupError(f"client binary is not executable: {client_path}")
    client_path = os.path.abspath(client_path)

    out = Path(args.out).resolve()
    reports = out / "reports"
    out.mkdir(parents=True, exist_ok=True)
    if reports.exists():
        shutil.rmtree(reports)  # never read a stale index.json
    (out / "summary.md").unlink(missing_ok=True)

    if args.kosoku:
        kosoku_exe = shutil.which(args.kosoku) or args.kosoku
        if not os.access(kosoku_exe, os.X_OK):
            raise SetupError(f"--kosoku {args.kosoku} is not an executable")
    else:
        kosoku_exe = ensure_kosoku()
    version = kosoku_version(kosoku_exe)
    log(f"[autobahn] kosoku {version} at {kosoku_exe}")

    include, exclude = split_patterns(args.cases), split_patterns(args.exclude)
    server = Kosoku(kosoku_exe, reports, out / "kosoku.log", include, exclude, args.port)
    client = Client(client_path, out / "client.log")
    timeouts: list[int] = []
    nonzero = 0
    count = 0
    aborted = None
    reports_requested = False
    try:
        port = server.wait_ready()
        base = f"ws://{HOST}:{port}"
        log(f"[autobahn] fuzzingserver at {base}; client {client_path}; logs in {out}")

        rc, text, _ = client.run(f"{base}/getCaseCount", ["--count", "1"], timeout=30, capture=True)
        nums = [ln.strip() for ln in text.splitlines() if ln.strip().isdigit()]
        if not nums:
            raise SetupError(f"getCaseCount: client printed no number (exit {rc}, stdout {text[:200]!r}); "
                             f"see {out / 'client.log'}")
        count = int(nums[0])
        if count == 0:
            raise SetupError("getCaseCount returned 0: the case selection matches nothing")
        log(f"[autobahn] {count} cases")

        deadline = t_start + args.total_timeout
        last_report = time.monotonic()
        for n in range(1, count + 1):
            if time.monotonic() > deadline:
                aborted = f"total timeout of {args.total_timeout:.0f}s reached after {n - 1} of {count} cases"
                break
            if not server.alive():
                aborted = f"kosoku exited (code {server.proc.returncode}) after {n - 1} of {count} cases"
                break
            url = f"{base}/runCase?case={n}&agent={args.agent}"
            remaining = max(5.0, deadline - time.monotonic())
            rc, _, dt = client.run(url, ["--echo"], timeout=min(args.case_timeout, remaining),
                                   keep_stdout=args.verbose)
            if rc is None:
                timeouts.append(n)
                log(f"[autobahn] case #{n}: client hung, killed after {args.case_timeout:.0f}s")
            elif rc != 0:
                nonzero += 1
            if args.verbose:
                log(f"[autobahn] case #{n}/{count}: exit {rc} in {dt:.2f}s")
            elif time.monotonic() - last_report > 15 or n == count:
                last_report = time.monotonic()
                log(f"[autobahn] {n}/{count} cases run ({time.monotonic() - t_start:.0f}s)")

        if server.alive():
            client.run(f"{base}/updateReports?agent={args.agent}", ["--echo"], timeout=120)
            reports_requested = True
    finally:
        client.close()
        # After updateReports kosoku writes the reports and exits by itself;
        # on any other path (setup error, Ctrl-C) it is just terminated.
        kosoku_rc = server.stop(wait=120 if reports_requested else 0)

    elapsed = time.monotonic() - t_start
    if aborted:
        log(f"[autobahn] ABORTED: {aborted}")
    log(f"[autobahn] kosoku exited with {kosoku_rc} (its own verdict; ignored, the report counts)")
    try:
        results = load_index(reports / "index.json", args.agent)
    except SetupError as e:
        raise SetupError(f"{e}\n  kosoku log:\n{server.log_tail()}") from None

    meta = {"agent": args.agent, "kosoku_version": version, "elapsed": elapsed,
            "cases": ",".join(include) + (f" minus {','.join(exclude)}" if exclude else "")}
    md, offending, passed, failed = summarize(results, count, meta)
    (out / "summary.md").write_text(md, encoding="utf-8")
    print(md, flush=True)

    print(f"client exits: {nonzero} non-zero (ignored), {len(timeouts)} killed after "
          f"{args.case_timeout:.0f}s timeout" + (f" (case #{', #'.join(map(str, timeouts))})" if timeouts else ""))
    ids = sorted(results, key=case_key)
    if timeouts and len(ids) == count:
        print("timed-out cases: " + ", ".join(ids[n - 1] for n in timeouts))
    print(f"reports: {reports / 'index.json'} (open index.html for details); summary: {out / 'summary.md'}")
    print(f"wall time: {elapsed:.0f}s")

    if aborted:
        offending.append(f"  run aborted: {aborted}")
    if timeouts and args.fail_on_timeout:
        offending.append(f"  client hung and was killed in {len(timeouts)} case(s) (--fail-on-timeout)")
    if offending:
        print(f"\nFAILED: {len(offending)} problem(s):")
        print("\n".join(offending))
    print(f"autobahn: {passed} passed, {failed} failed", flush=True)
    return 1 if offending else 0


def _on_sigterm(signum, frame):  # noqa: ARG001
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # A SIGTERM to the runner should still clean up kosoku and the client.
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return run(args)
    except SetupError as e:
        log(f"[autobahn] ERROR: {e}")
        return 2
    except KeyboardInterrupt:
        log("[autobahn] interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
