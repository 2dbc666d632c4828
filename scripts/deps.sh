# Shared by scripts/app and scripts/test: install what building and testing
# wsbench needs on Debian/Ubuntu. Idempotent: a second run installs nothing.

log() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_system_deps() {
  command -v cargo >/dev/null || { echo "cargo not found: install a Rust toolchain (rustup) first" >&2; exit 1; }
  local pkgs=(build-essential pkg-config libwebkit2gtk-4.1-dev
              xvfb xauth webkit2gtk-driver imagemagick fonts-dejavu-core libgl1-mesa-dri
              python3 python3-venv python3-pip python3-yaml rpm x11-utils)
  command -v node >/dev/null || pkgs+=(nodejs)
  # npm: the Socket.IO integration tests install socket.io@4 and @2 into target/sio-node.
  command -v npm >/dev/null || pkgs+=(npm)
  local need=()
  for p in "${pkgs[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
  if [ "${#need[@]}" -gt 0 ]; then
    log "installing ${need[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${need[@]}"
  fi
}

# The real Socket.IO servers the engine's Socket.IO tests talk to (the tests also
# install them on first use; this only warms the cache). Idempotent.
install_socketio_servers() {
  local major dir
  for major in 4 2; do
    dir="target/sio-node/v$major"
    if ! grep -q "\"version\": \"$major\." "$dir/node_modules/socket.io/package.json" 2>/dev/null; then
      log "npm install socket.io@$major into $dir"
      mkdir -p "$dir"
      [ -f "$dir/package.json" ] || echo '{"private":true}' > "$dir/package.json"
      (cd "$dir" && npm install --no-audit --no-fund "socket.io@$major")
    fi
  done
}
