#!/usr/bin/env bash
# Runs a command where the Redis store tests must run: installs Debian's redis-server when none is
# on the machine, and sets REDIS_SERVER (the binary) and CANONICAL_AUTH_REQUIRE_REDIS=1, so the
# tests fail instead of skipping if it is missing. The tests start their own servers on 127.0.0.1
# (they kill and freeze them to test outages) and end them by pid.
set -euo pipefail

BIN="$(command -v redis-server || true)"
if [ -z "$BIN" ]; then
  echo "installing redis-server (Debian)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  BIN="$(command -v redis-server)"
fi
echo "$("$BIN" --version | awk '{print $1, $2, $3}') at $BIN"
REDIS_SERVER="$BIN" CANONICAL_AUTH_REQUIRE_REDIS=1 "$@"
