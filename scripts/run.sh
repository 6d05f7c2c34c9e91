#!/usr/bin/env bash
# Runs ARROW on the embedded defaults (SQLite and files under ./arrow-data): builds the release binary, starts
# `arrow serve` in the background, creates the first superuser on first run, and prints the URL and a token.
# Re-running restarts the server and prints a fresh token. Stop it with: kill "$(cat arrow-data/arrow.pid)"
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh

require_swift
ensure_packages curl ca-certificates

data_dir=${ARROW_DATA_DIR:-./arrow-data}
port=${ARROW_PORT:-8080}
email=${ARROW_ADMIN_EMAIL:-admin@arrow.local}
mkdir -p "$data_dir"

echo "building arrow (release; a first build takes several minutes)…"
swift build -c release --product arrow >"$data_dir/build.log" 2>&1 || { tail -40 "$data_dir/build.log"; exit 1; }
bin="$(swift build -c release --show-bin-path)/arrow"

# Restart a server this script started earlier.
if [ -f "$data_dir/arrow.pid" ] && kill -0 "$(cat "$data_dir/arrow.pid")" 2>/dev/null; then
    kill "$(cat "$data_dir/arrow.pid")"
    while kill -0 "$(cat "$data_dir/arrow.pid")" 2>/dev/null; do sleep 0.2; done
fi

password=""
if init_out=$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | tee "$data_dir/.pw" | "$bin" admin init --data-dir "$data_dir" --email "$email" --password-stdin 2>"$data_dir/init.err"); then
    password=$(cat "$data_dir/.pw")
    token=$(echo "$init_out" | tail -n 1)
elif grep -q already_initialized "$data_dir/init.err"; then
    token=$("$bin" admin token create --data-dir "$data_dir" --user "$email" --name run.sh | tail -n 1)
else
    cat "$data_dir/init.err" >&2
    rm -f "$data_dir/.pw"
    exit 1
fi
rm -f "$data_dir/.pw"

nohup "$bin" serve --data-dir "$data_dir" --port "$port" >>"$data_dir/arrow.log" 2>&1 &
echo $! >"$data_dir/arrow.pid"
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { tail -20 "$data_dir/arrow.log"; exit 1; }

echo
echo "ARROW is running on SQLite in $data_dir (pid $(cat "$data_dir/arrow.pid"), log $data_dir/arrow.log)"
echo "URL:   http://127.0.0.1:$port    (API description: http://127.0.0.1:$port/openapi.yaml)"
echo "login: $email"
[ -n "$password" ] && echo "password (shown once): $password"
echo "try:   curl -H \"Authorization: Bearer \$ARROW_TOKEN\" http://127.0.0.1:$port/api/me"
echo "token:"
echo "$token"
