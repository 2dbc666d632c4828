#!/usr/bin/env python3
"""Checks of the GitHub workflows, which cannot run here.

`.github/workflows/ci.yml` and `release.yml` must parse as YAML and say what the
README promises: CI on every push and pull request on ubuntu-22.04, windows-latest and
macos-latest, with the real-app end-to-end tests on Linux; the release on `v*` tags
through tauri-action pinned to a released version, building MSI and NSIS, .app and DMG
for Apple Silicon and Intel, deb, rpm and AppImage, and the CLI for each OS, into a
draft release; signing secrets read only when set. Every `uses:` is pinned to a
version tag or a commit, never a branch. Needs PyYAML (Debian's python3-yaml,
installed by scripts/deps.sh). Prints `N passed, N failed`.
"""
import os
import re
import sys
import traceback

try:
    import yaml
except ImportError:
    sys.exit("workflows: PyYAML missing: install python3-yaml (scripts/deps.sh does)")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKFLOWS = os.path.join(ROOT, ".github", "workflows")
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$")


def load(name):
    path = os.path.join(WORKFLOWS, name)
    if not os.path.isfile(path):
        raise AssertionError(f"{path} is missing")
    with open(path, encoding="utf-8") as f:
        wf = yaml.safe_load(f)
    assert isinstance(wf, dict) and wf.get("jobs"), f"{name}: no jobs"
    # YAML 1.1 reads the key `on` as the boolean true.
    wf["on"] = wf.pop(True, wf.get("on"))
    return wf


def steps(wf):
    for job_name, job in wf["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, job, step


def uses(wf):
    return [s["uses"] for _, _, s in steps(wf) if "uses" in s]


def matrix_values(job, key):
    m = job.get("strategy", {}).get("matrix", {})
    values = list(m.get(key, []))
    values += [inc[key] for inc in m.get("include", []) if key in inc]
    return values


def test_ci_runs_on_push_and_pull_request_on_three_oses():
    wf = load("ci.yml")
    assert set(wf["on"]) >= {"push", "pull_request"}, wf["on"]
    oses = [os_ for job in wf["jobs"].values() for os_ in matrix_values(job, "os")]
    assert set(oses) == {"ubuntu-22.04", "windows-latest", "macos-latest"}, oses
    runs = [(s.get("if", ""), s["run"]) for _, _, s in steps(wf) if "run" in s]
    assert any("cargo test" in r and "wsbench-core" in r and "wsbench-cli" in r for _, r in runs), runs
    assert any("cargo build" in r and "-p wsbench" in r for _, r in runs), "CI does not build the desktop app"
    linux_tests = [(c, r) for c, r in runs if "scripts/test" in r]
    assert linux_tests and all("Linux" in c for c, _ in linux_tests), "the real-app E2E (scripts/test) must run on Linux"
    for job in wf["jobs"].values():
        assert job.get("timeout-minutes", 999) <= 90, "CI's budget is 90 minutes"


def test_release_builds_every_installer_into_a_draft_on_version_tags():
    wf = load("release.yml")
    assert wf["on"] == {"push": {"tags": ["v*"]}}, wf["on"]
    tauri = [(job, s) for _, job, s in steps(wf) if s.get("uses", "").startswith("tauri-apps/tauri-action@")]
    assert len(tauri) == 1, "release.yml must build with tauri-apps/tauri-action, once"
    job, step = tauri[0]
    ref = step["uses"].split("@", 1)[1]
    assert re.fullmatch(r"v\d+\.\d+\.\d+", ref), f"tauri-action must be pinned to a released version, not {ref}"
    w = step["with"]
    assert w.get("releaseDraft") is True, "the release must be a draft"
    assert "${{ github.ref_name }}" in str(w.get("tagName")), w
    assert "--bundles ${{ matrix.bundles }}" in w.get("args", ""), w.get("args")
    include = job["strategy"]["matrix"]["include"]
    bundles = {i["target"]: set(i["bundles"].split(",")) for i in include}
    assert bundles.get("x86_64-pc-windows-msvc") == {"msi", "nsis"}, bundles
    assert bundles.get("aarch64-apple-darwin") == {"app", "dmg"}, bundles
    assert bundles.get("x86_64-apple-darwin") == {"app", "dmg"}, bundles
    assert bundles.get("x86_64-unknown-linux-gnu") == {"deb", "rpm", "appimage"}, bundles
    oses = {i["os"] for i in include}
    assert {o.split("-")[0] for o in oses} == {"ubuntu", "windows", "macos"}, oses
    text = yaml.safe_dump(wf)
    assert "gh release upload" in text and "wsbench-cli" in text, "the CLI is not attached to the release"
    for secret in ("APPLE_CERTIFICATE", "APPLE_SIGNING_IDENTITY", "APPLE_ID", "APPLE_PASSWORD", "APPLE_TEAM_ID",
                   "WINDOWS_CERTIFICATE"):
        assert f"secrets.{secret}" in text, f"{secret} is not read"
    assert "::warning::" in text, "missing signing secrets must be reported with a warning"


def test_every_action_is_pinned_to_a_version():
    for name in ("ci.yml", "release.yml"):
        for u in uses(load(name)):
            assert PINNED.match(u), f"{name}: `uses: {u}` is not pinned to a version tag or a commit"
            assert not re.search(r"@(main|master|dev|stable|latest)$", u), f"{name}: {u} follows a branch"


def test_the_tauri_config_bundles_what_the_release_promises():
    import json
    with open(os.path.join(ROOT, "src-tauri", "tauri.conf.json"), encoding="utf-8") as f:
        conf = json.load(f)
    b = conf["bundle"]
    assert b["active"] is True, b
    assert {"deb", "rpm", "appimage", "msi", "nsis", "app", "dmg"} <= set(b["targets"]), b["targets"]
    for icon in b["icon"]:
        assert os.path.isfile(os.path.join(ROOT, "src-tauri", icon)), f"icon {icon} is missing"
    kinds = {os.path.splitext(i)[1] for i in b["icon"]}
    assert {".png", ".ico", ".icns"} <= kinds, f"every bundle needs its icon format: {kinds}"
    assert "version" not in conf, "the version must come from Cargo.toml, not tauri.conf.json"


TESTS = [
    test_ci_runs_on_push_and_pull_request_on_three_oses,
    test_release_builds_every_installer_into_a_draft_on_version_tags,
    test_every_action_is_pinned_to_a_version,
    test_the_tauri_config_bundles_what_the_release_promises,
]


def main():
    passed = failed = 0
    for t in TESTS:
        try:
            t()
            passed += 1
            print(f"ok   {t.__name__}")
        except Exception:
            failed += 1
            print(f"FAIL {t.__name__}")
            traceback.print_exc()
    print(f"workflows: {passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main()
