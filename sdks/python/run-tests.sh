#!/usr/bin/env bash
# The Python SDK's checks, as CI runs them: install the package into a fresh
# virtualenv as a user would (its README examples run there), then lint,
# type-check (mypy --strict) and run the test suite against the real gateway
# binary: ASSENT_BIN, else target/debug/assent (built here when missing).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"

if [[ -z "${ASSENT_BIN:-}" ]]; then
    ASSENT_BIN="$root/target/debug/assent"
    if [[ ! -x "$ASSENT_BIN" ]]; then
        (cd "$root" && cargo build --locked -p assent)
    fi
    export ASSENT_BIN
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1

echo "== installing assent-client into a fresh virtualenv, as a user would"
"$python" -m venv "$work/user"
"$work/user/bin/pip" install --quiet "$here"

echo "== installing the development tools (requirements-dev.txt, pinned)"
"$python" -m venv "$work/dev"
"$work/dev/bin/pip" install --quiet -r "$here/requirements-dev.txt" "$here[receipts]"

cd "$here"
echo "== ruff"
"$work/dev/bin/ruff" check src tests
"$work/dev/bin/ruff" format --check src tests
echo "== mypy --strict"
"$work/dev/bin/mypy" --strict src/assent_client
echo "== pytest"
ASSENT_EXAMPLE_PYTHON="$work/user/bin/python" "$work/dev/bin/python" -m pytest -p no:cacheprovider "$@"
