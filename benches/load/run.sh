#!/usr/bin/env bash
# partnerlink load benchmark with a bare-PostgreSQL anchor (issue 5). See the
# "Benchmark" section of README.md.
#
#   benches/load/run.sh [--scale small|default|large] [--rounds N] [--duration S]
#                       [--connections N] [--warmup S] [--scenarios a,b,...] [--count-requests N]
#                       [--no-count] [--no-build] [--reuse-db] [--port P] [--client loadgen|wrk]
#
# Creates (drops first) the database partnerlink_bench, migrates it with the release
# binary, loads sql/load.sql at the chosen scale, then for every scenario alternates
# --rounds times (3) a run of the service over HTTP with loadgen/ and a run of the same
# SQL with pgbench (pgbench/<scenario>.sql), --duration seconds (10) each at --connections
# keep-alive connections, after one --warmup of each. Interleaving keeps a drift in the
# machine's speed from favouring either side; the table gives the medians over the rounds
# (the ratio is the median of the rounds' ratios). Everything measured is kept under
# benches/load/results/<time>-<scale>/.
#
# --client wrk drives the four read scenarios with wrk (Debian's package) and
# wrk/reads.lua instead of loadgen/, as a second opinion on the HTTP client's share;
# its requests carry one operator token instead of one tenant admin token per tenant.
#
# Environment: PARTNERLINK_BENCH_PG (server URL without a database, default
# postgres://postgres@127.0.0.1:5432), PARTNERLINK_BENCH_DB (default partnerlink_bench),
# PARTNERLINK_BENCH_PG_LOG (PostgreSQL's log file, for counting statements; default: the
# newest /var/log/postgresql/postgresql-*.log), PARTNERLINK_BENCH_PG_PARAMS (libpq URL
# parameters for the service, pgbench and psql alike; default sslmode=disable, as the
# service's default URL; empty for libpq's default),
# PARTNERLINK_BENCH_JOBS (pgbench threads, default 2), and any PARTNERLINK_* / RUST_LOG
# setting, passed to the service as is.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

SCALE=default
ROUNDS=3
DURATION=10
WARMUP=3
CONNECTIONS=32
COUNT=1
COUNT_REQUESTS=200
BUILD=1
REUSE=0
PORT="${PARTNERLINK_BENCH_PORT:-18080}"
CLIENT=loadgen
SCENARIOS="get_subscription,advisor_history_at,partner_search,partner_relationships,put_advisor,purchase"
PG_SERVER="${PARTNERLINK_BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
DB="${PARTNERLINK_BENCH_DB:-partnerlink_bench}"
JOBS="${PARTNERLINK_BENCH_JOBS:-2}"
SECRET="partnerlink-bench-secret-0123456789abcdef"
GLOBALS=200
LOCATIONS=800

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --scale) SCALE="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --connections) CONNECTIONS="$2"; shift 2 ;;
        --scenarios) SCENARIOS="$2"; shift 2 ;;
        --count-requests) COUNT_REQUESTS="$2"; shift 2 ;;
        --no-count) COUNT=0; shift ;;
        --no-build) BUILD=0; shift ;;
        --reuse-db) REUSE=1; shift ;;
        --port) PORT="$2"; shift 2 ;;
        --client) CLIENT="$2"; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "unknown option $1" >&2; usage 2 ;;
    esac
done

[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "--rounds must be a positive integer" >&2; exit 2; }

case "$SCALE" in
    small) TENANTS=1000; SUBS=10000 ;;
    default) TENANTS=10000; SUBS=100000 ;;
    large) TENANTS=100000; SUBS=1000000 ;;
    *) echo "--scale must be small, default or large" >&2; exit 2 ;;
esac

[[ "$CLIENT" == loadgen || "$CLIENT" == wrk ]] || { echo "--client must be loadgen or wrk" >&2; exit 2; }
for tool in psql pgbench cargo $([[ "$CLIENT" == wrk ]] && echo wrk); do
    command -v "$tool" >/dev/null || { echo "run.sh needs $tool on PATH" >&2; exit 1; }
done

OUT="$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)-$SCALE"
mkdir -p "$OUT"
BIN="$ROOT/target/release/partnerlink"
LOADGEN="$HERE/loadgen/target/release/partnerlink-loadgen"
PG_PARAMS="${PARTNERLINK_BENCH_PG_PARAMS-sslmode=disable}"
DB_URL="$PG_SERVER/$DB${PG_PARAMS:+?$PG_PARAMS}"
SERVER_PID=""
LOG_STATEMENT_SET=0

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -d "$PG_SERVER/postgres${PG_PARAMS:+?$PG_PARAMS}" "$@"; }
# Every timed run starts right after a checkpoint, so each pays the same full-page writes.
checkpoint() { psql_db -c CHECKPOINT >/dev/null; }
psql_db() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB_URL" "$@"; }

stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}

cleanup() {
    stop_server
    if [[ "$LOG_STATEMENT_SET" == 1 ]]; then
        psql_admin -c "ALTER DATABASE \"$DB\" RESET log_statement" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One HTTP/1.1 GET over bash's /dev/tcp; prints the raw answer.
http_get() {
    (
        exec 3<>"/dev/tcp/127.0.0.1/$PORT"
        printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$1" "$PORT" >&3
        cat <&3
    ) 2>/dev/null
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Starts the service; sets SERVER_PID and STARTUP_MS (spawn to /health/ready = 200).
start_server() {
    local started
    started=$(now_ms)
    DATABASE_URL="$DB_URL" \
    PARTNERLINK_LISTEN="127.0.0.1:$PORT" \
    PARTNERLINK_JWT_HS256_SECRET="$SECRET" \
    RUST_LOG="${RUST_LOG:-info}" \
        "$BIN" >>"$OUT/server.log" 2>&1 &
    SERVER_PID=$!
    local deadline=$((started + 30000))
    until [[ "$(http_get /health/ready | head -n 1)" == *" 200 "* ]]; do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "the service exited; see $OUT/server.log" >&2
            tail -n 20 "$OUT/server.log" >&2
            SERVER_PID=""
            exit 1
        fi
        if (( $(now_ms) > deadline )); then
            echo "the service was not ready within 30 s" >&2
            exit 1
        fi
        sleep 0.01
    done
    STARTUP_MS=$(( $(now_ms) - started ))
}

# Field of the loadgen's one-line JSON result.
jfield() { { grep -o "\"$2\":[0-9.]*" "$1" || echo ":0"; } | head -n 1 | cut -d: -f2; }

proc_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# utime + stime of a process, in clock ticks.
proc_cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# The median of its arguments (numbers): the middle one, or the mean of the middle two.
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
TICKS=$(getconf CLK_TCK)

# ---------------------------------------------------------------------------------------
if [[ "$BUILD" == 1 ]]; then
    log "building the release binary and the load generator"
    cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" --target-dir "$ROOT/target"
    cargo build --release --quiet --manifest-path "$HERE/loadgen/Cargo.toml" --target-dir "$HERE/loadgen/target"
fi
[[ -x "$BIN" && -x "$LOADGEN" ]] || { echo "missing $BIN or $LOADGEN (run without --no-build)" >&2; exit 1; }

# The endpoints the binary under test serves.
mapfile -t SCENARIO_LIST < <(tr ',' '\n' <<<"$SCENARIOS" | sed '/^$/d')

# ---------------------------------------------------------------------------------------
loaded=0
# A database loaded before sql/load.sql defined bench_uuid_v7 is loaded again.
if [[ "$REUSE" == 1 ]] && psql_db -Atc "SELECT tenants || ' ' || subs FROM bench_meta
                                        WHERE to_regproc('bench_uuid_v7') IS NOT NULL" 2>/dev/null \
        | grep -qx "$TENANTS $SUBS"; then
    log "reusing $DB ($TENANTS tenants, $SUBS subscriptions; earlier runs' writes are kept)"
    loaded=1
fi
if [[ "$loaded" == 0 ]]; then
    log "creating $DB and migrating it"
    psql_admin -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null
    psql_admin -c "CREATE DATABASE \"$DB\"" >/dev/null
    DATABASE_URL="$DB_URL" "$BIN" migrate >"$OUT/migrate.log" 2>&1
    log "loading $TENANTS tenants, $SUBS subscriptions, $((GLOBALS + LOCATIONS)) partners"
    t0=$(now_ms)
    psql_db -v tenants="$TENANTS" -v subs="$SUBS" -v globals="$GLOBALS" -v locations="$LOCATIONS" \
        -f "$HERE/sql/load.sql" >"$OUT/load.log" 2>&1 || { cat "$OUT/load.log" >&2; exit 1; }
    psql_db -c "VACUUM (ANALYZE)" >/dev/null
    psql_db -c "CREATE TABLE bench_meta AS SELECT $TENANTS AS tenants, $SUBS AS subs" >/dev/null
    log "loaded in $(( ($(now_ms) - t0) / 1000 )) s"
fi
psql_db -Atc "SELECT 'rows: ' || string_agg(relname || '=' || n_live_tup, ' ' ORDER BY relname)
              FROM pg_stat_user_tables WHERE relname <> 'bench_meta'" | tee "$OUT/rows.txt" >&2

# ---------------------------------------------------------------------------------------
log "EXPLAIN of every endpoint statement -> $OUT/explain.txt"
psql_db -v explain_out="$OUT/explain.txt" -f "$HERE/sql/explain.sql" >/dev/null
# The no-overlap GiST answers a lookup by subscription too, at ~8 times the btree's buffers.
awk '/^### /{ q = $2 " (" $3 ")" } /Seq Scan/{ print "  sequential scan in " q ": " $0 }
     /advisor_associations_no_overlap/{ print "  the no-overlap GiST in " q ": " $0 }' \
    "$OUT/explain.txt" | tee "$OUT/explain-seqscans.txt" >&2
if [[ ! -s "$OUT/explain-seqscans.txt" ]]; then
    echo "  no sequential scan: every statement uses an index" | tee "$OUT/explain-seqscans.txt" >&2
fi

# ---------------------------------------------------------------------------------------
# One issue time for every run: the same tokens throughout, as a client reusing its token
# sends them (the service verifies a token's signature once). Seeds differ from one
# invocation to the next: a put_advisor run that replayed an earlier one's picks on a
# reused database would ask for the advisors already set, and change nothing.
STARTED=$(date +%s)
LOADGEN_ARGS=(--url "http://127.0.0.1:$PORT" --tenants "$TENANTS" --subs "$SUBS" --secret "$SECRET"
    --issued-at "$STARTED")
seed() { echo $(( STARTED % 1000000 * 1000 + $1 )); }
PGBENCH_ARGS=(-n -M prepared -D "tenants=$TENANTS" -D "subs=$SUBS")

if [[ "$CLIENT" == wrk ]]; then
    WRK_TOKEN=$(PARTNERLINK_JWT_HS256_SECRET="$SECRET" "$BIN" token --role operator --sub bench-wrk --ttl 86400)
fi

available() { # scenario -> 0 when the binary serves it, an anchor script exists and the client drives it
    local sc="$1"
    [[ -f "$HERE/pgbench/$sc.sql" ]] || return 1
    if [[ "$CLIENT" == wrk && ( "$sc" == put_advisor || "$sc" == purchase ) ]]; then
        return 1
    fi
    if [[ "$sc" == partner_relationships ]]; then
        grep -q '"/v1/tenants/{tenantId}/partner-relationships"' "$OUT/openapi.json" || return 1
    fi
    return 0
}

declare -A SVC_STMTS PG_STMTS SVC_UNNAMED
if [[ "$COUNT" == 1 ]]; then
    PG_LOG="${PARTNERLINK_BENCH_PG_LOG:-$(ls -t /var/log/postgresql/postgresql-*.log 2>/dev/null | head -n 1 || true)}"
    if [[ -z "$PG_LOG" || ! -r "$PG_LOG" ]]; then
        log "PostgreSQL's log file is not readable (set PARTNERLINK_BENCH_PG_LOG): statements not counted"
        COUNT=0
    fi
fi
count_since() { # offset -> log lines of statements run in $DB since the offset
    sleep 0.5
    tail -c +"$(( $1 + 1 ))" "$PG_LOG" | grep -E "@$DB LOG:  (statement|execute [^:]*): " || true
}

if [[ "$COUNT" == 1 ]]; then
    log "counting SQL statements per request (log_statement = all on $DB, $COUNT_REQUESTS requests each)"
    psql_admin -c "ALTER DATABASE \"$DB\" SET log_statement = 'all'" >/dev/null
    LOG_STATEMENT_SET=1
    start_server
    http_get /openapi.json >"$OUT/openapi.json"
    for sc in "${SCENARIO_LIST[@]}"; do
        available "$sc" || continue
        # Warm up: the pool's first connection and diesel's statement cache.
        "$LOADGEN" "${LOADGEN_ARGS[@]}" --scenario "$sc" --requests 5 --connections 1 --seed "$(seed 99)" >/dev/null
        off=$(stat -c %s "$PG_LOG")
        "$LOADGEN" "${LOADGEN_ARGS[@]}" --scenario "$sc" --requests "$COUNT_REQUESTS" --connections 1 --seed "$(seed 7)" \
            >"$OUT/$sc.count.json"
        count_since "$off" >"$OUT/$sc.service-statements.log"
        SVC_STMTS[$sc]=$(awk -v n="$COUNT_REQUESTS" 'END { printf "%.1f", NR / n }' "$OUT/$sc.service-statements.log")
        SVC_UNNAMED[$sc]=$({ grep -c 'execute <unnamed>' "$OUT/$sc.service-statements.log" || true; } \
            | awk -v n="$COUNT_REQUESTS" '{ printf "%.1f", $1 / n }')
        off=$(stat -c %s "$PG_LOG")
        pgbench "${PGBENCH_ARGS[@]}" -c 1 -t "$COUNT_REQUESTS" -f "$HERE/pgbench/$sc.sql" "$DB_URL" \
            >"$OUT/$sc.pgbench-count.txt" 2>&1
        count_since "$off" >"$OUT/$sc.pgbench-statements.log"
        PG_STMTS[$sc]=$(awk -v n="$COUNT_REQUESTS" 'END { printf "%.1f", NR / n }' "$OUT/$sc.pgbench-statements.log")
        log "  $sc: service ${SVC_STMTS[$sc]} statements/request (${SVC_UNNAMED[$sc]} unprepared), pgbench ${PG_STMTS[$sc]}/transaction"
        # A put_advisor request whose stale guess picked the current advisor is a no-op
        # with fewer statements (1 in 23 of those): a tenth of a statement is no drift.
        if awk -v a="${SVC_STMTS[$sc]}" -v b="${PG_STMTS[$sc]}" 'BEGIN { exit !(a - b > 0.25 || b - a > 0.25) }'; then
            log "  WARNING: $sc: pgbench/$sc.sql no longer matches the service's statements; compare $OUT/$sc.*-statements.log"
        fi
    done
    stop_server
    psql_admin -c "ALTER DATABASE \"$DB\" RESET log_statement" >/dev/null
    LOG_STATEMENT_SET=0
fi

# ---------------------------------------------------------------------------------------
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "starting the service for the timed runs (load average $LOADAVG_START)"
start_server
log "startup to ready: $STARTUP_MS ms (already migrated database)"
[[ -s "$OUT/openapi.json" ]] || http_get /openapi.json >"$OUT/openapi.json"
POOL=$(http_get /metrics | awk '$1 == "partnerlink_db_pool_max" { print $2 }')
[[ -n "$POOL" ]] || { echo "the service's /metrics has no partnerlink_db_pool_max" >&2; exit 1; }
log "the service's pool: $POOL connections"
# Drives the service at $CONNECTIONS connections for scenario $sc (seed $1, $2 seconds,
# output to $3.json and $3.err); adds the service's CPU ticks, the outbox events written
# and the requests answered to cpu_ticks, events and total. Fails as the load generator
# (more than 1 % unexpected answers).
drive() {
    local cpu0 events0 status=0
    cpu0=$(proc_cpu "$SERVER_PID")
    events0=$(psql_db -Atc "SELECT count(*) FROM events")
    if [[ "$CLIENT" == wrk ]]; then
        SCENARIO="$sc" TENANTS="$TENANTS" SUBS="$SUBS" TOKEN="$WRK_TOKEN" SEED="$1" RESULT="$3.json" \
            wrk -t 1 -c "$CONNECTIONS" -d "${2}s" -s "$HERE/wrk/reads.lua" "http://127.0.0.1:$PORT" \
            >"$3.err" 2>&1 || status=$?
        if (( $(jfield "$3.json" unexpected) * 100 > $(jfield "$3.json" total_requests) )); then
            status=1
        fi
    else
        "$LOADGEN" "${LOADGEN_ARGS[@]}" --scenario "$sc" --connections "$CONNECTIONS" --seed "$1" \
            --duration "$2" --warmup 0 >"$3.json" 2>"$3.err" || status=$?
    fi
    cpu_ticks=$(( cpu_ticks + $(proc_cpu "$SERVER_PID") - cpu0 ))
    events=$(( events + $(psql_db -Atc "SELECT count(*) FROM events") - events0 ))
    total=$(( total + $(jfield "$3.json" total_requests) ))
    return "$status"
}
declare -A ROW RATIOS
for sc in "${SCENARIO_LIST[@]}"; do
    if ! available "$sc"; then
        log "$sc: skipped (endpoint not in this binary's OpenAPI document, no pgbench/$sc.sql, or a write with wrk)"
        ROW[$sc]="skipped"
        continue
    fi
    log "$sc: warm-up, ${WARMUP} s of the service and ${WARMUP} s of pgbench"
    cpu_ticks=0 events=0 total=0
    drive "$(seed 98)" "$WARMUP" "$OUT/$sc.service-warmup" || true
    pgbench "${PGBENCH_ARGS[@]}" -c "$CONNECTIONS" -j "$JOBS" -T "$WARMUP" -f "$HERE/pgbench/$sc.sql" \
        "$DB_URL" >"$OUT/$sc.pgbench-warmup.txt" 2>&1
    R_RPS=() R_P50=() R_P99=() R_TPS=() R_PG50=() R_PG99=() R_RATIO=() unexpected=0
    for round in $(seq "$ROUNDS"); do
        log "$sc: round $round of $ROUNDS: service, then pgbench, $CONNECTIONS connections, $DURATION s each"
        json="$OUT/$sc.service.$round.json"
        checkpoint
        status=0
        drive "$(seed "$round")" "$DURATION" "$OUT/$sc.service.$round" || status=$?
        unexpected=$(( unexpected + $(jfield "$json" unexpected) ))
        if [[ "$status" != 0 ]]; then
            log "  WARNING: more than 1% unexpected answers: $(head -c 300 "$OUT/$sc.service.$round.err")"
        fi
        rm -f "$OUT/pgbench_log_$sc".*
        checkpoint
        pgbench "${PGBENCH_ARGS[@]}" -c "$CONNECTIONS" -j "$JOBS" -T "$DURATION" -f "$HERE/pgbench/$sc.sql" \
            --log --log-prefix="$OUT/pgbench_log_$sc" "$DB_URL" >"$OUT/$sc.pgbench.$round.txt" 2>&1 \
            || { cat "$OUT/$sc.pgbench.$round.txt" >&2; exit 1; }
        tps=$(awk '/^tps = .*without initial connection time/ { printf "%.1f", $3 }' "$OUT/$sc.pgbench.$round.txt")
        # Per-transaction log: client, transaction, latency (us), ...
        read -r pg50 pg99 < <(cat "$OUT/pgbench_log_$sc".* | awk '{ print $3 }' | sort -n \
            | awk '{ v[NR] = $1 } END { i50 = int(NR * 0.5 + 0.999); i99 = int(NR * 0.99 + 0.999);
                     printf "%.3f %.3f\n", v[i50] / 1000, v[i99] / 1000 }')
        rm -f "$OUT/pgbench_log_$sc".*
        rps=$(jfield "$json" rps)
        R_RPS+=("$rps") R_P50+=("$(jfield "$json" p50_ms)") R_P99+=("$(jfield "$json" p99_ms)")
        R_TPS+=("$tps") R_PG50+=("$pg50") R_PG99+=("$pg99")
        R_RATIO+=("$(awk -v a="$rps" -v b="$tps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')")
        log "  $sc round $round: service $rps req/s, pgbench $tps tps, ratio ${R_RATIO[-1]}"
    done
    RATIOS[$sc]="${R_RATIO[*]}"
    events=$(awk -v e="$events" -v n="$total" 'BEGIN { printf "%.2f", n ? e / n : 0 }')
    cpu_us=$(awk -v c="$cpu_ticks" -v t="$TICKS" -v n="$total" 'BEGIN { printf "%.0f", n ? c / t * 1e6 / n : 0 }')
    # The database's throughput with as many connections as the service's pool has.
    log "$sc: pgbench, $POOL clients (the service's pool size), $DURATION s"
    checkpoint
    pgbench "${PGBENCH_ARGS[@]}" -c "$POOL" -j "$JOBS" -T "$DURATION" -f "$HERE/pgbench/$sc.sql" \
        "$DB_URL" >"$OUT/$sc.pgbench-pool.txt" 2>&1 || { cat "$OUT/$sc.pgbench-pool.txt" >&2; exit 1; }
    tps_pool=$(awk '/^tps = .*without initial connection time/ { printf "%.1f", $3 }' "$OUT/$sc.pgbench-pool.txt")
    rps=$(median "${R_RPS[@]}")
    ratio=$(median "${R_RATIO[@]}")
    ratio_pool=$(awk -v a="$rps" -v b="$tps_pool" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    ROW[$sc]="$rps $(median "${R_P50[@]}") $(median "${R_P99[@]}") $(median "${R_TPS[@]}") $(median "${R_PG50[@]}") $(median "${R_PG99[@]}") $ratio $cpu_us $unexpected $events $tps_pool $ratio_pool"
    log "  $sc: ${ROW[$sc]}"
done
RSS_PEAK_KB=$(proc_field "$SERVER_PID" VmHWM | tr -d ' kB')
RSS_NOW_KB=$(proc_field "$SERVER_PID" VmRSS | tr -d ' kB')
THREADS=$(proc_field "$SERVER_PID" Threads)
stop_server

# ---------------------------------------------------------------------------------------
{
    echo
    echo "partnerlink load benchmark: scale $SCALE ($TENANTS tenants, $SUBS subscriptions, $((GLOBALS + LOCATIONS)) partners)"
    echo "$CONNECTIONS connections, $ROUNDS interleaved rounds of ${DURATION} s (service, then pgbench) after ${WARMUP} s warm-up; medians over the rounds; $(nproc) cores; $(psql_db -Atc 'SHOW server_version' | cut -d' ' -f1) PostgreSQL"
    echo "service: pool $POOL connections, ${PARTNERLINK_WORKERS:-default} workers, RUST_LOG=${RUST_LOG:-info}; HTTP client: $CLIENT"
    echo
    printf '| %-22s | %9s | %7s | %7s | %11s | %7s | %7s | %13s | %11s | %10s | %9s | %10s | %10s | %10s |\n' \
        scenario "req/s" "p50 ms" "p99 ms" "pgbench tps" "pg p50" "pg p99" "svc / pgbench" "pgbench@pool" "svc / @pool" "stmts/req" "unprepared" "svc CPU us" "events/req"
    printf '|%s|\n' "------------------------|-----------|---------|---------|-------------|---------|---------|---------------|-------------|------------|-----------|------------|------------|------------"
    for sc in "${SCENARIO_LIST[@]}"; do
        if [[ "${ROW[$sc]:-skipped}" == skipped ]]; then
            printf '| %-22s | %s |\n' "$sc" "skipped: endpoint or anchor script missing, or a write with wrk"
            continue
        fi
        read -r rps p50 p99 tps pg50 pg99 ratio cpu_us unexpected events tps_pool ratio_pool <<<"${ROW[$sc]}"
        stmts="${SVC_STMTS[$sc]:-n/a}"
        [[ -n "${PG_STMTS[$sc]:-}" && "${PG_STMTS[$sc]}" != "$stmts" ]] && stmts="$stmts (pgbench ${PG_STMTS[$sc]})"
        printf '| %-22s | %9s | %7s | %7s | %11s | %7s | %7s | %13s | %11s | %10s | %9s | %10s | %10s | %10s |\n' \
            "$sc" "$rps" "$p50" "$p99" "$tps" "$pg50" "$pg99" "$ratio" "$tps_pool" "$ratio_pool" "$stmts" "${SVC_UNNAMED[$sc]:-n/a}" "$cpu_us" "$events"
        if [[ "$unexpected" != 0 ]]; then
            echo "|   ($unexpected unexpected answers; see $OUT/$sc.service.*.err)"
        fi
    done
    echo
    for sc in "${SCENARIO_LIST[@]}"; do
        [[ -n "${RATIOS[$sc]:-}" ]] && echo "svc / pgbench by round, $sc: ${RATIOS[$sc]}"
    done
    echo "service peak RSS (VmHWM): $((RSS_PEAK_KB / 1024)) MiB; RSS at the end: $((RSS_NOW_KB / 1024)) MiB; threads at the end: $THREADS"
    echo "startup to ready on the migrated database: $STARTUP_MS ms"
    echo "load average (1, 5, 15 min) before the timed runs: $LOADAVG_START; after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "EXPLAIN: $(cat "$OUT/explain-seqscans.txt" | sed 's/^ *//' | paste -sd ';' -)"
    echo "pgbench@pool: the same script with as many clients as the service's pool ($POOL): the database's best case."
    echo "stmts/req: statements PostgreSQL logged (log_statement = all) per request, $COUNT_REQUESTS sequential requests;"
    echo "unprepared: of those, sent as unnamed statements (parse and execute: one more round trip each)."
    echo "svc CPU us: the service process's CPU time per request (user + system);"
    echo "events/req: outbox events the service wrote per request (1 per advisor change, 2 per purchase)."
    echo "results: $OUT"
} | tee "$OUT/summary.txt"
