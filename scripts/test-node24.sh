#!/usr/bin/env bash
# Runs the tests of what Lambda runs (the synthesized bundles, the built command, the local
# pipeline) on Node 24, the Lambda runtime's major (scripts/node24.sh finds or fetches it).
set -euo pipefail
cd "$(dirname "$0")/.."
TESTS=(test/cdk/bundles.test.ts test/local/bundle.test.ts test/emulators/serverless-pipeline.test.ts)
NODE="$(bash scripts/node24.sh)"
echo "test:node24: $("$NODE" --version)" >&2
exec "$NODE" node_modules/vitest/vitest.mjs run "${TESTS[@]}"
