#!/usr/bin/env bash
# Kept for setups that call it: the kiosk launcher is `segstream kiosk` (docs/viewer.md, segstream kiosk --help).
# Everything is passed on; the old `-- <serve arguments>` separator is dropped, since kiosk takes serve's flags
# itself. (--mock is gone: point the kiosk at any server with --no-server --port N.)
args=()
for a in "$@"; do
  if [[ "$a" == "--" ]]; then
    echo "kiosk.sh: '--' is no longer needed: segstream kiosk takes the serve flags directly" >&2
  else
    args+=("$a")
  fi
done
exec node "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../bin/segstream.js" kiosk "${args[@]}"
