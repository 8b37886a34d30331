#!/usr/bin/env bash
# Every check the project has, as CI runs it. Installs what the tests need
# (Prism from npm) into .tmp/ first. Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "catalog is up to date with ../shared/ghl-openapi"
cargo xtask catalog --check

step "formatting"
cargo fmt --all -- --check

step "install Prism (contract test)"
bash scripts/install-prism.sh

step "lints"
cargo clippy --workspace --all-targets -- -D warnings

mkdir -p .tmp
step "start a throwaway PostgreSQL on loopback (store tests run on both backends)"
eval "$(bash scripts/pg-test-server.sh start)"
trap 'bash scripts/pg-test-server.sh stop' EXIT

step "tests"
cargo test --workspace --no-fail-fast 2>&1 | tee .tmp/test.log
grep -E '^test result:' .tmp/test.log | awk '{p+=$4; f+=$6; i+=$8} END {printf "\nall tests: %d passed, %d failed, %d ignored\n", p, f, i}'

if [ -f scripts/mcp-inspector.sh ]; then
  step "MCP Inspector lists the tools"
  bash scripts/mcp-inspector.sh
fi
