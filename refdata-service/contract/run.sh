#!/usr/bin/env bash
# Contract check: validates /openapi.json as OpenAPI 3.1 and runs schemathesis with every check
# against a live refdata service, admin routes included: the service is started with an admin
# token (REFDATA_ADMIN_TOKEN) that schemathesis sends, so the admin routes are fuzzed with real
# writes on a throwaway database, and its `ignored_auth` check sends every admin request once
# without the token and once with a wrong one, expecting 401.
#
#   refdata-service/contract/run.sh                     # 100 examples per operation
#   refdata-service/contract/run.sh --max-examples 20   # the brief run CI does
#
# Installs schemathesis and openapi-spec-validator from PyPI into a virtualenv
# (REFDATA_CONTRACT_VENV, default target/contract-venv) on first use.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
max_examples=100
while [ $# -gt 0 ]; do
    case "$1" in
        --max-examples) max_examples="$2"; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done

target_dir="${CARGO_TARGET_DIR:-$root/target}"
venv="${REFDATA_CONTRACT_VENV:-$target_dir/contract-venv}"
if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "schemathesis>=4,<5" "openapi-spec-validator>=0.7"
fi

cargo build --quiet --release -p refdata-service --manifest-path "$root/Cargo.toml"
# A fresh database per run, kept in the target directory.
mkdir -p "$target_dir/contract"
rm -f "$target_dir/contract/refdata.db" "$target_dir/contract/refdata.db-wal" \
    "$target_dir/contract/refdata.db-shm"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
token="contract-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
REFDATA_ADMIN_TOKEN="$token" RUST_LOG=warn "$target_dir/release/refdata" serve \
    --listen "127.0.0.1:$port" --database-url "sqlite://$target_dir/contract/refdata.db" &
service=$!
trap 'kill "$service" 2>/dev/null || true; wait "$service" 2>/dev/null || true' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
    if curl -fsS "$base/readyz" >/dev/null 2>&1; then break; fi
    sleep 0.1
done
curl -fsS "$base/readyz" >/dev/null

"$venv/bin/python" - "$base/openapi.json" <<'PY'
import json, sys, urllib.request
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator
document = json.load(urllib.request.urlopen(sys.argv[1]))
validate(document, cls=OpenAPIV31SpecValidator)
ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
assert len(ids) == len(set(ids)), f"duplicate operationIds: {ids}"
print(f"openapi.json: valid OpenAPI {document['openapi']}, {len(ids)} unique operationIds")
PY

# schemathesis and hypothesis keep their caches in the working directory: keep them out of
# the source tree. The change stream never ends, so it is left out of the run (its first
# events are checked by tests/admin.rs, `the_change_stream_announces_new_versions_at_once`).
cd "$target_dir/contract"
# refdata_checks.py adds a check: a schema-valid request refused with 412 or 422 is refused
# for a data-dependent reason, never for its shape (see schemathesis.toml).
PYTHONPATH="$here" SCHEMATHESIS_HOOKS=refdata_checks \
    "$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run "$base/openapi.json" \
    --checks all \
    --max-examples "$max_examples" \
    --seed 1 \
    --exclude-path /v1/changes/stream \
    --header "Authorization: Bearer $token" \
    --no-color
