#!/bin/sh
# Container entrypoint: the first argument names the app, the rest go to it.
# `exec` so the app is the process the container's init signals (SIGTERM -> graceful shutdown).
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
app="${1:-command}"
case "$app" in
  command|projector|verifier|gateway|keysctl|all)
    if [ "$#" -gt 0 ]; then shift; fi
    exec node "$root/dist/apps/$app/src/main.js" "$@"
    ;;
  *)
    # Anything else runs as given (e.g. `sh` for debugging, or `node dist/...`).
    exec "$@"
    ;;
esac
