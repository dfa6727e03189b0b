#!/usr/bin/env bash
# Install the pinned yaml-language-server that tests/test_schema_editors.py
# drives over stdio (the editor engine behind VS Code's Red Hat YAML
# extension, Neovim yamlls, Helix, Zed) into a cache directory.
#
#   scripts/install-yaml-language-server.sh   # into $ACCESSOPS_SERVERS/yaml-language-server
#
# Idempotent and reproducible (`npm ci` from the lockfile in
# scripts/yaml-language-server/). Prints the directory on the last line of stdout.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DEST="${ACCESSOPS_SERVERS:-$HOME/.cache/accessops-servers}/yaml-language-server"
VERSION="$(node -p 'require(process.argv[1]).dependencies["yaml-language-server"]' "$HERE/yaml-language-server/package.json")"

command -v npm >/dev/null || { echo "install-yaml-language-server: npm is not installed" >&2; exit 1; }
mkdir -p "$(dirname "$DEST")"
exec 9>"$DEST.lock"
flock 9

installed="$(node -p 'require(process.argv[1]).version' "$DEST/node_modules/yaml-language-server/package.json" 2>/dev/null || true)"
if [ "$installed" != "$VERSION" ]; then
  mkdir -p "$DEST"
  cp "$HERE/yaml-language-server/package.json" "$HERE/yaml-language-server/package-lock.json" "$DEST/"
  (cd "$DEST" && npm ci --no-audit --no-fund --loglevel=error --omit=dev >&2)
  echo "install-yaml-language-server: yaml-language-server@$VERSION installed in $DEST" >&2
fi
echo "$DEST"
