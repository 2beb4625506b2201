#!/usr/bin/env bash
# The shop's real Temporal cluster, without Docker: go.temporal.io/server on the project's own
# Cassandra (history) and Elasticsearch (visibility), all services in one process.
#
#   bash ops/cluster/cluster.sh build|up|down|restart|status|env|logs
#
# `up` builds the binaries if needed (go install from the Go module proxy, about 5 minutes and
# 2 GB of modules the first time, seconds after), creates the keyspace and the visibility index
# (once: a second `up` finds them and changes nothing), starts the server, creates the shop's
# namespace, registers its search attributes and waits until the cluster answers.
# The engines (bash ops/engines/engines.sh up) must be running; this script never starts them.
# See docs/cluster.md.
set -euo pipefail

TEMPORAL_VERSION=v1.32.2
# The UI the venv's temporal CLI embeds; the newest (v2.58.x) needs a go.temporal.io/api the proxy refuses.
UI_VERSION=v2.54.1
# The server's go.mod asks for a newer Go than the machine's: the go command fetches this one.
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ENGINES_DIR=${ENGINES_DIR:-$ROOT/var/engines}
mkdir -p "$ENGINES_DIR"
ENGINES_DIR=$(cd "$ENGINES_DIR" && pwd)
[[ -f $ENGINES_DIR/.gitignore ]] || echo '*' >"$ENGINES_DIR/.gitignore"
BIN=$ENGINES_DIR/temporal/$TEMPORAL_VERSION          # GOBIN of the go install: server, cassandra, elasticsearch
UI_BIN=$ENGINES_DIR/temporal-ui/$UI_VERSION/server   # the Temporal UI's own server (optional)
RUN=${CLUSTER_RUN_DIR:-$ROOT/var/cluster}             # logs and pid files
mkdir -p "$RUN"
[[ -f $RUN/.gitignore ]] || echo '*' >"$RUN/.gitignore"

CASSANDRA_HOST=${CASSANDRA_HOST:-127.0.0.1}
CASSANDRA_PORT=${CASSANDRA_PORT:-9042}
ES_URL=${ES_URL:-http://127.0.0.1:9200}
KEYSPACE=${CLUSTER_KEYSPACE:-temporal}
ES_INDEX=${CLUSTER_ES_INDEX:-temporal_visibility_v1_shop}
# The project's copy of the server's visibility template (see docs/cluster.md for the change).
ES_TEMPLATE_FILE=$HERE/visibility_template.v1.32.2-v14.json
ES_TEMPLATE_NAME=temporal_visibility_v1_template   # the name the server's schema tool uses
FRONTEND=127.0.0.1:7933
UI_PORT=${CLUSTER_UI_PORT:-8933}
NAMESPACE=${TEMPORAL_NAMESPACE:-default}
RETENTION=${CLUSTER_RETENTION:-72h}
START_TIMEOUT=${CLUSTER_START_TIMEOUT:-120}
STOP_TIMEOUT=${CLUSTER_STOP_TIMEOUT:-30}
PY=$ROOT/.venv/bin/python
TEMPORAL_CLI=$ROOT/.venv/bin/temporal                 # the temporal CLI the Python SDK's extra ships

SERVER_PIDFILE=$RUN/server.pid
UI_PIDFILE=$RUN/ui.pid

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

pid_of() { # pidfile expected-cmdline-fragment -> prints pid when that process is alive
    local pid
    [[ -s $1 ]] || return 1
    pid=$(tr -dc '0-9' <"$1")
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2" || return 1
    echo "$pid"
}
server_pid() { pid_of "$SERVER_PIDFILE" "$BIN/server"; }
ui_pid() { pid_of "$UI_PIDFILE" "$UI_BIN"; }
port_busy() { ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }
tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

cli() { "$TEMPORAL_CLI" "$@" --address "$FRONTEND" --command-timeout 10s; }

# ---------------------------------------------------------------- build

cmd_build() {
    command -v go >/dev/null || die "no go on PATH (run: bash ops/engines/engines.sh prereqs)"
    if [[ ! -x $BIN/server || ! -x $BIN/cassandra || ! -x $BIN/elasticsearch ]]; then
        log "go install go.temporal.io/server $TEMPORAL_VERSION (server + schema tools; minutes the first time)"
        mkdir -p "$BIN"
        # nice: the build shares the machine with whatever else runs (tests, the engines).
        GOBIN=$BIN GOFLAGS=-buildvcs=false nice -n 19 go install \
            "go.temporal.io/server/cmd/server@$TEMPORAL_VERSION" \
            "go.temporal.io/server/cmd/tools/cassandra@$TEMPORAL_VERSION" \
            "go.temporal.io/server/cmd/tools/elasticsearch@$TEMPORAL_VERSION" >"$RUN/build.log" 2>&1 \
            || { tail -30 "$RUN/build.log" >&2; die "go install failed (log: $RUN/build.log)"; }
    fi
    if [[ ${CLUSTER_UI:-1} == 1 && ! -x $UI_BIN ]]; then
        log "go install the Temporal UI server $UI_VERSION (optional; CLUSTER_UI=0 skips it)"
        mkdir -p "$(dirname "$UI_BIN")"
        GOBIN=$(dirname "$UI_BIN") GOFLAGS=-buildvcs=false nice -n 19 go install \
            "github.com/temporalio/ui-server/v2/cmd/server@$UI_VERSION" >"$RUN/build-ui.log" 2>&1 \
            || log "the UI did not build (log: $RUN/build-ui.log); the temporal CLI still works"
    fi
    log "binaries in $BIN"
}

# ---------------------------------------------------------------- schemas

schema_cassandra() {
    local tool=("$BIN/cassandra" --endpoint "$CASSANDRA_HOST" --port "$CASSANDRA_PORT")
    # Each step is a no-op when already done: IF NOT EXISTS, a version already past 0.0, no newer
    # versioned directory. So a second `up` changes nothing.
    "${tool[@]}" create-keyspace --keyspace "$KEYSPACE" --replication-factor 1 >>"$RUN/schema.log" 2>&1 \
        || die "cassandra: create-keyspace failed (log: $RUN/schema.log)"
    "${tool[@]}" --keyspace "$KEYSPACE" setup-schema --version 0.0 >>"$RUN/schema.log" 2>&1 \
        || die "cassandra: setup-schema failed (log: $RUN/schema.log)"
    # The versioned schema embedded in the tool (the same files as the module's schema/ folder).
    "${tool[@]}" --keyspace "$KEYSPACE" update-schema --schema-name cassandra/temporal >>"$RUN/schema.log" 2>&1 \
        || die "cassandra: update-schema failed (log: $RUN/schema.log)"
    log "cassandra: keyspace $KEYSPACE at the schema of $TEMPORAL_VERSION"
}

schema_elasticsearch() {
    # Not the schema tool's setup-schema: its template declares scaled_float fields, a type of the
    # mapper-extras module that the project's Elasticsearch (the integ-test distribution) lacks.
    # The template is the project's copy with those fields as double (docs/cluster.md). The
    # tool's cluster setting action.auto_create_index=false is left out too: it is cluster-wide
    # and the shop's own indices share this Elasticsearch.
    curl -fsS -o /dev/null -X PUT "$ES_URL/_template/$ES_TEMPLATE_NAME" \
        -H 'Content-Type: application/json' --data-binary "@$ES_TEMPLATE_FILE" \
        || die "elasticsearch: the visibility template was refused"
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' -I "$ES_URL/$ES_INDEX")
    if [[ $code == 404 ]]; then
        curl -fsS -o /dev/null -X PUT "$ES_URL/$ES_INDEX" || die "elasticsearch: creating $ES_INDEX failed"
        log "elasticsearch: created index $ES_INDEX"
    elif [[ $code == 200 ]]; then
        log "elasticsearch: index $ES_INDEX exists"
    else
        die "elasticsearch: HEAD $ES_INDEX answered $code"
    fi
}

# ---------------------------------------------------------------- server

start_server() {
    if server_pid >/dev/null; then
        log "server: already running (pid $(server_pid))"
        return
    fi
    port_busy 7933 && die "port 7933 is taken by another process"
    log "server: starting (log: $RUN/server.log)"
    # setsid: the server outlives this shell and `down` stops it by its pid alone.
    CLUSTER_DYNAMIC_CONFIG=$HERE/dynamicconfig.yaml \
    CLUSTER_CASSANDRA_HOSTS=$CASSANDRA_HOST CLUSTER_CASSANDRA_PORT=$CASSANDRA_PORT \
    CLUSTER_ES_HOST=${ES_URL#http://} CLUSTER_KEYSPACE=$KEYSPACE CLUSTER_ES_INDEX=$ES_INDEX \
        setsid nohup "$BIN/server" --config-file "$HERE/temporal.yaml" --allow-no-auth start \
        >>"$RUN/server.log" 2>&1 </dev/null &
    echo $! >"$SERVER_PIDFILE"
}

wait_healthy() {
    local deadline=$((SECONDS + START_TIMEOUT))
    until cli operator cluster health >/dev/null 2>&1; do
        server_pid >/dev/null || { tail -20 "$RUN/server.log" >&2; die "server exited (log: $RUN/server.log)"; }
        ((SECONDS < deadline)) || die "server not healthy after ${START_TIMEOUT}s (log: $RUN/server.log)"
        sleep 1
    done
}

ensure_namespace() {
    if ! cli operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
        cli operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" >/dev/null \
            || die "creating namespace $NAMESPACE failed"
        log "namespace $NAMESPACE created (retention $RETENTION)"
    fi
    # The frontend's namespace cache refreshes every few seconds: wait until it serves the namespace.
    local deadline=$((SECONDS + 60))
    until cli workflow list --namespace "$NAMESPACE" --limit 1 >/dev/null 2>&1; do
        ((SECONDS < deadline)) || die "namespace $NAMESPACE not served after 60s"
        sleep 1
    done
}

# The shop's custom search attributes (infra.temporal.SEARCH_ATTRIBUTES), registered the way
# every shop process does at startup. Prints how many were missing.
register_search_attributes() {
    TEMPORAL_ADDRESS=$FRONTEND "$PY" - "$FRONTEND" "$NAMESPACE" <<'EOF'
import asyncio, sys
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client
from infra.temporal import SEARCH_ATTRIBUTES, ensure_search_attributes

async def main(address: str, namespace: str) -> None:
    client = await Client.connect(address, namespace=namespace)
    have = (await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace))).custom_attributes
    await ensure_search_attributes(client, namespace)
    print(len([n for n in SEARCH_ATTRIBUTES if n not in have]))

asyncio.run(main(sys.argv[1], sys.argv[2]))
EOF
}

start_ui() {
    [[ ${CLUSTER_UI:-1} == 1 && -x $UI_BIN ]] || return 0
    if ui_pid >/dev/null; then return; fi
    port_busy "$UI_PORT" && { log "ui: port $UI_PORT is taken; no UI"; return; }
    mkdir -p "$RUN/ui/config"
    sed -e "s|@FRONTEND@|$FRONTEND|g" -e "s|@UI_PORT@|$UI_PORT|g" \
        -e "s|@CODEC_ENDPOINT@|${CLUSTER_UI_CODEC_ENDPOINT:-http://127.0.0.1:8000/admin/temporal-codec}|g" \
        "$HERE/ui.yaml" >"$RUN/ui/config/cluster.yaml"
    setsid nohup "$UI_BIN" --root "$RUN/ui" --env cluster start >>"$RUN/ui.log" 2>&1 </dev/null &
    echo $! >"$UI_PIDFILE"
    log "ui: http://127.0.0.1:$UI_PORT (log: $RUN/ui.log)"
}

cmd_up() {
    [[ -x $PY && -x $TEMPORAL_CLI ]] || die "no .venv (run: make install)"
    tcp_open "$CASSANDRA_HOST" "$CASSANDRA_PORT" || die "no Cassandra on $CASSANDRA_HOST:$CASSANDRA_PORT (run: make services)"
    curl -fsS -o /dev/null "$ES_URL/_cluster/health" || die "no Elasticsearch at $ES_URL (run: make services)"
    cmd_build
    if ! server_pid >/dev/null; then
        schema_cassandra
        schema_elasticsearch
    fi
    start_server
    wait_healthy
    ensure_namespace
    local added deadline=$((SECONDS + 60))
    # Right after a start the services may still be joining the ring: try again for a minute.
    until added=$(cd "$ROOT" && register_search_attributes 2>"$RUN/search-attributes.err"); do
        ((SECONDS < deadline)) || { tail -5 "$RUN/search-attributes.err" >&2; die "registering the search attributes failed"; }
        sleep 2
    done
    if [[ $added != 0 ]]; then
        # Each service caches the search attributes for up to 60 s: restart once so that none
        # refuses a workflow's new attribute in the first minute of a fresh cluster.
        log "registered $added search attributes; restarting so every service reads them"
        stop_pid "$(server_pid)" server
        start_server
        wait_healthy
        ensure_namespace
    fi
    start_ui
    log "up: gRPC $FRONTEND, HTTP 127.0.0.1:7943, metrics http://127.0.0.1:9933/metrics; namespace $NAMESPACE"
    echo "export TEMPORAL_ADDRESS=$FRONTEND"
}

stop_pid() { # pid name
    local pid=$1 deadline=$((SECONDS + STOP_TIMEOUT))
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            log "$2: still running after ${STOP_TIMEOUT}s, killing"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.5
    done
    log "$2: stopped (pid $pid)"
}

cmd_down() {
    local pid
    if pid=$(ui_pid); then stop_pid "$pid" ui; fi
    rm -f "$UI_PIDFILE"
    if pid=$(server_pid); then stop_pid "$pid" server; else log "server: not running"; fi
    rm -f "$SERVER_PIDFILE"
}

cmd_status() {
    local pid health=-
    if pid=$(server_pid); then
        health=$(cli operator cluster health 2>/dev/null | tr -s ' \n' ' ' || echo unhealthy)
        printf '%-8s running  pid=%-8s gRPC=%s health=%s\n' server "$pid" "$FRONTEND" "$health"
    else
        printf '%-8s stopped\n' server
    fi
    if pid=$(ui_pid); then
        printf '%-8s running  pid=%-8s http://127.0.0.1:%s\n' ui "$pid" "$UI_PORT"
    else
        printf '%-8s stopped\n' ui
    fi
}

case ${1:-} in
build) cmd_build ;;
up) cmd_up ;;
down) cmd_down ;;
restart) cmd_down; cmd_up ;;
status) cmd_status ;;
env) echo "export TEMPORAL_ADDRESS=$FRONTEND" ;;
logs) tail -n "${2:-50}" "$RUN/server.log" ;;
*) echo "usage: $0 build|up|down|restart|status|env|logs [N]" >&2; exit 2 ;;
esac
