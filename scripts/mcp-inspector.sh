#!/usr/bin/env bash
# List the tools of `ghl --sandbox mcp` with the official MCP Inspector CLI
# (stdio, offline) and fail if it lists none. Used by CI.
#
#   scripts/mcp-inspector.sh [path/to/ghl]
#
# Inspector 0.15.0 is the last release that runs on Node 20 (see TOOLING.md).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
ghl="${1:-$root/target/debug/ghl}"
if [[ ! -x "$ghl" ]]; then
  (cd "$root" && cargo build -p ghl-cli)
fi

# A throwaway sandbox database, so the run never touches the user's.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export GHL_SANDBOX_DB="$tmp/sandbox.db"

out="$tmp/tools.json"
npx -y @modelcontextprotocol/inspector@0.15.0 --cli "$ghl" --sandbox mcp --method tools/list >"$out"

count="$(node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log((r.tools || []).length)' "$out")"
bytes="$(wc -c <"$out" | tr -d ' ')"
echo "MCP Inspector: ghl mcp lists $count tools ($bytes bytes)"
if [[ "$count" -lt 1 ]]; then
  echo "error: the MCP Inspector listed no tools" >&2
  cat "$out" >&2
  exit 1
fi
