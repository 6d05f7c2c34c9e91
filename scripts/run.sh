#!/usr/bin/env bash
# The main job on the embedded defaults (SQLite and files under ./arrow-data), end to end: builds the release
# binary, makes (or reuses) the Debian base image, starts `arrow serve --with-builder`, uploads the base image
# through the API, triggers a build with security-tools (nmap) and the flags harden_ssh and apply_branding, follows
# it live (phase, progress, log tail), and prints the artifact, what it contains and where it came from.
# The server keeps running afterwards; re-running restarts it. Stop it with: kill "$(cat arrow-data/arrow.pid)"
# Needs root (the builder attaches loop devices and mounts the image).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh

require_swift
[ "$(id -u)" -eq 0 ] || { echo "run.sh needs root: the builder attaches loop devices and mounts images" >&2; exit 2; }
ensure_packages curl ca-certificates qemu-utils qemu-system-x86 genisoimage openssh-client util-linux mount e2fsprogs

data_dir=$(realpath -m "${ARROW_DATA_DIR:-./arrow-data}")
port=${ARROW_PORT:-8080}
email=${ARROW_ADMIN_EMAIL:-admin@arrow.local}
mkdir -p "$data_dir"

echo "building arrow (release; a first build takes several minutes)…"
swift build -c release --product arrow >"$data_dir/build.log" 2>&1 || { tail -40 "$data_dir/build.log"; exit 1; }
bin="$(swift build -c release --show-bin-path)/arrow"
echo "making the Debian base image (cached after the first run)…"
base_image=$(bash scripts/base-image.sh)
ansible=$(ensure_ansible)

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

ARROW_ANSIBLE_PLAYBOOK="$ansible" nohup "$bin" serve --data-dir "$data_dir" --port "$port" --with-builder \
    --roles-dir "$PWD/imaging/roles" >>"$data_dir/arrow.log" 2>&1 &
echo $! >"$data_dir/arrow.pid"
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { tail -20 "$data_dir/arrow.log"; exit 1; }
export ARROW_API="http://127.0.0.1:$port" ARROW_TOKEN="$token"

echo
echo "ARROW is running on SQLite in $data_dir with an embedded builder (pid $(cat "$data_dir/arrow.pid"), log $data_dir/arrow.log)"
echo "URL:   $ARROW_API    (API description: $ARROW_API/openapi.yaml)"
echo "login: $email"
[ -n "$password" ] && echo "password (shown once): $password"
echo "token: $token"
echo

# The organization's configuration: a user with a key, branding, a time zone.
org=$(curl -fsS -H "Authorization: Bearer $token" "$ARROW_API/api/me" | python3 -c 'import json,sys; print(json.load(sys.stdin)["organization"]["id"])')
[ -f "$data_dir/demo_key.pub" ] || ssh-keygen -q -t ed25519 -N "" -C "demo@arrow" -f "$data_dir/demo_key" 2>/dev/null \
    || { ensure_packages openssh-client; ssh-keygen -q -t ed25519 -N "" -C "demo@arrow" -f "$data_dir/demo_key"; }
python3 - "$data_dir/demo_key.pub" >"$data_dir/client-config.json" <<'EOF'
import json, sys
key = open(sys.argv[1]).read().strip()
print(json.dumps({
    "users": [{"name": "operator", "ssh_authorized_keys": [key], "sudo": True}],
    "branding": {"organization_name": "ARROW demo", "motd": "Welcome to the ARROW demo image", "login_banner": "Authorized use only"},
    "timezone": "UTC",
}))
EOF
curl -fsS -X PUT -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
    --data @"$data_dir/client-config.json" "$ARROW_API/api/organizations/$org/client-config" >/dev/null
echo "client config set for the organization (user operator with $data_dir/demo_key.pub, branding)"

started=$(date +%s)
echo "uploading the base image…"
image=$("$bin" image upload "$base_image" --name "debian-bookworm-base" | tail -n 1)
echo "triggering a build (security-tools: nmap; harden_ssh; apply_branding)…"
task=$("$bin" build trigger "$image" --vm-name demo-01 \
    --options '{"software":[{"name":"nmap","ansible_role":"security-tools"}],"ansible_flags":{"harden_ssh":true,"apply_branding":true}}' | tail -n 1)
echo "task $task; following it:"
status=0
"$bin" build show "$task" --watch --tail 3 || status=$?
elapsed=$(( $(date +%s) - started ))
if [ "$status" -ne 0 ]; then
    echo "the build did not succeed; its summary:" >&2
    "$bin" build logs "$task" --file summary >&2 || true
    exit 1
fi
artifact=$("$bin" build show "$task" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["artifact_image_id"])')
echo
echo "artifact $artifact (upload → artifact in ${elapsed} s):"
"$bin" image show "$artifact"
