#!/usr/bin/env bash
# segstream kiosk: starts the segstream server (unless --no-server) and Chromium in kiosk mode on the viewer.
#
#   scripts/kiosk.sh [--port 8080] [--host 127.0.0.1] [--query 'mode=side-by-side&smooth=3']
#                    [--no-server | --mock] [--wait SECONDS] [-- extra 'segstream serve' arguments]
#
# Chromium is started only once the server answers: a browser that opens too early shows an error page that
# never retries, whereas the loaded viewer reconnects by itself whenever the server restarts.
# Exits when either process exits (with its status), after stopping the other, so systemd can restart both.
# Environment: CHROMIUM (browser binary), SEGSTREAM_KIOSK_FLAGS (extra browser flags, space separated).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT=8080
HOST=127.0.0.1
QUERY=""
SERVER=real
WAIT_SECONDS=120

usage() {
  sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

die() {
  echo "kiosk.sh: $*" >&2
  exit 2
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --port) [[ $# -ge 2 ]] || die "--port needs a value"; PORT="$2"; shift 2 ;;
    --host) [[ $# -ge 2 ]] || die "--host needs a value"; HOST="$2"; shift 2 ;;
    --query) [[ $# -ge 2 ]] || die "--query needs a value"; QUERY="${2#[?&]}"; shift 2 ;;
    --wait) [[ $# -ge 2 ]] || die "--wait needs a value"; WAIT_SECONDS="$2"; shift 2 ;;
    --no-server) SERVER=none; shift ;;
    --mock) SERVER=mock; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    *) die "unknown option '$1' (expected --port, --host, --query, --wait, --no-server, --mock, --help, or -- server arguments)" ;;
  esac
done
SERVER_ARGS=("$@")

[[ "$PORT" =~ ^[0-9]+$ ]] && (( PORT >= 1 && PORT <= 65535 )) || die "--port: expected an integer 1..65535, got '$PORT'"
[[ "$WAIT_SECONDS" =~ ^[0-9]+$ ]] && (( WAIT_SECONDS >= 1 )) || die "--wait: expected a whole number of seconds >= 1, got '$WAIT_SECONDS'"
[[ "$QUERY" != *'#'* && "$QUERY" != *' '* ]] || die "--query: expected URL query text without spaces or '#', got '$QUERY'"

BROWSER="${CHROMIUM:-}"
if [[ -z "$BROWSER" ]]; then
  for candidate in chromium chromium-browser google-chrome; do
    if command -v "$candidate" > /dev/null; then BROWSER="$(command -v "$candidate")"; break; fi
  done
fi
[[ -n "$BROWSER" && -x "$BROWSER" ]] || die "no Chromium found (install the 'chromium' package or set CHROMIUM=/path/to/browser)"

URL="http://${HOST}:${PORT}/?kiosk${QUERY:+&$QUERY}"
SERVER_PID=""
BROWSER_PID=""
PROFILE=""

stop_group() {
  # Each child runs in its own process group (setsid), so its helpers stop with it.
  local pid="$1"
  [[ -n "$pid" ]] || return 0
  if kill -0 "$pid" 2> /dev/null; then
    kill -TERM -- "-$pid" 2> /dev/null || kill -TERM "$pid" 2> /dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2> /dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2> /dev/null || true
  fi
  wait "$pid" 2> /dev/null || true
}

cleanup() {
  stop_group "$BROWSER_PID"
  stop_group "$SERVER_PID"
  [[ -n "$PROFILE" ]] && rm -rf "$PROFILE"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

server_answers() {
  if command -v curl > /dev/null; then
    curl -fsS -o /dev/null --max-time 2 "http://${HOST}:${PORT}/"
  else
    (exec 3<> "/dev/tcp/${HOST}/${PORT}") 2> /dev/null
  fi
}

case "$SERVER" in
  real)
    setsid node "$ROOT/bin/segstream.js" serve --host "$HOST" --port "$PORT" "${SERVER_ARGS[@]}" &
    SERVER_PID=$!
    ;;
  mock)
    setsid node --import tsx "$ROOT/test/browser/mock-server.ts" --port "$PORT" &
    SERVER_PID=$!
    ;;
esac

echo "kiosk.sh: waiting for the viewer at http://${HOST}:${PORT}/ (up to ${WAIT_SECONDS} s)"
deadline=$(( SECONDS + WAIT_SECONDS ))
until server_answers; do
  if [[ -n "$SERVER_PID" ]] && ! kill -0 "$SERVER_PID" 2> /dev/null; then
    wait "$SERVER_PID" && status=0 || status=$?
    SERVER_PID=""
    echo "kiosk.sh: the server exited (status $status) before it answered" >&2
    exit 1
  fi
  (( SECONDS < deadline )) || { echo "kiosk.sh: no answer from http://${HOST}:${PORT}/ after ${WAIT_SECONDS} s" >&2; exit 1; }
  sleep 0.5
done

# Keep the screen on where X11 tools exist (Wayland compositors have their own idle settings).
if [[ -n "${DISPLAY:-}" ]] && command -v xset > /dev/null; then
  xset s off -dpms s noblank 2> /dev/null || true
fi

# A fresh profile each start: no "restore pages?" bubble after a power cut, no stale cache of the viewer.
PROFILE="$(mktemp -d "${XDG_RUNTIME_DIR:-/tmp}/segstream-kiosk.XXXXXX")"
read -r -a EXTRA_FLAGS <<< "${SEGSTREAM_KIOSK_FLAGS:-}"
setsid "$BROWSER" \
  --kiosk \
  --user-data-dir="$PROFILE" \
  --no-first-run \
  --no-default-browser-check \
  --noerrdialogs \
  --disable-infobars \
  --disable-session-crashed-bubble \
  --disable-features=Translate,MediaRouter \
  --check-for-update-interval=31536000 \
  --overscroll-history-navigation=0 \
  --disable-pinch \
  --password-store=basic \
  "${EXTRA_FLAGS[@]}" \
  "$URL" &
BROWSER_PID=$!
echo "kiosk.sh: browser ${BROWSER_PID} on ${URL}${SERVER_PID:+, server ${SERVER_PID}}"

# Whichever stops first ends the kiosk; cleanup stops the other.
if [[ -n "$SERVER_PID" ]]; then
  wait -n "$BROWSER_PID" "$SERVER_PID" && status=0 || status=$?
  if ! kill -0 "$BROWSER_PID" 2> /dev/null; then who=browser; else who=server; fi
else
  wait "$BROWSER_PID" && status=0 || status=$?
  who=browser
fi
echo "kiosk.sh: the ${who} exited (status ${status}); stopping" >&2
exit "$status"
