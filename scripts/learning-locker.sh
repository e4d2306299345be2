#!/usr/bin/env bash
# Learning Locker's statements service (npm xapi-statements 5.0.1) on 127.0.0.1, for tests.
#
#   scripts/learning-locker.sh install          install into $LEARNING_LOCKER_DIR (outside the repo)
#   scripts/learning-locker.sh run PORT         install if needed, then serve http://127.0.0.1:PORT/xAPI/
#
# No database: MODELS_REPO=memory STORAGE_REPO=local AUTH_REPO=test EVENTS_REPO=test. The service
# binds every interface by itself, so a preload script pins listen() to 127.0.0.1. Needs node 20.
set -euo pipefail

LL_DIR="${LEARNING_LOCKER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/microreview/learning-locker}"
LL_VERSION="5.0.1"
SERVER="$LL_DIR/node_modules/xapi-statements/dist/server.js"

install() {
  if [ -f "$SERVER" ]; then
    return
  fi
  mkdir -p "$LL_DIR"
  (cd "$LL_DIR" && npm install --omit=dev --ignore-scripts --no-audit --no-fund \
    "xapi-statements@$LL_VERSION" >&2)
}

write_preload() {
  cat > "$LL_DIR/bind-localhost.js" <<'JS'
// Pin every listen() of this process to 127.0.0.1 (the service would bind all interfaces).
const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    const rest = args.slice(1).filter((a) => typeof a !== 'string');
    return listen.call(this, Number(args[0]), '127.0.0.1', ...rest);
  }
  if (args[0] && typeof args[0] === 'object' && !Array.isArray(args[0])) {
    args[0] = Object.assign({}, args[0], { host: '127.0.0.1' });
  }
  return listen.apply(this, args);
};
JS
}

run() {
  local port="$1"
  install
  write_preload
  mkdir -p "$LL_DIR/storage"
  cd "$LL_DIR"
  exec env MODELS_REPO=memory STORAGE_REPO=local AUTH_REPO=test EVENTS_REPO=test \
    EXPRESS_PORT="$port" FS_LOCAL_STORAGE_DIR="$LL_DIR/storage" \
    EXPRESS_MORGAN_DIRECTORY="$LL_DIR/storage/accessLogs" WINSTON_CONSOLE_LEVEL=warn \
    node --require "$LL_DIR/bind-localhost.js" "$SERVER"
}

case "${1:-}" in
  install) install ;;
  run) run "${2:?usage: $0 run PORT}" ;;
  *) echo "usage: $0 install | run PORT" >&2; exit 2 ;;
esac
