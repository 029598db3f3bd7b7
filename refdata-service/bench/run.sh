#!/usr/bin/env bash
# Load benchmark of the refdata HTTP service, with nginx serving the same bytes from static
# files as the yardstick.
#
#   refdata-service/bench/run.sh [--duration SECONDS] [--connections N] [--threads N]
#                                [--contract-server] [--default-config] [--miss-storm]
#
# Builds the release binary, starts `refdata serve` on a free loopback port, warms up, then
# drives each scenario with wrk (fixed duration, 64 connections and 2 threads by default),
# first against refdata and then against nginx, and prints requests/s, p99 latency, the CPU
# time each server spent per request, the refdata/nginx throughput ratio and refdata's
# resident memory. Loopback only; every process
# it starts is stopped on exit. Takes about 2 x scenarios x (duration + warm-up): ~100 s.
#
# --contract-server  benchmark the contract server (benches/contract_server.rs: fixed bodies
#                    behind the real caching and metrics layers) instead of `refdata`.
# --default-config   start refdata as shipped (RUST_LOG unset, i.e. info) and give nginx an
#                    access log (its default `combined` format, to a file); without it both are
#                    quiet (RUST_LOG=warn, access_log off).
# --miss-storm       then also run the cache-missing mix (miss-storm.lua: 16 connections asking
#                    for distinct series) while a second wrk measures cache hits on
#                    /v1/countries/DE (4 connections), and report the hits' p99, the renders
#                    and sheds per second and refdata's resident memory.
# Environment:
#   REFDATA_BIN         use this binary instead of building one
#   REFDATA_SERVE_ARGS  arguments starting it; {addr} and {work} (the scratch directory) are
#                       replaced (default: serve --listen {addr} --database-url
#                       sqlite://{work}/refdata.db)
#   BENCH_WARMUP        warm-up seconds per scenario (default 2)
#   BENCH_OUT           also write the summary to this file
#
# Needs wrk, nginx and curl; installs wrk and nginx with apt-get when missing and run as root.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
duration=10
connections=64
threads=2
warmup="${BENCH_WARMUP:-2}"
contract_server=false
default_config=false
miss_storm=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --default-config) default_config=true; shift ;;
    --miss-storm) miss_storm=true; shift ;;
    --duration) duration="${2:?--duration needs seconds}"; shift 2 ;;
    --connections) connections="${2:?--connections needs a number}"; shift 2 ;;
    --threads) threads="${2:?--threads needs a number}"; shift 2 ;;
    --contract-server) contract_server=true; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for value in "$duration" "$connections" "$threads" "$warmup"; do
  [[ "$value" =~ ^[0-9]+$ && "$value" -gt 0 ]] || { echo "run.sh: $value is not a positive integer" >&2; exit 2; }
done

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

ensure_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
  command -v curl >/dev/null || missing+=(curl)
  [[ ${#missing[@]} -eq 0 ]] && return
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
      || { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } \
      || die "could not install ${missing[*]}"
  else
    die "missing ${missing[*]}: install them (Debian: apt-get install ${missing[*]})"
  fi
}
ensure_tools
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"

work="$(mktemp -d "${TMPDIR:-/tmp}/refdata-bench.XXXXXX")"
service_pid=""
nginx_pid=""
cleanup() {
  for pid in "$service_pid" "$nginx_pid"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null && return
  local port
  for _ in $(seq 100); do
    port=$(( (RANDOM % 20000) + 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  die "no free loopback port found"
}

# Waits until GET $1 answers 200, or fails when process $2 exits or $3 seconds pass.
wait_ready() {
  local url="$1" pid="$2" deadline=$(( SECONDS + $3 ))
  until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" || true)" == 200 ]]; do
    kill -0 "$pid" 2>/dev/null || return 1
    (( SECONDS < deadline )) || return 1
    sleep 0.2
  done
}

# --- the service --------------------------------------------------------------------------
target_dir="${CARGO_TARGET_DIR:-$root/target}"
if [[ -n "${REFDATA_BIN:-}" ]]; then
  bin="$REFDATA_BIN"
elif $contract_server; then
  log "building the contract server (release)"
  bin="$(cd "$root" && cargo bench -p refdata-service --bench contract_server --no-run --message-format=json 2>/dev/null \
    | grep -o '"executable":"[^"]*contract_server[^"]*"' | tail -n 1 | cut -d'"' -f4)"
  [[ -n "$bin" ]] || die "building the contract server failed: cargo bench -p refdata-service --bench contract_server --no-run"
else
  log "building refdata (release)"
  (cd "$root" && cargo build --release -p refdata-service --bin refdata) || die "release build failed"
  bin="$target_dir/release/refdata"
fi
[[ -x "$bin" ]] || die "$bin is not an executable"

service_port="$(free_port)"
service="http://127.0.0.1:$service_port"
# (The default is in a variable: a literal `}` inside `${...:-...}` would close it early.)
default_serve_args='serve --listen {addr} --database-url sqlite://{work}/refdata.db'
read -r -a serve_args <<< "${REFDATA_SERVE_ARGS:-$default_serve_args}"
serve_args=("${serve_args[@]//\{addr\}/127.0.0.1:$service_port}")
serve_args=("${serve_args[@]//\{work\}/$work}")
# /metrics needs a token.
bench_token="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export REFDATA_ADMIN_TOKEN="$bench_token"
log "starting $(basename "$bin") ${serve_args[*]}"
if $default_config; then
  env -u RUST_LOG "$bin" "${serve_args[@]}" >"$work/service.log" 2>&1 &
else
  RUST_LOG="${RUST_LOG:-warn}" "$bin" "${serve_args[@]}" >"$work/service.log" 2>&1 &
fi
service_pid=$!
wait_ready "$service/v1/countries/DE" "$service_pid" 60 \
  || { tail -n 20 "$work/service.log" >&2; die "the service did not answer GET /v1/countries/DE with 200"; }

# name|path|wrk script ("" for a plain GET)
scenarios=(
  "GET /v1/countries/DE (cache hit)|/v1/countries/DE|"
  "GET /v1/countries/DE If-None-Match (304)|/v1/countries/DE|if-none-match.lua"
  "GET /v1/convert USD->JPY|/v1/convert?from=USD&to=JPY&amount=12.34&date=2024-01-02|"
  "GET /v1/tax-rates DE 2020-08-01|/v1/tax-rates?country=DE&date=2020-08-01|"
)

# --- nginx serving the same bytes ---------------------------------------------------------
www="$work/www"
mkdir -p "$www" "$work/nginx"
header_of() { grep -i "^$1:" "$2" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }
nginx_locations=""
for index in "${!scenarios[@]}"; do
  IFS='|' read -r _ path _ <<< "${scenarios[$index]}"
  file="$www/body-$index.json"
  status="$(curl -s -D "$work/headers-$index" -o "$file" -w '%{http_code}' "$service$path")"
  [[ "$status" == 200 ]] || die "GET $path answered $status (see the service's response in $file)"
  location="${path%%\?*}"
  if [[ "$nginx_locations" == *"location = $location "* ]]; then continue; fi
  cache_control="$(header_of cache-control "$work/headers-$index")"
  nginx_locations+="
    location = $location {
      alias $file;
      default_type application/json;
      add_header Cache-Control \"${cache_control:-public, max-age=3600}\";
      add_header Vary Accept-Encoding;
    }"
done
chmod -R a+rX "$work"

nginx_port="$(free_port)"
if $default_config; then
  nginx_access_log="access_log $work/nginx/access.log;"
else
  nginx_access_log="access_log off;"
fi
nginx="http://127.0.0.1:$nginx_port"
cat > "$work/nginx/nginx.conf" <<NGINX
worker_processes $threads;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  $nginx_access_log
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  # Keep the descriptors open, as a tuned static server does, so nginx does not pay an
  # open/fstat/close per request.
  open_file_cache max=64 inactive=60s;
  open_file_cache_valid 600s;
  client_body_temp_path $work/nginx/client_body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    $nginx_locations
  }
}
NGINX
"$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
nginx_pid=$!
wait_ready "$nginx/v1/countries/DE" "$nginx_pid" 10 \
  || { cat "$work/nginx/error.log" >&2 2>/dev/null; die "nginx did not start"; }

# --- measuring ----------------------------------------------------------------------------
etag_of() { curl -s -D - -o /dev/null "$1" | grep -i '^etag:' | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }

# Prints "requests_per_second p99_ms errors" for one wrk run.
measure() {
  local url="$1" script="$2" seconds="$3" out="$work/wrk.out"
  local args=(-t "$threads" -c "$connections" -d "${seconds}s" --timeout 2s --latency)
  [[ -n "$script" ]] && args+=(-s "$here/$script")
  timeout $(( seconds + 30 )) wrk "${args[@]}" "$url" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed on $url"; }
  awk '
    /Requests\/sec:/ { rps = $2 }
    $1 == "99%" {
      v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
      p99 = (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : (unit == "m") ? v * 60000 : v
    }
    /Non-2xx or 3xx responses:/ { errors += $NF }
    /Socket errors:/ { gsub(/,/, ""); errors += $4 + $6 + $8 + $10 }
    END { printf "%.0f %.3f %d\n", rps, p99, errors }
  ' "$out"
}

# CPU time (user + system, in clock ticks) used so far by process $1 and its children's
# processes that are still running (nginx workers).
clock_ticks="$(getconf CLK_TCK 2>/dev/null || echo 100)"
cpu_ticks() {
  local total=0 pid ticks
  for pid in "$1" $(ps -o pid= --ppid "$1" 2>/dev/null); do
    # Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    ticks="$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 }')"
    total=$(( total + ${ticks:-0} ))
  done
  echo "$total"
}
# Like measure, plus the CPU microseconds process tree $4 spent per request.
measure_with_cpu() {
  local before after result rps
  before="$(cpu_ticks "$4")"
  result="$(measure "$1" "$2" "$3")"
  after="$(cpu_ticks "$4")"
  read -r rps _ <<< "$result"
  awk -v r="$result" -v t=$(( after - before )) -v hz="$clock_ticks" -v rps="$rps" -v s="$3" \
    'BEGIN { n = rps * s; printf "%s %.1f\n", r, (n > 0) ? t * 1e6 / hz / n : 0 }'
}

rss_of() { awk -v key="$2:" '$1 == key { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null; }
idle_rss="$(rss_of "$service_pid" VmRSS)"

summary="$work/summary.txt"
{
  printf 'refdata load benchmark: %s, wrk -t%s -c%s -d%ss, loopback, %s cores, %s\n' \
    "$(basename "$bin")" "$threads" "$connections" "$duration" "$(nproc)" \
    "$($default_config && echo 'default configuration, nginx access log on' || echo 'quiet: RUST_LOG=warn, nginx access log off')"
  printf '%-42s %12s %9s %9s %12s %9s %9s %7s\n' scenario 'refdata r/s' 'p99 ms' 'cpu us/r' \
    'nginx r/s' 'p99 ms' 'cpu us/r' ratio
} > "$summary"

for index in "${!scenarios[@]}"; do
  IFS='|' read -r name path script <<< "${scenarios[$index]}"
  export BENCH_ETAG=""
  if [[ -n "$script" ]]; then
    BENCH_ETAG="$(etag_of "$service$path")"
    [[ -n "$BENCH_ETAG" ]] || die "$path has no ETag"
    status="$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $BENCH_ETAG" "$service$path")"
    [[ "$status" == 304 ]] || die "$path answered $status, not 304, to If-None-Match: $BENCH_ETAG"
  fi
  log "$name: warm-up ${warmup}s, then ${duration}s on refdata"
  measure "$service$path" "$script" "$warmup" >/dev/null
  result="$(measure_with_cpu "$service$path" "$script" "$duration" "$service_pid")"
  read -r service_rps service_p99 service_errors service_cpu <<< "$result"

  if [[ -n "$script" ]]; then
    BENCH_ETAG="$(etag_of "$nginx$path")"
    status="$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $BENCH_ETAG" "$nginx$path")"
    [[ "$status" == 304 ]] || die "nginx answered $status, not 304, to If-None-Match on $path"
  fi
  log "$name: warm-up ${warmup}s, then ${duration}s on nginx"
  measure "$nginx$path" "$script" "$warmup" >/dev/null
  result="$(measure_with_cpu "$nginx$path" "$script" "$duration" "$nginx_pid")"
  read -r nginx_rps nginx_p99 nginx_errors nginx_cpu <<< "$result"

  ratio="$(awk -v a="$service_rps" -v b="$nginx_rps" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
  printf '%-42s %12s %9s %9s %12s %9s %9s %7s\n' "$name" "$service_rps" "$service_p99" "$service_cpu" \
    "$nginx_rps" "$nginx_p99" "$nginx_cpu" "$ratio" >> "$summary"
  if [[ "$service_errors" -gt 0 || "$nginx_errors" -gt 0 ]]; then
    printf '  (errors: refdata %s, nginx %s; non-2xx/3xx or socket errors)\n' "$service_errors" "$nginx_errors" >> "$summary"
  fi
done

if $miss_storm; then
  log "miss storm: ${duration}s of miss-storm.lua (16 connections) with cache hits measured alongside"
  storm_out="$work/storm.out"
  timeout $(( duration + 30 )) wrk -t 1 -c 16 -d "$(( duration + 2 ))s" --timeout 10s \
    -s "$here/miss-storm.lua" "$service/" >"$storm_out" 2>&1 &
  storm_pid=$!
  sleep 1
  read -r hit_rps hit_p99 hit_errors <<< "$(connections=4 threads=1 measure "$service/v1/countries/DE" "" "$duration")"
  wait "$storm_pid" || true
  awk -v rps="$hit_rps" -v p99="$hit_p99" -v errors="$hit_errors" '
    /Requests\/sec:/ { total = $2 }
    /Non-2xx or 3xx responses:/ { shed = $NF }
    /requests in/ { seconds = $4; sub(/s,?$/, "", seconds) }
    END {
      shed_rate = (seconds > 0) ? shed / seconds : 0
      printf "miss storm (16 conns, distinct series): %.0f req/s, of which %.0f/s rendered and %.0f/s shed with 503\n", total, total - shed_rate, shed_rate
      printf "cache hits during the storm (4 conns): %s req/s, p99 %s ms, %s errors\n", rps, p99, errors
    }' "$storm_out" >> "$summary"
fi

printf 'refdata memory: VmRSS idle %s MiB, after load %s MiB, peak (VmHWM) %s MiB\n' \
  "$idle_rss" "$(rss_of "$service_pid" VmRSS)" "$(rss_of "$service_pid" VmHWM)" >> "$summary"
if curl -s -H "Authorization: Bearer $bench_token" -o "$work/metrics.txt" "$service/metrics" \
    && grep -q '^refdata_response_cache_hits_total' "$work/metrics.txt"; then
  awk '/^refdata_response_cache_(hits_total|misses_total|bytes) / { printf "%s %s  ", $1, $2 } END { print "" }' \
    "$work/metrics.txt" >> "$summary"
fi

cat "$summary"
if [[ -n "${BENCH_OUT:-}" ]]; then
  mkdir -p "$(dirname "$BENCH_OUT")"
  cp "$summary" "$BENCH_OUT"
fi
