# Checks of the built binary against loopback stand-ins, run by scripts/test.sh before the Swift suites.
# Each check prints "ok: …" or "FAILED: …"; any failure fails the test run.
# shellcheck shell=bash

cli_failures=0

check() {
    local name="$1"; shift
    if "$@"; then echo "ok: $name"; else echo "FAILED: $name"; cli_failures=$((cli_failures + 1)); fi
    return 0
}

# S3 retries: reads retry through 503 SlowDown with backoff; streaming uploads are never retried.
s3_retry_checks() {
    local bin="$1" dir="$2"
    mkdir -p "$dir"
    echo abc >"$dir/abc.txt"
    python3 scripts/lib/flaky_s3.py 54360 2 "$dir/count-get" & local get_pid=$!
    python3 scripts/lib/flaky_s3.py 54361 1 "$dir/count-put" & local put_pid=$!
    python3 scripts/lib/flaky_s3.py 54362 99 "$dir/count-limit" & local limit_pid=$!
    for f in count-get count-put count-limit; do
        for _ in $(seq 1 100); do [ -f "$dir/$f" ] && break; sleep 0.05; done
    done
    local env=(env B2_BUCKET=b B2_REGION=us-east-1 B2_KEY_ID=AK B2_APP_KEY=SK)
    local out
    out=$("${env[@]}" B2_ENDPOINT=http://127.0.0.1:54360 timeout 30 "$bin" storage get k - 2>/dev/null) || true
    check "s3 get retries through two 503 SlowDown answers" test "$out" = "abc" -a "$(cat "$dir/count-get")" = 3
    local status=0
    "${env[@]}" B2_ENDPOINT=http://127.0.0.1:54361 timeout 30 "$bin" storage put k "$dir/abc.txt" >/dev/null 2>&1 || status=$?
    check "s3 streaming put is not retried" test "$status" != 0 -a "$(cat "$dir/count-put")" = 1
    "${env[@]}" B2_ENDPOINT=http://127.0.0.1:54362 timeout 30 "$bin" storage get k - >/dev/null 2>"$dir/limit.err" || true
    check "s3 get gives up with storage unavailable" grep -q "storage unavailable" "$dir/limit.err"
    check "s3 get makes exactly 4 attempts" test "$(cat "$dir/count-limit")" = 4
    kill "$get_pid" "$put_pid" "$limit_pid" 2>/dev/null || true
}
