#!/usr/bin/env bash
# Property-based fuzzing of the gateway's OpenAPI surface with schemathesis
# (pinned in requirements.txt): a real gateway (the debug `assent` binary,
# $ASSENT_BIN or target/debug/assent) on a temporary data dir, an admin and
# an agent token, every check, the examples, coverage, fuzzing and stateful
# phases, bounded in time (SCHEMATHESIS_MAX_TIME seconds per token, default
# 75). Exits non-zero on any failure.
#
# `GET /v1/ws` is left out: it is a WebSocket upgrade, not a request and
# answer an HTTP fuzzer can exchange (tests/api/ws.rs covers it).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${ASSENT_BIN:-$root/target/debug/assent}
max_time=${SCHEMATHESIS_MAX_TIME:-75}
if [ ! -x "$bin" ]; then
  echo "schemathesis: no gateway binary at $bin (cargo build -p assent, or set ASSENT_BIN)" >&2
  exit 1
fi

# A virtualenv per pinned version, kept in the target dir between runs.
venv=${SCHEMATHESIS_VENV:-$root/target/schemathesis-venv}
if [ ! -x "$venv/bin/st" ] || ! cmp -s "$here/requirements.txt" "$venv/requirements.txt"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/requirements.txt"
fi

work=$(mktemp -d)
gateway=
cleanup() {
  if [ -n "$gateway" ]; then
    kill "$gateway" 2>/dev/null || true
    wait "$gateway" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# A policy file, so that policy reloads have something to reload.
cat >"$work/policy.toml" <<'POLICY'
default = "ask"

[[rule]]
name = "reads"
effect = "allow"
action = "fs.read*"
POLICY
# schemathesis's auth checks present refused tokens from one address far
# more often than the failed-authentication limit allows; the limit has its
# own tests (crates/assent-server/tests/api/rate_limits.rs), so it is off here
# and every answer is the route's own.
ASSENT_FAILED_AUTH_PER_MINUTE=0 \
"$bin" serve --listen 127.0.0.1:0 --data-dir "$work/data" --policy "$work/policy.toml" \
  2>"$work/gateway.log" &
gateway=$!
url=
for _ in $(seq 300); do
  url=$(sed -n 's/.*assent listening on \(http:[^ ]*\).*/\1/p' "$work/gateway.log" | head -n1)
  [ -n "$url" ] && break
  if ! kill -0 "$gateway" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "schemathesis: the gateway did not start:" >&2
  cat "$work/gateway.log" >&2
  exit 1
fi
admin=$(cat "$work/data/admin.token")
agent=$(curl -fsS -X POST "$url/v1/tokens" -H "Authorization: Bearer $admin" \
  -H 'Content-Type: application/json' -d '{"name": "fuzz-agent", "role": "agent"}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

status=0
for who in admin agent; do
  if [ "$who" = admin ]; then token=$admin; else token=$agent; fi
  echo "== schemathesis as the $who token (${max_time}s)"
  (
    cd "$work"
    "$venv/bin/st" --config-file "$here/schemathesis.toml" run "$url/openapi.json" \
      --header "Authorization: Bearer $token" \
      --checks all \
      --exclude-path /v1/ws \
      --phases examples,coverage,fuzzing,stateful \
      --max-time "$max_time" \
      --workers 1 \
      --seed "${SCHEMATHESIS_SEED:-$RANDOM}" \
      --no-color \
      --report junit --report-dir "$work/report-$who"
  ) || status=1
done
if [ "$status" -ne 0 ]; then
  echo "schemathesis: failures above; the gateway's log:" >&2
  tail -n 50 "$work/gateway.log" >&2
fi
exit "$status"
