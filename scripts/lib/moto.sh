# Starts two moto_server instances on loopback for the S3 suites, and stops them on exit:
# - one that checks SigV4 signatures (INITIAL_NO_AUTH_ACTION_COUNT plus an IAM user, see moto_iam.py);
# - one without auth, for presigned URLs (moto answers presigned URLs with 500 when auth is on).
# Exports ARROW_TEST_S3_ENDPOINT, ARROW_TEST_S3_KEY_ID, ARROW_TEST_S3_SECRET, ARROW_TEST_S3_PRESIGN_ENDPOINT.
# shellcheck shell=bash

start_moto() {
    local dir="$1" auth_port="$2" open_port="$3"
    ensure_pip "moto:moto[server]==5.2.1" "boto3:boto3"
    python3 -c "import flask_cors" 2>/dev/null || python3 -m pip install -q "moto[server]==5.2.1"
    mkdir -p "$dir"
    # A server left on these ports (an earlier run's) would answer in place of ours, with other credentials: the
    # IAM set-up below would then fail with a puzzling InvalidClientTokenId. Say what is wrong instead.
    for port in "$auth_port" "$open_port"; do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "port $port is already taken (a leftover moto_server?); stop it or set ARROW_TEST_MOTO_PORT / ARROW_TEST_MOTO_OPEN_PORT" >&2
            return 1
        fi
    done
    INITIAL_NO_AUTH_ACTION_COUNT=3 python3 -m moto.server -H 127.0.0.1 -p "$auth_port" >"$dir/moto-auth.log" 2>&1 &
    MOTO_PIDS="$!"
    python3 -m moto.server -H 127.0.0.1 -p "$open_port" >"$dir/moto-open.log" 2>&1 &
    MOTO_PIDS="$MOTO_PIDS $!"
    for port in "$auth_port" "$open_port"; do
        for _ in $(seq 1 100); do
            (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
            sleep 0.1
        done
    done
    local keys
    keys=$(python3 "$(dirname "${BASH_SOURCE[0]}")/moto_iam.py" "http://127.0.0.1:$auth_port" arrow-test arrow-public)
    export ARROW_TEST_S3_ENDPOINT="http://127.0.0.1:$auth_port"
    export ARROW_TEST_S3_KEY_ID="${keys%% *}"
    export ARROW_TEST_S3_SECRET="${keys#* }"
    export ARROW_TEST_S3_PRESIGN_ENDPOINT="http://127.0.0.1:$open_port"
    curl -fsS -X PUT "http://127.0.0.1:$open_port/arrow-test" >/dev/null
    echo "moto_server on 127.0.0.1:$auth_port (signatures checked) and 127.0.0.1:$open_port (presigned URLs)"
}

stop_moto() {
    # shellcheck disable=SC2086
    [ -n "${MOTO_PIDS:-}" ] && kill $MOTO_PIDS 2>/dev/null || true
}
