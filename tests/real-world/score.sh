#!/usr/bin/env bash
# Scores archlint on the labelled real-world corpus; see README.md beside this file.
# Repositories without a local mirror are skipped, saying so.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec cargo run --quiet --release -p archlint --example real_world -- "$@"
