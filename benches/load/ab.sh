#!/usr/bin/env bash
# Interleaved A/B comparison of two partnerlink binaries on the benchmark database, for
# before/after numbers on a machine whose load moves between runs (see README
# "Benchmark"). Needs the database run.sh loaded (at any scale: its size is read from
# the database) and its load generator.
#
#   benches/load/ab.sh BEFORE_BINARY AFTER_BINARY [--scenarios a,b] [--rounds N]
#                      [--duration S] [--connections N]
#
# For every scenario and round it runs A then B, each freshly started, for --duration
# seconds at --connections connections (after a 2 s warm-up), and prints the median
# req/s, p50, p99 and service CPU per request (user + system, warm-up included) of each
# and the ratio B ÷ A of req/s. Where the database sets the pace, throughput cannot
# show a change of the service's own cost: its CPU per request does. Writes change the
# data both see.
# Environment as run.sh (PARTNERLINK_BENCH_PG, PARTNERLINK_BENCH_DB, PARTNERLINK_*).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ $# -ge 2 ]] || { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; exit 2; }
A="$(realpath "$1")"; B="$(realpath "$2")"; shift 2
SCENARIOS="get_subscription,advisor_history_at,partner_search,partner_relationships,put_advisor,purchase"
ROUNDS=3; DURATION=10; CONNECTIONS=32
while [[ $# -gt 0 ]]; do
    case "$1" in
        --scenarios) SCENARIOS="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --connections) CONNECTIONS="$2"; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
PORT="${PARTNERLINK_BENCH_PORT:-18080}"
PG_PARAMS="${PARTNERLINK_BENCH_PG_PARAMS-sslmode=disable}"
DB_URL="${PARTNERLINK_BENCH_PG:-postgres://postgres@127.0.0.1:5432}/${PARTNERLINK_BENCH_DB:-partnerlink_bench}${PG_PARAMS:+?$PG_PARAMS}"
read -r TENANTS SUBS < <(psql -X -Atq -F ' ' -d "$DB_URL" -c "SELECT tenants, subs FROM bench_meta") ||
    { echo "no benchmark data in $DB_URL: run benches/load/run.sh first" >&2; exit 1; }
SECRET="partnerlink-bench-secret-0123456789abcdef"
LOADGEN="$HERE/loadgen/target/release/partnerlink-loadgen"
[[ -x "$LOADGEN" ]] || cargo build --release --quiet --manifest-path "$HERE/loadgen/Cargo.toml" --target-dir "$HERE/loadgen/target"
OUT="$(mktemp -d)"
PID=""
trap '[[ -n "$PID" ]] && kill "$PID" 2>/dev/null; rm -rf "$OUT"' EXIT

# One run of binary $1 on scenario $2; appends "rps p50 p99 cpu_us" to $3.
measure() {
    local cpu0
    DATABASE_URL="$DB_URL" PARTNERLINK_LISTEN="127.0.0.1:$PORT" PARTNERLINK_JWT_HS256_SECRET="$SECRET" \
        RUST_LOG="${RUST_LOG:-info}" "$1" >>"$OUT/server.log" 2>&1 &
    PID=$!
    for _ in $(seq 300); do
        curl -fs "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1 && break
        sleep 0.05
    done
    cpu0=$(awk '{ print $14 + $15 }' "/proc/$PID/stat")
    "$LOADGEN" --url "http://127.0.0.1:$PORT" --tenants "$TENANTS" --subs "$SUBS" --secret "$SECRET" \
        --scenario "$2" --connections "$CONNECTIONS" --duration "$DURATION" --warmup 2 \
        --seed "$((RANDOM + 1))" >"$OUT/run.json" 2>/dev/null || true
    local ticks=$(( $(awk '{ print $14 + $15 }' "/proc/$PID/stat") - cpu0 ))
    kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['rps'], d['p50_ms'], d['p99_ms'], int(sys.argv[2]) / int(sys.argv[3]) * 1e6 / d['total_requests'])" \
        "$OUT/run.json" "$ticks" "$(getconf CLK_TCK)" >>"$3"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf 'A = %s\nB = %s\n%s rounds of %s s at %s connections; load average at start: %s\n\n' \
    "$A" "$B" "$ROUNDS" "$DURATION" "$CONNECTIONS" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '| scenario | A req/s | A p50 ms | A p99 ms | A CPU µs | B req/s | B p50 ms | B p99 ms | B CPU µs | B ÷ A |\n|---|---|---|---|---|---|---|---|---|---|\n'
for sc in ${SCENARIOS//,/ }; do
    : >"$OUT/a"; : >"$OUT/b"
    for _ in $(seq "$ROUNDS"); do
        measure "$A" "$sc" "$OUT/a"
        measure "$B" "$sc" "$OUT/b"
    done
    row=()
    for f in a b; do
        for col in 1 2 3 4; do row+=("$(cut -d' ' -f$col "$OUT/$f" | median)"); done
    done
    printf '| %s | %.0f | %.1f | %.1f | %.0f | %.0f | %.1f | %.1f | %.0f | %.2f |\n' "$sc" "${row[@]}" \
        "$(awk -v a="${row[0]}" -v b="${row[4]}" 'BEGIN { print a ? b / a : 0 }')"
done
printf '\nload average at the end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
