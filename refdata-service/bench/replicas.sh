#!/usr/bin/env bash
# Scale-out benchmark: three refdata replicas on one PostgreSQL behind nginx
# (nginx-replicas.conf), against a single replica.
#
#   refdata-service/bench/replicas.sh [--duration SECONDS] [--connections N] [--changes N]
#
# Starts a throwaway PostgreSQL (initdb/pg_ctl from PATH or the directory `dpkg -S
# bin/initdb` names; as `nobody` when run as root), three `refdata serve --database-url
# postgres://...` replicas and nginx, then measures
#   1. cached reads (GET /v1/countries/DE) with wrk through nginx and against one replica;
#   2. the first read after a change against the second (a cache hit), on every replica;
#   3. the time from an admin write's acknowledgement until every replica serves it.
# Needs wrk, nginx, curl, python3 and PostgreSQL. Every process it starts is stopped on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
duration=10
connections=64
changes=20
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) duration="${2:?}"; shift 2 ;;
    --connections) connections="${2:?}"; shift 2 ;;
    --changes) changes="${2:?}"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "replicas.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'replicas.sh: %s\n' "$*" >&2; exit 1; }
for tool in wrk curl python3; do command -v "$tool" >/dev/null || die "missing $tool"; done
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
[[ -x "$nginx_bin" ]] || die "missing nginx"
pg_bin="$(dirname "$(command -v initdb 2>/dev/null || true)")"
if [[ ! -x "$pg_bin/initdb" ]]; then
  pg_bin="$(dirname "$(dpkg -S bin/initdb 2>/dev/null | head -n 1 | cut -d' ' -f2)")"
fi
[[ -x "$pg_bin/initdb" && -x "$pg_bin/pg_ctl" ]] || die "PostgreSQL (initdb, pg_ctl) not found"

target_dir="${CARGO_TARGET_DIR:-$root/target}"
log "building refdata (release)"
(cd "$root" && cargo build --quiet --release -p refdata-service --bin refdata) || die "build failed"
bin="$target_dir/release/refdata"

work="$(mktemp -d "${TMPDIR:-/tmp}/refdata-replicas.XXXXXX")"
as_pg=()
if [[ "$(id -u)" -eq 0 ]]; then
  chown nobody "$work"
  as_pg=(runuser -u nobody --)
fi
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [[ -f "$work/nginx.pid" ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

pg_port="$(free_port)"
log "starting PostgreSQL on $pg_port"
"${as_pg[@]}" "$pg_bin/initdb" -A trust -U postgres -E UTF8 -D "$work/pg" >/dev/null
"${as_pg[@]}" "$pg_bin/pg_ctl" -w -D "$work/pg" -l "$work/pg/server.log" \
  -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1" start >/dev/null
database="postgres://postgres@127.0.0.1:$pg_port/postgres"

token="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
ports=()
for i in 1 2 3; do
  port="$(free_port)"
  ports+=("$port")
  REFDATA_ADMIN_TOKEN="$token" RUST_LOG=warn "$bin" serve --listen "127.0.0.1:$port" \
    --database-url "$database" >"$work/replica$i.log" 2>&1 &
  pids+=($!)
  # One at a time, so the first seeds the database and the others find it seeded.
  for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || die "replica $i did not start"
done
listen="$(free_port)"
sed -e "s#{work}#$work#g" -e "s#{port1}#${ports[0]}#" -e "s#{port2}#${ports[1]}#" \
    -e "s#{port3}#${ports[2]}#" -e "s#{listen}#$listen#" "$here/nginx-replicas.conf" >"$work/nginx.conf"
"$nginx_bin" -c "$work/nginx.conf" -p "$work" || die "nginx did not start"
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$listen/readyz" >/dev/null 2>&1 && break; sleep 0.1; done

summary="$work/summary.txt"
wrk_run() {
  local url="$1" out
  curl -fsS "$url" >/dev/null
  wrk -t2 -c"$connections" -d2s "$url" >/dev/null 2>&1
  out="$(wrk -t2 -c"$connections" -d"${duration}s" --latency "$url")"
  printf '%s req/s, p50 %s, p99 %s\n' \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1 == "50%" {print $2}' <<<"$out")" \
    "$(awk '$1 == "99%" {print $2}' <<<"$out")"
}
log "cached reads through nginx (3 replicas)"
printf 'cached GET /v1/countries/DE, nginx -> 3 replicas: %s\n' "$(wrk_run "http://127.0.0.1:$listen/v1/countries/DE")" >>"$summary"
log "cached reads against one replica"
printf 'cached GET /v1/countries/DE, one replica directly: %s\n' "$(wrk_run "http://127.0.0.1:${ports[0]}/v1/countries/DE")" >>"$summary"

log "changes: first read after a change, and propagation to every replica ($changes changes)"
python3 - "$token" "$changes" "${ports[@]}" >>"$summary" <<'PY'
import json, statistics, sys, time, urllib.request
token, changes, ports = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def get(port, path):
    started = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as response:
        body = response.read()
    return time.perf_counter() - started, body
def version(port):
    return json.loads(get(port, "/v1/datasets")[1])["version"]
def admin(method, port, path, data):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
        headers={"Authorization": f"Bearer {token}"}, data=data)
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())
def until_served(written):
    acknowledged = time.perf_counter()
    pending = set(ports)
    while pending:
        for port in list(pending):
            if version(port) >= written:
                pending.discard(port)
        time.sleep(0.0005)
    return time.perf_counter() - acknowledged
ms = lambda values: f"median {statistics.median(values) * 1000:.1f} ms, max {max(values) * 1000:.1f} ms"

# A day of ECB rates, a new figure each time, through the replicas in turn.
path = "/v1/exchange-rates?symbols=USD"
propagation, first, second = [], [], []
for i in range(changes):
    for port in ports:
        get(port, path)  # cached before the change
    csv = f"Date,USD\n2026-11-{2 + i % 2:02d},{1.1 + i / 10000:.4f}\n".encode()
    written = admin("POST", ports[i % len(ports)], "/v1/admin/exchange-rates?reason=benchmark", csv)["version"]
    propagation.append(until_served(written))
    for port in ports:
        first.append(get(port, path)[0])
        second.append(get(port, path)[0])
print(f"ECB import acknowledged -> every replica serves it ({changes} changes, 3 replicas): {ms(propagation)}")
print(f"first read of the latest rates after a change (a render): {ms(first)}; the next read (a cache hit): {ms(second)}")

# A tax-rate period changed back and forth.
rate = lambda value: json.dumps({"country": "DE", "subdivision": None, "type": "standard",
    "rate": value, "valid_from": "2031-01-01", "valid_to": None, "source": "benchmark",
    "reason": "benchmark"}).encode()
created = admin("POST", ports[0], "/v1/admin/tax-rates", rate("21"))
until_served(created["version"])
path = "/v1/tax-rates?country=DE&date=2031-06-01"
propagation, first, second = [], [], []
for i in range(changes):
    for port in ports:
        get(port, path)
    written = admin("PUT", ports[i % len(ports)], f"/v1/admin/tax-rates/{created['id']}", rate(str(20 + i % 2)))["version"]
    propagation.append(until_served(written))
    for port in ports:
        first.append(get(port, path)[0])
        second.append(get(port, path)[0])
print(f"tax-rate change acknowledged -> every replica serves it ({changes} changes, 3 replicas): {ms(propagation)}")
print(f"first read of the tax rates after a change (a render): {ms(first)}; the next read (a cache hit): {ms(second)}")
PY
cat "$summary"
