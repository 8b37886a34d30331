#!/usr/bin/env sh
# Installs the Prism mock server used by crates/ghl-core/tests/contract_prism.rs
# into .tmp/prism (git-ignored). Prism 5.16 needs Node 24; 5.14.2 runs on Node 20.
set -eu
cd "$(dirname "$0")/.."
if [ -x .tmp/prism/node_modules/.bin/prism ]; then
    echo "prism already installed: .tmp/prism/node_modules/.bin/prism"
    exit 0
fi
mkdir -p .tmp/prism
npm install --no-audit --no-fund --prefix .tmp/prism @stoplight/prism-cli@5.14.2
echo "installed: .tmp/prism/node_modules/.bin/prism"
