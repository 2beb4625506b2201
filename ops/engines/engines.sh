#!/usr/bin/env bash
# Real Apache Cassandra, Elasticsearch and Stripe's stripe-mock on loopback, without Docker.
#
#   bash ops/engines/engines.sh prereqs|up|down|restart|status|env|logs|wipe [cassandra|es|stripe-mock]...
#
# `up` prints the `export ...` lines (only those go to stdout): eval "$(bash ops/engines/engines.sh up)".
#
# Both come from Maven Central through mvn (the only route to the outside besides the
# package registries): cassandra-all + its dependencies run as a plain CassandraDaemon on
# the system JDK 17; Elasticsearch is the integ-test-zip distribution (the only full
# server distribution published there; it lacks most modules, see README.md).
# stripe-mock (the Stripe API's mock server, for the Stripe payments adapter) is a Go module,
# built from the Go module proxy with `go install` (a few seconds once Go's caches are warm).
# Everything is cached and kept under $ENGINES_DIR (default: <repo>/var/engines).
set -euo pipefail

CASSANDRA_VERSION=5.0.9
ES_VERSION=8.19.21
STRIPE_MOCK_VERSION=v0.203.0
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ENGINES_DIR=${ENGINES_DIR:-$ROOT/var/engines}
mkdir -p "$ENGINES_DIR"
ENGINES_DIR=$(cd "$ENGINES_DIR" && pwd)
# Hundreds of MB of jars and data: never let them reach a commit, whatever .gitignore says.
[[ -f $ENGINES_DIR/.gitignore ]] || echo '*' >"$ENGINES_DIR/.gitignore"
M2_REPO=${ENGINES_M2_REPO:-$ENGINES_DIR/m2}

CASSANDRA_PORT=${CASSANDRA_PORT:-9042}
CASSANDRA_STORAGE_PORT=${CASSANDRA_STORAGE_PORT:-7000}
CASSANDRA_HEAP=${CASSANDRA_HEAP:-1G}
CASSANDRA_START_TIMEOUT=${CASSANDRA_START_TIMEOUT:-180}
ES_HTTP_PORT=${ES_HTTP_PORT:-9200}
ES_TRANSPORT_PORT=${ES_TRANSPORT_PORT:-9300}
ES_HEAP=${ES_HEAP:-512m}
ES_START_TIMEOUT=${ES_START_TIMEOUT:-120}
# Elasticsearch refuses to run as root: when we are root it runs as this system user.
ES_USER=${ES_USER:-commerce-es}
STRIPE_MOCK_PORT=${STRIPE_MOCK_PORT:-12111}
# stripe-mock also serves HTTPS unless told where: keep it on loopback too (its default port).
STRIPE_MOCK_HTTPS_PORT=${STRIPE_MOCK_HTTPS_PORT:-12112}
STRIPE_MOCK_START_TIMEOUT=${STRIPE_MOCK_START_TIMEOUT:-30}
STOP_TIMEOUT=${ENGINES_STOP_TIMEOUT:-45}

C_HOME=$ENGINES_DIR/cassandra/cassandra-$CASSANDRA_VERSION   # jars only; safe to share
C_RUN=$ENGINES_DIR/cassandra/run                               # conf, data, logs, pid
C_PIDFILE=$C_RUN/cassandra.pid
ES_HOME=$ENGINES_DIR/elasticsearch/elasticsearch-$ES_VERSION
ES_RUN=$ENGINES_DIR/elasticsearch/run
ES_PIDFILE=$ES_RUN/elasticsearch.pid
ES_URL=http://127.0.0.1:$ES_HTTP_PORT
SM_BIN=$ENGINES_DIR/stripe-mock/$STRIPE_MOCK_VERSION/stripe-mock  # GOBIN of the go install
SM_RUN=$ENGINES_DIR/stripe-mock/run
SM_PIDFILE=$SM_RUN/stripe-mock.pid
SM_URL=http://127.0.0.1:$STRIPE_MOCK_PORT

log() { printf '[engines] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

java_home() {
    if [[ -n ${ENGINES_JAVA_HOME:-} ]]; then echo "$ENGINES_JAVA_HOME"; return; fi
    local d
    for d in /usr/lib/jvm/java-17-openjdk-*; do
        [[ -x $d/bin/java ]] && { echo "$d"; return; }
    done
    die "no JDK 17 under /usr/lib/jvm (run: bash ops/engines/engines.sh prereqs, or set ENGINES_JAVA_HOME)"
}

# ---------------------------------------------------------------- prereqs

cmd_prereqs() {
    local missing=()
    compgen -G '/usr/lib/jvm/java-17-openjdk-*/bin/javac' >/dev/null || missing+=(openjdk-17-jdk-headless)
    command -v mvn >/dev/null || missing+=(maven)
    command -v curl >/dev/null || missing+=(curl)
    command -v unzip >/dev/null || missing+=(unzip)
    command -v ps >/dev/null || missing+=(procps)
    command -v ss >/dev/null || missing+=(iproute2)
    command -v python3 >/dev/null || missing+=(python3)
    command -v go >/dev/null || missing+=(golang-go)  # stripe-mock is built with go install
    if ((${#missing[@]} == 0)); then
        log "prereqs: all present"
        return
    fi
    ((EUID == 0)) || die "missing packages (${missing[*]}); run as root to install them"
    log "prereqs: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ---------------------------------------------------------------- helpers

pid_of() { # pidfile expected-cmdline-fragment -> prints pid when that process is alive
    local pid
    [[ -s $1 ]] || return 1
    pid=$(tr -dc '0-9' <"$1")
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
    # A recycled pid belonging to something else is not ours.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2" || return 1
    echo "$pid"
}
cassandra_pid() { pid_of "$C_PIDFILE" org.apache.cassandra.service.CassandraDaemon; }
es_pid() { pid_of "$ES_PIDFILE" org.elasticsearch; }
stripe_mock_pid() { pid_of "$SM_PIDFILE" "$SM_BIN"; }

port_busy() { ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }

render() { # template output: fill @NAME@ placeholders from variables of the same name
    sed -e "s|@CASSANDRA_RUN@|$C_RUN|g" \
        -e "s|@CASSANDRA_PORT@|$CASSANDRA_PORT|g" \
        -e "s|@CASSANDRA_STORAGE_PORT@|$CASSANDRA_STORAGE_PORT|g" \
        -e "s|@ES_RUN@|$ES_RUN|g" \
        -e "s|@ES_HTTP_PORT@|$ES_HTTP_PORT|g" \
        -e "s|@ES_TRANSPORT_PORT@|$ES_TRANSPORT_PORT|g" \
        -e "s|@ES_HEAP@|$ES_HEAP|g" \
        "$1" >"$2"
}

tail_logs() { # name file...
    local name=$1 f
    shift
    for f in "$@"; do
        [[ -s $f ]] || continue
        log "---- last 60 lines of $f ----"
        tail -n 60 "$f" >&2
    done
    log "---- end of $name logs ----"
}

probe_python() {
    local py=${PYTHON:-$ROOT/.venv/bin/python}
    [[ -x $py ]] || py=$(command -v python3) || die "no python3 for the CQL readiness probe"
    echo "$py"
}

mvn_q() { # quiet unless it fails
    local out=$ENGINES_DIR/mvn-last.log
    mvn -B -q -Dmaven.repo.local="$M2_REPO" "$@" >"$out" 2>&1 || { cat "$out" >&2; die "mvn failed (see above)"; }
}

# ---------------------------------------------------------------- cassandra

cassandra_provision() {
    [[ -f $C_HOME/.complete ]] && return
    log "cassandra: fetching cassandra-all $CASSANDRA_VERSION and dependencies (first run only)"
    rm -rf "$C_HOME"
    mkdir -p "$C_HOME"
    mvn_q -f "$HERE/cassandra/pom.xml" -Dcassandra.version="$CASSANDRA_VERSION" \
        "$DEP_PLUGIN:copy-dependencies" -DincludeScope=runtime -DoutputDirectory="$C_HOME/lib"
    compgen -G "$C_HOME/lib/jamm-*.jar" >/dev/null || die "cassandra: jamm jar missing from dependencies"
    touch "$C_HOME/.complete"
}

cassandra_start() {
    cassandra_provision
    if cassandra_pid >/dev/null; then
        log "cassandra: already running (pid $(cassandra_pid))"
        return
    fi
    port_busy "$CASSANDRA_PORT" && die "cassandra: port $CASSANDRA_PORT is taken by another process"
    port_busy "$CASSANDRA_STORAGE_PORT" && die "cassandra: port $CASSANDRA_STORAGE_PORT is taken by another process"
    mkdir -p "$C_RUN"/{conf,data,commitlog,saved_caches,hints,cdc_raw,logs,triggers}
    render "$HERE/cassandra/cassandra.yaml.in" "$C_RUN/conf/cassandra.yaml"
    # Extra yaml lines for experiments, e.g. CASSANDRA_YAML_EXTRA='materialized_views_enabled: true'
    [[ -n ${CASSANDRA_YAML_EXTRA:-} ]] && printf '%s\n' "$CASSANDRA_YAML_EXTRA" >>"$C_RUN/conf/cassandra.yaml"
    cp "$HERE/cassandra/logback.xml" "$C_RUN/conf/logback.xml"

    local java jamm opts=()
    java=$(java_home)/bin/java
    jamm=$(compgen -G "$C_HOME/lib/jamm-*.jar" | head -n1)
    mapfile -t opts < <(grep -Ev '^[[:space:]]*(#|$)' "$HERE/cassandra/jvm17-server.options")
    opts+=(
        "-Xms$CASSANDRA_HEAP" "-Xmx$CASSANDRA_HEAP"
        "-XX:HeapDumpPath=$C_RUN/logs"
        "-javaagent:$jamm"
        "-Dcassandra.config=file://$C_RUN/conf/cassandra.yaml"
        "-Dlogback.configurationFile=file://$C_RUN/conf/logback.xml"
        "-Dcassandra.logdir=$C_RUN/logs"
        "-Dcassandra.storagedir=$C_RUN"
        "-Dcassandra.triggers_dir=$C_RUN/triggers"
        # Keep stdout/stderr open: they go to console.log (JVM and early startup errors).
        "-Dcassandra-foreground=yes"
    )
    : >"$C_RUN/logs/console.log"
    log "cassandra: starting $CASSANDRA_VERSION on 127.0.0.1:$CASSANDRA_PORT (heap $CASSANDRA_HEAP)"
    # setsid: the daemon must outlive this shell and not get its job-control signals;
    # 9>&-: it must not inherit (and so hold forever) our lock.
    (cd "$C_RUN" && exec setsid "$java" "${opts[@]}" -cp "$C_RUN/conf:$C_HOME/lib/*" \
        org.apache.cassandra.service.CassandraDaemon >>"$C_RUN/logs/console.log" 2>&1 </dev/null 9>&-) &
    echo $! >"$C_PIDFILE"
}

cassandra_wait() {
    local py deadline pid
    py=$(probe_python)
    deadline=$((SECONDS + CASSANDRA_START_TIMEOUT))
    while :; do
        if ! pid=$(cassandra_pid); then
            log "cassandra: process exited during startup"
            tail_logs cassandra "$C_RUN/logs/system.log" "$C_RUN/logs/console.log"
            return 1
        fi
        if "$py" "$HERE/cql_probe.py" 127.0.0.1 "$CASSANDRA_PORT" >/dev/null 2>&1; then
            log "cassandra: ready (pid $pid, CQL answers on 127.0.0.1:$CASSANDRA_PORT)"
            return 0
        fi
        if ((SECONDS >= deadline)); then
            log "cassandra: not ready after ${CASSANDRA_START_TIMEOUT}s (still running as pid $pid)"
            tail_logs cassandra "$C_RUN/logs/system.log" "$C_RUN/logs/console.log"
            return 1
        fi
        sleep 1
    done
}

# ---------------------------------------------------------------- elasticsearch

es_provision() {
    if [[ ! -f $ES_HOME/.complete ]]; then
        log "elasticsearch: fetching integ-test-zip $ES_VERSION (first run only)"
        local tmp
        tmp=$(mktemp -d "$ENGINES_DIR/.es-download.XXXXXX")
        mvn_q "$DEP_PLUGIN:copy" \
            -Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" \
            -DoutputDirectory="$tmp"
        unzip -q "$tmp/elasticsearch-$ES_VERSION.zip" -d "$tmp"
        rm -rf "$ES_HOME"
        mkdir -p "$(dirname "$ES_HOME")"
        mv "$tmp/elasticsearch-$ES_VERSION" "$ES_HOME"
        rm -rf "$tmp"
        touch "$ES_HOME/.complete"
    fi
    if ((EUID == 0)) && ! id -u "$ES_USER" >/dev/null 2>&1; then
        log "elasticsearch: creating system user $ES_USER"
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$ES_USER"
    fi
}

es_start() {
    es_provision
    if es_pid >/dev/null; then
        log "elasticsearch: already running (pid $(es_pid))"
        return
    fi
    port_busy "$ES_HTTP_PORT" && die "elasticsearch: port $ES_HTTP_PORT is taken by another process"
    port_busy "$ES_TRANSPORT_PORT" && die "elasticsearch: port $ES_TRANSPORT_PORT is taken by another process"
    mkdir -p "$ES_RUN"/{config,data,logs,tmp}
    # Stock config files (log4j2, jvm.options, ...) with ours on top; the keystore ES
    # creates in config/ on first start is left alone.
    cp -r "$ES_HOME/config/." "$ES_RUN/config/"
    render "$HERE/elasticsearch/elasticsearch.yml.in" "$ES_RUN/config/elasticsearch.yml"
    [[ -n ${ES_YML_EXTRA:-} ]] && printf '%s\n' "$ES_YML_EXTRA" >>"$ES_RUN/config/elasticsearch.yml"
    render "$HERE/elasticsearch/jvm.options.in" "$ES_RUN/config/jvm.options.d/commerce.options"
    rm -f "$ES_PIDFILE"
    : >"$ES_RUN/logs/console.log"

    local as_user=() jhome
    jhome=$(java_home)
    if ((EUID == 0)); then
        chown -R "$ES_USER:" "$ES_RUN"
        as_user=(runuser -u "$ES_USER" --)
    fi
    log "elasticsearch: starting $ES_VERSION on $ES_URL (heap $ES_HEAP)"
    # -d: the CLI returns once the node is started (or failed) and leaves it detached,
    # writing its pid to -p. ES warns below 65535 open files: raise as far as allowed
    # (bootstrap checks only warn on loopback).
    (
        ulimit -n 65535 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
        cd "$ES_RUN"
        exec setsid "${as_user[@]}" env ES_JAVA_HOME="$jhome" ES_PATH_CONF="$ES_RUN/config" \
            ES_TMPDIR="$ES_RUN/tmp" "$ES_HOME/bin/elasticsearch" -d -p "$ES_PIDFILE" \
            >>"$ES_RUN/logs/console.log" 2>&1 </dev/null 9>&-
    ) &
    ES_CLI_PID=$!
}

es_wait() {
    local deadline pid health
    deadline=$((SECONDS + ES_START_TIMEOUT))
    while :; do
        health=$(curl -s --max-time 5 "$ES_URL/_cluster/health?wait_for_status=yellow&timeout=1s" || true)
        if [[ $health =~ \"status\":\"(yellow|green)\" ]] && pid=$(es_pid); then
            log "elasticsearch: ready (pid $pid, cluster ${BASH_REMATCH[1]} on $ES_URL)"
            return 0
        fi
        # The launcher has finished but no server process: the node failed to start.
        if [[ -n ${ES_CLI_PID:-} ]] && ! kill -0 "$ES_CLI_PID" 2>/dev/null && ! es_pid >/dev/null; then
            log "elasticsearch: failed to start"
            tail_logs elasticsearch "$ES_RUN/logs/commerce-dev.log" "$ES_RUN/logs/console.log"
            return 1
        fi
        if ((SECONDS >= deadline)); then
            log "elasticsearch: not ready after ${ES_START_TIMEOUT}s"
            tail_logs elasticsearch "$ES_RUN/logs/commerce-dev.log" "$ES_RUN/logs/console.log"
            return 1
        fi
        sleep 1
    done
}

# ---------------------------------------------------------------- stripe-mock

stripe_mock_provision() {
    [[ -x $SM_BIN ]] && return
    command -v go >/dev/null || die "stripe-mock: no go on PATH (run: bash ops/engines/engines.sh prereqs)"
    log "stripe-mock: go install github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION (first run only)"
    local out=$ENGINES_DIR/go-install-last.log
    mkdir -p "$(dirname "$SM_BIN")"
    # GOTOOLCHAIN passes through: a release needing a newer Go than the one installed
    # builds with e.g. GOTOOLCHAIN=go1.27.3.
    GOBIN=$(dirname "$SM_BIN") GOFLAGS=-buildvcs=false go install \
        "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION" >"$out" 2>&1 \
        || { cat "$out" >&2; die "stripe-mock: go install failed (see above)"; }
    [[ -x $SM_BIN ]] || die "stripe-mock: go install left no binary at $SM_BIN"
}

stripe_mock_start() {
    stripe_mock_provision
    if stripe_mock_pid >/dev/null; then
        log "stripe-mock: already running (pid $(stripe_mock_pid))"
        return
    fi
    port_busy "$STRIPE_MOCK_PORT" && die "stripe-mock: port $STRIPE_MOCK_PORT is taken by another process"
    port_busy "$STRIPE_MOCK_HTTPS_PORT" && die "stripe-mock: port $STRIPE_MOCK_HTTPS_PORT is taken by another process"
    mkdir -p "$SM_RUN"
    : >"$SM_RUN/console.log"
    log "stripe-mock: starting $STRIPE_MOCK_VERSION on $SM_URL"
    (exec setsid "$SM_BIN" -http-addr "127.0.0.1:$STRIPE_MOCK_PORT" \
        -https-addr "127.0.0.1:$STRIPE_MOCK_HTTPS_PORT" >>"$SM_RUN/console.log" 2>&1 </dev/null 9>&-) &
    echo $! >"$SM_PIDFILE"
}

stripe_mock_wait() {
    local deadline pid code
    deadline=$((SECONDS + STRIPE_MOCK_START_TIMEOUT))
    while :; do
        if ! pid=$(stripe_mock_pid); then
            log "stripe-mock: process exited during startup"
            tail_logs stripe-mock "$SM_RUN/console.log"
            return 1
        fi
        # Any test key is accepted: 200 means the API answers.
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -u sk_test_probe: "$SM_URL/v1/balance" || true)
        if [[ $code == 200 ]]; then
            log "stripe-mock: ready (pid $pid, API answers on $SM_URL)"
            return 0
        fi
        if ((SECONDS >= deadline)); then
            log "stripe-mock: not ready after ${STRIPE_MOCK_START_TIMEOUT}s"
            tail_logs stripe-mock "$SM_RUN/console.log"
            return 1
        fi
        sleep 0.2
    done
}

# ---------------------------------------------------------------- stop / status

stop_one() { # name pid-function pidfile
    local name=$1 pid waited=0
    if ! pid=$($2); then
        rm -f "$3"
        log "$name: not running"
        return
    fi
    log "$name: stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do
        if ((waited >= STOP_TIMEOUT)); then
            log "$name: still alive after ${STOP_TIMEOUT}s, killing"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 1
            break
        fi
        sleep 1
        waited=$((waited + 1))
    done
    rm -f "$3"
    log "$name: stopped"
}

status_one() { # name pid-function port
    local pid rss
    if pid=$($2); then
        rss=$(ps -o rss= -p "$pid" | tr -d ' ')
        printf '%-14s running  pid=%-8s port=%-5s rss=%s MiB\n' "$1" "$pid" "$3" "$((rss / 1024))"
    else
        printf '%-14s stopped  pid=-        port=%-5s rss=-\n' "$1" "$3"
        return 1
    fi
}

cmd_env() {
    cat <<EOF
export CASSANDRA_HOSTS=127.0.0.1:$CASSANDRA_PORT
export ELASTICSEARCH_URL=$ES_URL
export STRIPE_API_BASE=$SM_URL
EOF
}

# ---------------------------------------------------------------- main

ENGINES=()
engines_from_args() {
    local e
    (($# == 0)) && set -- cassandra elasticsearch stripe-mock
    ENGINES=()
    for e in "$@"; do
        case $e in
            c | cassandra) ENGINES+=(cassandra) ;;
            es | elasticsearch) ENGINES+=(elasticsearch) ;;
            sm | stripe-mock) ENGINES+=(stripe-mock) ;;
            *) die "unknown engine '$e' (cassandra|elasticsearch|stripe-mock)" ;;
        esac
    done
}

main() {
    local cmd=${1:-help}
    (($#)) && shift
    local rc=0 e
    engines_from_args "$@"
    case $cmd in
        up | start | down | stop | restart | wipe)
            # Serialise concurrent callers (two test runs doing `up` at once).
            if [[ -z ${ENGINES_LOCKED:-} ]]; then
                exec 9>"$ENGINES_DIR/.lock"
                flock -w 600 9 || die "another engines.sh holds $ENGINES_DIR/.lock"
                ENGINES_LOCKED=1
            fi
            ;;
    esac
    case $cmd in
        prereqs) cmd_prereqs ;;
        up | start)
            # One after the other: on 2 busy cores booting both JVMs at once was slower.
            for e in "${ENGINES[@]}"; do
                case $e in
                    cassandra) cassandra_start; cassandra_wait || rc=1 ;;
                    elasticsearch) es_start; es_wait || rc=1 ;;
                    stripe-mock) stripe_mock_start; stripe_mock_wait || rc=1 ;;
                esac
            done
            ((rc == 0)) || die "startup failed (logs under $ENGINES_DIR)"
            cmd_env
            ;;
        down | stop)
            for e in "${ENGINES[@]}"; do
                case $e in
                    cassandra) stop_one cassandra cassandra_pid "$C_PIDFILE" ;;
                    elasticsearch) stop_one elasticsearch es_pid "$ES_PIDFILE" ;;
                    stripe-mock) stop_one stripe-mock stripe_mock_pid "$SM_PIDFILE" ;;
                esac
            done
            ;;
        restart)
            main down "$@"
            main up "$@"
            ;;
        status)
            for e in "${ENGINES[@]}"; do
                case $e in
                    cassandra) status_one cassandra cassandra_pid "$CASSANDRA_PORT" || rc=3 ;;
                    elasticsearch) status_one elasticsearch es_pid "$ES_HTTP_PORT" || rc=3 ;;
                    stripe-mock) status_one stripe-mock stripe_mock_pid "$STRIPE_MOCK_PORT" || rc=3 ;;
                esac
            done
            return "$rc"
            ;;
        env) cmd_env ;;
        logs)
            for e in "${ENGINES[@]}"; do
                case $e in
                    cassandra) tail_logs cassandra "$C_RUN/logs/system.log" "$C_RUN/logs/console.log" ;;
                    elasticsearch) tail_logs elasticsearch "$ES_RUN/logs/commerce-dev.log" "$ES_RUN/logs/console.log" ;;
                    stripe-mock) tail_logs stripe-mock "$SM_RUN/console.log" ;;
                esac
            done
            ;;
        wipe) # stop and delete data/logs/config, keep the downloads
            main down "$@"
            for e in "${ENGINES[@]}"; do
                case $e in cassandra) rm -rf "$C_RUN" ;; elasticsearch) rm -rf "$ES_RUN" ;; stripe-mock) rm -rf "$SM_RUN" ;; esac
                log "$e: data wiped"
            done
            ;;
        help | -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" ;;
        *) die "unknown command '$cmd' (prereqs|up|down|restart|status|env|logs|wipe)" ;;
    esac
}

main "$@"
