# collector-bench.sh — sourced by the benchmark scripts that run `execwatch-collector`
# (bench-collector.sh, bench-e2e-latency.sh): a throwaway PKI made with openssl, the collector
# started on loopback with TLS and token auth, and /proc readings of a process's CPU and memory.
# Sets no trap: the sourcing script stops what it started (the pids are added to STARTED_PIDS).
# Expects: log, cmd, WORK, PY (/usr/bin/python3), COLLECTOR (the binary), arrays COMMANDS and
# STARTED_PIDS.

# make_pki DIR — a CA (EC P-256, valid 2 days) and a server certificate signed by it for
# IP:127.0.0.1 and DNS:localhost (extendedKeyUsage serverAuth), like Tests/collector's CA class.
# Sets CA_CERT, SERVER_CERT, SERVER_KEY.
make_pki() {
    local dir=$1
    mkdir -p "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/ca.key" \
        -out "$dir/ca.pem" -days 2 -subj "/CN=execwatch bench CA" >"$dir/openssl.log" 2>&1 || return 1
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$dir/server.ext"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/server.key" \
        -out "$dir/server.csr" -subj "/CN=execwatch-collector bench" >>"$dir/openssl.log" 2>&1 || return 1
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
        -out "$dir/server.pem" -days 2 -extfile "$dir/server.ext" >>"$dir/openssl.log" 2>&1 || return 1
    chmod 600 "$dir/ca.key" "$dir/server.key"
    CA_CERT=$dir/ca.pem SERVER_CERT=$dir/server.pem SERVER_KEY=$dir/server.key
}

free_port() { # free_port — a TCP port on 127.0.0.1 nobody listens on right now
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# https_status URL — the HTTP status of GET URL (CA_CERT trusted, no auth), or 000.
https_status() {
    "$PY" - "$1" "$CA_CERT" <<'EOF' 2>/dev/null || echo 000
import http.client, ssl, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
c = http.client.HTTPSConnection(u.hostname, u.port, timeout=2, context=ssl.create_default_context(cafile=sys.argv[2]))
c.request("GET", u.path)
print(c.getresponse().status)
EOF
}

# start_collector DIR STORAGE_URL LABEL — writes DIR/collector.yaml (listen 127.0.0.1:free port,
# TLS with the PKI of make_pki, clientAuth off, storage url STORAGE_URL — "" = the collector's
# default SQLite file in its stateDir —, stateDir DIR/state), starts `execwatch-collector serve`
# (log DIR/collector.log) and waits up to 30 s for GET /healthz = 200. Sets COLLECTOR_PID,
# COLLECTOR_PORT, COLLECTOR_URL, COLLECTOR_CONFIG, COLLECTOR_LOG. Returns 1 when it did not come up.
start_collector() {
    local dir=$1 storage=$2 label=$3
    mkdir -p "$dir/state"
    COLLECTOR_PORT=$(free_port)
    COLLECTOR_URL=https://127.0.0.1:$COLLECTOR_PORT
    COLLECTOR_CONFIG=$dir/collector.yaml
    COLLECTOR_LOG=$dir/collector.log
    {
        echo "listen: 127.0.0.1:$COLLECTOR_PORT"
        echo "stateDir: $dir/state"
        echo "tls:"
        echo "  certFile: $SERVER_CERT"
        echo "  keyFile: $SERVER_KEY"
        echo "  clientAuth: off"
        echo "storage:"
        echo "  url: \"$storage\""
    } >"$COLLECTOR_CONFIG"
    serve_collector "$label"
}

# serve_collector LABEL — starts `execwatch-collector serve --config $COLLECTOR_CONFIG` (log appended
# to COLLECTOR_LOG) as start_collector set it up, again after a stop (the same port and store), and
# waits up to 30 s for GET /healthz = 200. Sets COLLECTOR_PID. Returns 1 when it did not come up.
serve_collector() {
    local label=$1 i
    local c="$COLLECTOR serve --config $COLLECTOR_CONFIG"
    cmd "$c"
    COMMANDS+=("$label$c")
    "$COLLECTOR" serve --config "$COLLECTOR_CONFIG" >>"$COLLECTOR_LOG" 2>&1 &
    COLLECTOR_PID=$!
    STARTED_PIDS+=("$COLLECTOR_PID")
    for ((i = 0; i < 300; i++)); do
        kill -0 "$COLLECTOR_PID" 2>/dev/null || break
        [[ $(https_status "$COLLECTOR_URL/healthz") == 200 ]] && return 0
        sleep 0.1
    done
    log "the collector did not answer GET /healthz with 200 within 30 s; its log:"
    tail -n 20 "$COLLECTOR_LOG" >&2
    return 1
}

# add_credential agents|readers NAME FILE — `execwatch-collector agents add NAME` (an agent: the
# hostName of the incidents it may send) or `readers add NAME` (reads incidents); its last line
# (the token) is written to FILE (mode 0600). Returns 1 when the command failed or printed no token.
add_credential() {
    local kind=$1 name=$2 file=$3 out token
    cmd "$COLLECTOR $kind add $name --config $COLLECTOR_CONFIG"
    out=$("$COLLECTOR" "$kind" add "$name" --config "$COLLECTOR_CONFIG" 2>&1) || { log "$kind add failed: $out"; return 1; }
    token=$(tail -n 1 <<<"$out" | tr -d '[:space:]')
    [[ -n $token ]] || { log "$kind add printed no token: $out"; return 1; }
    (umask 077 && printf '%s\n' "$token" >"$file")
    chmod 600 "$file"
}

proc_ticks() { # proc_ticks PID — utime+stime of the process (all its threads), clock ticks
    local line rest f
    read -r line <"/proc/$1/stat" || return 1
    rest=${line##*) }
    read -r -a f <<<"$rest"
    echo $((f[11] + f[12]))   # fields 14 and 15 of stat
}

proc_hwm_kb() { # proc_hwm_kb PID — VmHWM (peak resident set) in kB
    awk '$1 == "VmHWM:" {print $2; found = 1} END {if (!found) print 0}' "/proc/$1/status"
}

# stop_collector — SIGTERM, up to 20 s, then SIGKILL; returns the collector's exit status.
stop_collector() {
    local pid=$COLLECTOR_PID i rc=0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]; then
        log "the collector (pid $pid) did not stop within 20 s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || rc=$?
    return "$rc"
}
