#!/bin/bash
# Rebuild bench/RESULTS.md from the JSON of the last sitting (bench/results/) without re-running.
#   bench/summarize.sh [RESULTS_DIR] [OUT.md]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE/.."
go run ./bench/report summarize -dir "${1:-$HERE/results}" -o "${2:-$HERE/RESULTS.md}" -notes "$HERE/NOTES.md"
