#!/usr/bin/env bash
# Run the test suite as two pytest processes, one per core, each on its own PostgreSQL test
# database, Redis database and S3 bucket (the services from scripts/test-services.sh, whose
# variables must be in the environment). Extra arguments go to both pytest runs.
#
# The browser tests and the authorization matrix take about as long as everything else, so
# they form the first shard. With PYTEST_ARGS naming tests, or SHARDS=1, one process runs all.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
cd "$ROOT"

if [[ "${SHARDS:-2}" == 1 || $# -gt 0 ]]; then
	exec "$PY" -m pytest "$@"
fi

FIRST=(tests/browser tests/accounts/test_authorization_matrix.py)

# A second bucket, database name and Redis database for the second shard.
"$PY" - <<'EOF'
import os

import boto3

s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"], region_name=os.environ["S3_REGION"],
                  aws_access_key_id=os.environ["S3_ACCESS_KEY"], aws_secret_access_key=os.environ["S3_SECRET_KEY"])
try:
    s3.create_bucket(Bucket=os.environ["S3_BUCKET"] + "-2")
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
EOF
LOG="$ROOT/var/test-shard-1.log"
"$PY" -m pytest "${FIRST[@]}" >"$LOG" 2>&1 &
first=$!
DATABASE_URL="${DATABASE_URL}_2" REDIS_URL="${REDIS_URL_2:-${REDIS_URL%/*}/14}" S3_BUCKET="${S3_BUCKET}-2" \
	"$PY" -m pytest $(printf -- '--ignore=%s ' "${FIRST[@]}")
second=$?
wait "$first"
status=$?
echo "=== shard 1: ${FIRST[*]} ==="
cat "$LOG"
[[ $status -eq 0 && $second -eq 0 ]]
