#!/usr/bin/env python3
"""Checks of wsbench's Linux packages, as a user installing them would notice.

Run after `scripts/bundle`, under Xvfb and as root (or with sudo available):

    xvfb-run -a -s "-screen 0 1280x800x24" python3 tests/install/packages.py

1. The .deb's metadata: name, version from Cargo.toml, maintainer, homepage, section,
   WebKitGTK 4.1 dependency, a description; its .desktop entry (category
   Development, icon, StartupWMClass); every file in the usual places; the CLI, its
   man page and completions; at most 15 MiB.
2. The .rpm (read with `rpm -qp`) holds the same files with the same metadata.
3. `dpkg -i` installs the .deb; the installed /usr/bin/wsbench starts under Xvfb on a
   fresh --data-dir, its window has the WM class the .desktop entry names, and over
   WebDriver its first tab connects to the built-in echo server and gets an echo;
   /usr/bin/wsbench-cli runs. `dpkg -r` removes it again, always.

The WebDriver client and its helpers come from tests/e2e/run.py. Prints
`N passed, N failed` and exits 1 on any failure or missing tool.
"""
import argparse
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from run import CTRL, ENTER, Driver, port_open, rows, wait  # noqa: E402  (tests/e2e/run.py)

MAX_BYTES = 15 * 1024 * 1024
PACKAGE = "wsbench"
# Where a package may put files: binaries, desktop entries, icons, man pages,
# completions and docs; nothing in /opt, /etc, /usr/local or a home folder.
USUAL_PLACES = (
    "/usr/bin/",
    "/usr/share/applications/",
    "/usr/share/icons/hicolor/",
    "/usr/share/man/man1/",
    "/usr/share/bash-completion/completions/",
    "/usr/share/zsh/vendor-completions/",
    "/usr/share/fish/vendor_completions.d/",
    "/usr/share/doc/",
    "/usr/lib/wsbench/",
)
# What a user of each part expects to find after installing.
EXPECTED_FILES = {
    "/usr/bin/wsbench",
    "/usr/bin/wsbench-cli",
    "/usr/share/applications/wsbench.desktop",
    "/usr/share/icons/hicolor/512x512/apps/wsbench.png",
    "/usr/share/icons/hicolor/256x256/apps/wsbench.png",
    "/usr/share/icons/hicolor/128x128/apps/wsbench.png",
    "/usr/share/icons/hicolor/32x32/apps/wsbench.png",
    "/usr/share/man/man1/wsbench-cli.1.gz",
    "/usr/share/bash-completion/completions/wsbench-cli",
    "/usr/share/zsh/vendor-completions/_wsbench-cli",
    "/usr/share/fish/vendor_completions.d/wsbench-cli.fish",
}


def sh(*cmd, check=True, **kw):
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, **kw)
    if check and r.returncode != 0:
        err = r.stderr.decode(errors="replace") if isinstance(r.stderr, bytes) else r.stderr
        raise AssertionError(f"{' '.join(cmd)} exited {r.returncode}: {err.strip()[-2000:]}")
    return r


def as_root(*cmd, **kw):
    return sh(*cmd, **kw) if os.geteuid() == 0 else sh("sudo", "-n", *cmd, **kw)


def cargo_version():
    """The version in the workspace's Cargo.toml (Python 3.10 has no tomllib)."""
    with open(os.path.join(ROOT, "Cargo.toml"), encoding="utf-8") as f:
        m = re.search(r'^\[workspace\.package\][^\[]*?^version\s*=\s*"([^"]+)"', f.read(), re.M | re.S)
    if not m:
        raise AssertionError("no version in [workspace.package] of Cargo.toml")
    return m.group(1)


def deb_fields(deb):
    out = sh("dpkg-deb", "-f", deb, text=True).stdout
    fields, key = {}, None
    for line in out.splitlines():
        if line.startswith(" ") and key:
            fields[key] += "\n" + line.strip()
        else:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def deb_files(deb):
    """Regular files and symlinks of a .deb, as absolute paths, with their modes."""
    files = {}
    for line in sh("dpkg-deb", "-c", deb, text=True).stdout.splitlines():
        parts = line.split(None, 5)
        mode, path = parts[0], parts[5].split(" -> ")[0]
        if mode[0] in "-l":
            files["/" + path.lstrip("./")] = mode
    return files


def deb_file_text(deb, path):
    tar = sh("dpkg-deb", "--fsys-tarfile", deb).stdout
    return subprocess.run(["tar", "-xO", path.lstrip("/")], input=tar, capture_output=True, check=True).stdout.decode()


def rpm_query(rpm, fmt):
    return sh("rpm", "-qp", "--nosignature", "--qf", fmt, rpm, text=True).stdout


def rpm_files(rpm):
    files = {}
    for line in rpm_query(rpm, "[%{FILEMODES:perms} %{FILENAMES}\n]").splitlines():
        mode, path = line.split(" ", 1)
        if mode[0] in "-l":
            files[path] = mode
    return files


# --- the tests ----------------------------------------------------------------------

def test_deb_metadata_desktop_entry_and_files(deb, rpm):
    f = deb_fields(deb)
    assert f["Package"] == PACKAGE, f
    assert f["Version"] == cargo_version(), (f["Version"], cargo_version())
    assert re.search(r"<[^@>\s]+@[^>\s]+>", f.get("Maintainer", "")), f"Maintainer has no e-mail: {f.get('Maintainer')}"
    assert f.get("Homepage", "").startswith("https://"), f
    assert f.get("Section") == "devel", f
    depends = f.get("Depends", "")
    assert "libwebkit2gtk-4.1-0" in depends and "libgtk-3-0" in depends, depends
    assert "WebSocket" in f.get("Description", ""), f

    desktop = deb_file_text(deb, "/usr/share/applications/wsbench.desktop")
    entry = dict(line.split("=", 1) for line in desktop.splitlines() if "=" in line)
    assert entry.get("Exec") == "wsbench", entry
    assert entry.get("Icon") == "wsbench", entry
    assert entry.get("Name") == "wsbench", entry
    assert entry.get("StartupWMClass") == "wsbench", entry
    assert "Development" in entry.get("Categories", "").split(";"), entry
    assert entry.get("Type") == "Application" and entry.get("Terminal") == "false", entry

    files = deb_files(deb)
    missing = EXPECTED_FILES - set(files)
    assert not missing, f"missing from the .deb: {sorted(missing)}"
    stray = sorted(p for p in files if not p.startswith(USUAL_PLACES))
    assert not stray, f"files outside the usual places: {stray}"
    for exe in ("/usr/bin/wsbench", "/usr/bin/wsbench-cli"):
        assert files[exe] == "-rwxr-xr-x", (exe, files[exe])
    size = os.path.getsize(deb)
    assert size <= MAX_BYTES, f"{deb} is {size} bytes, over 15 MiB"


def test_rpm_holds_the_same_files_and_metadata(deb, rpm):
    name, version, license_, url, arch = rpm_query(
        rpm, "%{NAME}\n%{VERSION}\n%{LICENSE}\n%{URL}\n%{ARCH}\n").splitlines()
    assert name == PACKAGE and version == cargo_version(), (name, version)
    assert license_ == "MIT OR Apache-2.0", license_
    assert url == deb_fields(deb)["Homepage"], url
    requires = rpm_query(rpm, "[%{REQUIRENAME}\n]")
    assert "libwebkit2gtk-4.1.so.0" in requires, f"the rpm does not require WebKitGTK 4.1: {requires}"
    d, r = deb_files(deb), rpm_files(rpm)
    assert set(r) == set(d), f"only in rpm: {sorted(set(r) - set(d))}; only in deb: {sorted(set(d) - set(r))}"
    for exe in ("/usr/bin/wsbench", "/usr/bin/wsbench-cli"):
        assert r[exe].startswith("-rwx"), (exe, r[exe])
    size = os.path.getsize(rpm)
    assert size <= MAX_BYTES, f"{rpm} is {size} bytes, over 15 MiB"


def window_classes():
    """WM_CLASS of every top-level window on the X display."""
    tree = sh("xprop", "-root", "_NET_CLIENT_LIST", check=False, text=True).stdout
    ids = re.findall(r"0x[0-9a-f]+", tree)
    if not ids:  # no window manager under Xvfb: walk the root's children
        tree = sh("xwininfo", "-root", "-children", check=False, text=True).stdout
        ids = re.findall(r"^\s+(0x[0-9a-f]+)", tree, re.M)
    out = []
    for wid in ids:
        cls = sh("xprop", "-id", wid, "WM_CLASS", check=False, text=True).stdout
        out += re.findall(r'"([^"]*)"', cls)
    return out


def test_installed_deb_launches_and_connects_to_the_echo_server(deb, rpm):
    if port_open(4444) or port_open(4445):
        raise AssertionError("port 4444 or 4445 is taken (an orphaned tauri-driver/WebKitWebDriver?)")
    data = tempfile.mkdtemp(prefix="wsbench-install-")
    as_root("dpkg", "-i", deb)
    driver = None
    try:
        st = sh("dpkg-query", "-W", "-f", "${Status} ${Version}", PACKAGE, text=True).stdout
        assert st == f"install ok installed {cargo_version()}", st
        for exe in ("/usr/bin/wsbench", "/usr/bin/wsbench-cli"):
            assert os.access(exe, os.X_OK), f"{exe} not installed"
        cli = sh("/usr/bin/wsbench-cli", "--version", text=True).stdout
        assert cargo_version() in cli, cli

        driver = subprocess.Popen(["tauri-driver"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait("tauri-driver and WebKitWebDriver", lambda: port_open(4444) and port_open(4445), timeout=30)
        d = Driver(4444)
        d.start("/usr/bin/wsbench", ["--data-dir", data])
        try:
            wait("the first tab", lambda: d.text(".tab .tab-name") == "Local echo", timeout=30)
            if shutil.which("xprop"):
                classes = wait("the app's window", window_classes, timeout=10)
                assert "wsbench" in classes, f"no window with WM_CLASS wsbench (StartupWMClass): {classes}"
            d.click("button[aria-label='Connect']")
            wait("Open", lambda: (d.text("#state-line") or "").startswith("Open"))
            d.type("#message", "hello from the installed app")
            d.keys(CTRL, ENTER)
            wait("the echo", lambda: any("in text" in r["cls"] and "hello from the installed app" in r["text"]
                                         for r in rows(d)))
            # File > New Tab: the native menu hands its command to the page exactly like
            # this (menu.rs evals the same event); WebDriver cannot click native menus.
            n = d.js("return document.querySelectorAll('.tab').length")
            d.js("window.dispatchEvent(new CustomEvent('wsbench:menu', { detail: { name: 'newTab' } }))")
            wait("a tab opened from the menu", lambda: d.js("return document.querySelectorAll('.tab').length") == n + 1)
        finally:
            d.quit()
        assert os.path.isfile(os.path.join(data, "state.json")), "the app wrote nothing in its --data-dir"
    finally:
        if driver:
            driver.send_signal(signal.SIGTERM)  # never SIGKILL: it would orphan WebKitWebDriver
            try:
                driver.wait(timeout=10)
            except subprocess.TimeoutExpired:
                driver.send_signal(signal.SIGTERM)
                driver.wait(timeout=10)
        as_root("dpkg", "-r", PACKAGE, check=False)
        shutil.rmtree(data, ignore_errors=True)
    assert not os.path.exists("/usr/bin/wsbench"), "dpkg -r left /usr/bin/wsbench behind"
    assert not os.path.exists("/usr/bin/wsbench-cli"), "dpkg -r left /usr/bin/wsbench-cli behind"


TESTS = [
    test_deb_metadata_desktop_entry_and_files,
    test_rpm_holds_the_same_files_and_metadata,
    test_installed_deb_launches_and_connects_to_the_echo_server,
]


def one(pattern):
    found = sorted(glob.glob(os.path.join(ROOT, pattern)))
    if len(found) != 1:
        sys.exit(f"install: expected one {pattern}, found {found or 'none'}: run scripts/bundle first")
    return found[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deb", help="default: the one in target/release/bundle/deb")
    ap.add_argument("--rpm", help="default: the one in target/release/bundle/rpm")
    args = ap.parse_args()
    deb = args.deb or one("target/release/bundle/deb/*.deb")
    rpm = args.rpm or one("target/release/bundle/rpm/*.rpm")
    for tool in ("dpkg-deb", "rpm", "tauri-driver", "WebKitWebDriver"):
        if not shutil.which(tool):
            sys.exit(f"install: {tool} not found (scripts/deps.sh installs it)")
    if not os.environ.get("DISPLAY"):
        sys.exit("install: no DISPLAY: run under xvfb-run")
    if os.geteuid() != 0 and sh("sudo", "-n", "true", check=False).returncode != 0:
        sys.exit("install: installing a .deb needs root or passwordless sudo")
    passed = failed = 0
    for t in TESTS:
        started = time.time()
        try:
            t(deb, rpm)
            passed += 1
            print(f"ok   {t.__name__} ({time.time() - started:.1f} s)")
        except Exception:
            failed += 1
            print(f"FAIL {t.__name__}")
            traceback.print_exc()
    print(f"install: {passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main()
