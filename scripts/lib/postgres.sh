# Starts a throwaway PostgreSQL cluster owned by this run, on a loopback port, and stops it on exit.
# shellcheck shell=bash

# start_postgres DIR PORT: initdb in DIR (as the postgres user when run as root), listen on 127.0.0.1:PORT,
# trust authentication on loopback only. Exports PG_BIN. Registers a trap that stops the cluster.
start_postgres() {
    local dir="$1" port="$2"
    ensure_packages postgresql
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    export PG_BIN
    local run=()
    if [ "$(id -u)" -eq 0 ]; then
        run=(runuser -u postgres --)
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    "${run[@]}" "$PG_BIN/initdb" -D "$dir/data" -U arrow --auth=trust -E UTF8 >/dev/null
    "${run[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null
    PG_STOP=("${run[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -m fast stop)
    trap 'stop_postgres' EXIT
    echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

stop_postgres() {
    [ -n "${PG_STOP+x}" ] && "${PG_STOP[@]}" >/dev/null 2>&1 || true
}
