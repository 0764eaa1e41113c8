#!/usr/bin/env bash
# End-to-end tests of the web console: Debian's Chromium (apt-get install
# chromium) driven by playwright-core against the real gateway binary.
#   ASSENT_BIN  the binary to test (default target/debug/assent; build it first)
#   CHROMIUM    the browser (default /usr/bin/chromium)
# Screenshots go to target/screenshots/, measured figures to
# target/console-figures.json.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export ASSENT_BIN="${ASSENT_BIN:-$root/target/debug/assent}"
case "$ASSENT_BIN" in /*) ;; *) ASSENT_BIN="$root/$ASSENT_BIN" ;; esac
if [ ! -x "$ASSENT_BIN" ]; then
    echo "no gateway binary at $ASSENT_BIN (cargo build -p assent, or set ASSENT_BIN)" >&2
    exit 1
fi
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    echo "no Chromium at ${CHROMIUM:-/usr/bin/chromium} (apt-get install -y chromium chromium-driver)" >&2
    exit 1
fi
cd "$here"
npm ci --no-audit --no-fund --loglevel=error
mkdir -p "$root/target/screenshots"
exec node --test --test-concurrency=1 --test-timeout=180000 --test-reporter=spec \
    console.test.js session.test.js screens.test.js measure.test.js
