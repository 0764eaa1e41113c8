#!/usr/bin/env bash
# The TypeScript SDK's checks, as CI runs them: install the pinned dev tools
# (package-lock.json), type-check (tsc --noEmit --strict), pack the package
# and install the tarball into a fresh project as a user would, then run the
# test suite against the real gateway binary (its README examples run in that
# fresh project): ASSENT_BIN, else target/debug/assent (built here when missing).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if [[ -z "${ASSENT_BIN:-}" ]]; then
    ASSENT_BIN="$root/target/debug/assent"
    if [[ ! -x "$ASSENT_BIN" ]]; then
        (cd "$root" && cargo build --locked -p assent)
    fi
    export ASSENT_BIN
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$here"

echo "== npm ci (builds dist/ through the prepare script)"
npm ci --no-audit --no-fund --loglevel=error
echo "== tsc --noEmit --strict"
npx tsc --noEmit --strict -p tsconfig.json

echo "== npm pack, then npm install of the tarball into a fresh project, as a user would"
tarball="$(npm pack --silent --pack-destination "$work" | tail -n 1)"
mkdir "$work/project"
(cd "$work/project" && npm init -y >/dev/null && npm install --no-audit --no-fund --loglevel=error "$work/$tarball")

echo "== node --test"
rm -rf .test-build
npx tsc -p tsconfig.test.json
ASSENT_EXAMPLE_DIR="$work/project" node --test --test-concurrency=1 .test-build/test/*.test.js
