#!/usr/bin/env bash
# run-local.sh (`make run`) — execwatch on this machine in one command: installs what is needed,
# builds, makes a local CA and certificates on first use, starts a collector on the embedded
# SQLite default and an agent that forwards to it over TLS, says what to try, and runs until
# Ctrl-C (both are then stopped; audit is handed back as the agent found it).
#
# Everything it creates lives in .run/ in the source tree (certificates, tokens, configuration,
# the agent's journal, the collector's database, logs); `rm -rf .run` starts over.
#
# Environment: RUN_CONFIGURATION (debug; or release), RUN_PORT (8443, the collector),
#              RUN_METRICS_PORT (9466, the agent's /metrics),
#              RUN_SMOKE=1 (run `nc -h`, wait for its incident at the collector, stop: a check).
# Needs root: the agent reads kernel audit.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN=$REPO/.run
CONFIGURATION=${RUN_CONFIGURATION:-debug}
PORT=${RUN_PORT:-8443}
METRICS_PORT=${RUN_METRICS_PORT:-9466}
SWIFT=${SWIFT:-swift}

say() { printf '\033[1m[make run]\033[0m %s\n' "$*" >&2; }
die() { printf '[make run] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run me as root (sudo make run): the agent reads kernel audit"
[[ $CONFIGURATION == debug || $CONFIGURATION == release ]] || die "RUN_CONFIGURATION is debug or release"

# A port another program holds is found now, before a first build of several minutes.
check_port() { # port, who uses it, the setting that changes it
    [[ $1 =~ ^[0-9]+$ ]] && (($1 > 0 && $1 < 65536)) || die "$3=$1: expected a port number"
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null || return 0
    local holder
    holder=$(ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:(("[^"]*"' | head -n 1 | cut -d '"' -f 2 || true)
    die "port $1 on 127.0.0.1 ($2) is already in use${holder:+ by $holder}; pick a free one: $3=PORT make run"
}
check_port "$PORT" "the collector" RUN_PORT
check_port "$METRICS_PORT" "the agent's metrics" RUN_METRICS_PORT

say "installing what is needed (apt-get, only what is missing)"
"$REPO/scripts/install-deps.sh" build run

say "building ($CONFIGURATION; the first build takes several minutes)"
(cd "$REPO" && $SWIFT build -c "$CONFIGURATION" --product execwatch && $SWIFT build -c "$CONFIGURATION" --product execwatch-collector)
BIN=$(cd "$REPO" && $SWIFT build -c "$CONFIGURATION" --show-bin-path)
AGENT=$BIN/execwatch
COLLECTOR=$BIN/execwatch-collector

mkdir -p "$RUN"
chmod 700 "$RUN"
PKI=$RUN/pki
if [ ! -f "$PKI/ca.pem" ]; then
    say "first run: making a local CA and certificates in $PKI"
    mkdir -p "$PKI"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
        -subj "/CN=execwatch local CA" -keyout "$PKI/ca.key" -out "$PKI/ca.pem" 2>/dev/null
    issue() { # name, extensions
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
            -keyout "$PKI/$1.key" -out "$PKI/$1.csr" 2>/dev/null
        printf '%s\n' "$2" >"$PKI/$1.ext"
        openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial \
            -days 825 -extfile "$PKI/$1.ext" -out "$PKI/$1.pem" 2>/dev/null
        rm -f "$PKI/$1.csr" "$PKI/$1.ext"
    }
    issue collector "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
    issue "$(hostname)" "extendedKeyUsage=clientAuth"
    chmod 600 "$PKI"/*.key
fi

cat >"$RUN/collector.yaml" <<EOF
# Written by make run. The collector: TLS with the local CA's certificate; agents authenticate
# with a client certificate from the local CA or with a token.
listen: 127.0.0.1:$PORT
tls:
  certFile: $PKI/collector.pem
  keyFile: $PKI/collector.key
  clientCAFile: $PKI/ca.pem
  clientAuth: optional
stateDir: $RUN/collector
EOF

token_for() { # agents|readers name -> token file (made once)
    local file=$RUN/$2.token
    if [ ! -s "$file" ]; then
        "$COLLECTOR" "$1" add "$2" --config "$RUN/collector.yaml" | tail -n 1 >"$file.new"
        chmod 600 "$file.new"
        mv "$file.new" "$file"
    fi
    echo "$file"
}
# The agent's name is its hostName (this host's name): it may send only this host's incidents.
AGENT_TOKEN=$(token_for agents "$(hostname)")
# The page is read with a reader's token (agents' tokens read nothing). Before readers existed,
# .run/viewer.token was an agent's: that agent is revoked.
if [ -e "$RUN/viewer.token" ]; then
    "$COLLECTOR" agents revoke viewer --config "$RUN/collector.yaml" >/dev/null 2>&1 || true
    rm -f "$RUN/viewer.token"
fi
VIEWER_TOKEN=$(token_for readers reader)

cat >"$RUN/agent.yaml" <<EOF
# Written by make run. The agent: this host's executions, forwarded to the local collector.
stateDir: $RUN/agent
status:
  socket: $RUN/agent.sock
metrics:
  listen: 127.0.0.1:$METRICS_PORT
forward:
  url: https://127.0.0.1:$PORT
  caFile: $PKI/ca.pem
  tokenFile: $AGENT_TOKEN
EOF

PIDS=()
stop_all() {
    trap - EXIT INT TERM
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do wait "$pid" 2>/dev/null || true; done
    say "stopped (state kept in $RUN)"
}
trap stop_all EXIT
trap 'exit 0' INT TERM

"$COLLECTOR" serve --config "$RUN/collector.yaml" >>"$RUN/collector.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
    curl -fsS --cacert "$PKI/ca.pem" "https://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    kill -0 "${PIDS[0]}" 2>/dev/null || die "the collector stopped; see $RUN/collector.log: $(tail -n 3 "$RUN/collector.log")"
    sleep 0.1
done
say "collector up at https://127.0.0.1:$PORT (log: $RUN/collector.log)"

"$AGENT" run --config "$RUN/agent.yaml" >>"$RUN/agent.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
    "$AGENT" status --socket "$RUN/agent.sock" >/dev/null 2>&1 && break
    kill -0 "${PIDS[1]}" 2>/dev/null || die "the agent stopped; see $RUN/agent.log: $(tail -n 3 "$RUN/agent.log")"
    sleep 0.1
done
SOURCE=$("$AGENT" status --json --socket "$RUN/agent.sock" | sed -n 's/.*"source":"\([^"]*\)".*/\1/p')
say "agent up, capturing with $SOURCE, forwarding to the collector (log: $RUN/agent.log)"

if [ "${RUN_SMOKE:-}" = 1 ]; then
    nc -h >/dev/null 2>&1 || true
    for _ in $(seq 1 100); do
        if "$COLLECTOR" incidents --config "$RUN/collector.yaml" --json --host "$(hostname)" | grep -q '"procName":"nc"'; then
            say "smoke check: the incident of 'nc -h' reached the collector"
            exit 0
        fi
        sleep 0.1
    done
    die "smoke check: no incident for 'nc -h' at the collector after 10 s"
fi

cat >&2 <<EOF

  Try, in another terminal:   nc -h        (or: ncat --version, netcat -h)

  Where to look:
    the collector's page      https://127.0.0.1:$PORT/   user: anything, password: $(cat "$VIEWER_TOKEN")
                              (the certificate is from the local CA $PKI/ca.pem; or:
                               curl --cacert $PKI/ca.pem -u reader:\$(cat $VIEWER_TOKEN) https://127.0.0.1:$PORT/)
    the collector's store     $COLLECTOR incidents --config $RUN/collector.yaml
    the agent's journal       $AGENT incidents --state-dir $RUN/agent
    the agent's status        $AGENT status --socket $RUN/agent.sock
    metrics                   http://127.0.0.1:$METRICS_PORT/metrics (agent), https://127.0.0.1:$PORT/metrics (collector)

  Ctrl-C stops both.
EOF
wait "${PIDS[@]}"
