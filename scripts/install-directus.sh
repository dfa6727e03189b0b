#!/usr/bin/env bash
# Install the pinned Directus the tests start (directus@11.3.5, see
# docs/adapters-directus.md for why this version) into a cache directory.
#
#   scripts/install-directus.sh            # installs into $ACCESSOPS_SERVERS/directus
#   ACCESSOPS_SERVERS=/opt/x scripts/install-directus.sh
#
# Idempotent: does nothing when that version is installed and its native
# modules load. Reproducible: `npm ci` from the lockfile in scripts/directus/,
# whose package.json approves exactly the install scripts Directus needs
# (npm 11 `allowScripts`), so the native modules (sqlite3, argon2, sharp,
# isolated-vm) are built even where unreviewed install scripts are blocked.
# Prints the directory on the last line of stdout.
set -euo pipefail

VERSION=11.3.5
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DEST="${ACCESSOPS_SERVERS:-$HOME/.cache/accessops-servers}/directus"
NATIVE=(sqlite3 argon2 sharp isolated-vm)

installed_ok() {
  [ -f "$DEST/node_modules/directus/package.json" ] || return 1
  (cd "$DEST" && node -e '
    const v = require("directus/package.json").version;
    if (v !== process.argv[1]) process.exit(1);
    for (const m of process.argv.slice(2)) require(m);
  ' "$VERSION" "${NATIVE[@]}") >/dev/null 2>&1
}

command -v node >/dev/null || { echo "install-directus: node is not installed (Directus $VERSION needs Node 18 or 20)" >&2; exit 1; }
command -v npm >/dev/null || { echo "install-directus: npm is not installed" >&2; exit 1; }

# One install at a time per cache directory: two `npm ci` runs in the same
# folder (a CI job and a developer's test run, say) corrupt each other.
mkdir -p "$(dirname "$DEST")"
exec 9>"$DEST.lock"
flock 9

if installed_ok; then
  echo "install-directus: directus@$VERSION already installed" >&2
  echo "$DEST"
  exit 0
fi

start=$(date +%s)
mkdir -p "$DEST"
cp "$HERE/directus/package.json" "$HERE/directus/package-lock.json" "$DEST/"

# Native modules compile from source where no prebuilt binary fits; point
# node-gyp at the local Node headers so it does not download them.
node_prefix="$(dirname "$(dirname "$(command -v node)")")"
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$node_prefix/include/node/node.h" ]; then
  export npm_config_nodedir="$node_prefix"
fi

# node-gyp builds use every core (sqlite3 and isolated-vm dominate the time).
export JOBS="${JOBS:-max}"
# --strict-allow-scripts: an install script package.json does not approve
# fails the install instead of being skipped with a warning.
(cd "$DEST" && npm ci --no-audit --no-fund --loglevel=error --omit=dev --strict-allow-scripts >&2)

if ! installed_ok; then
  # An npm that skipped the scripts anyway: build the natives explicitly.
  (cd "$DEST" && npm rebuild "${NATIVE[@]}" >&2)
fi
installed_ok || { echo "install-directus: directus@$VERSION installed but its native modules do not load (${NATIVE[*]})" >&2; exit 1; }
echo "install-directus: directus@$VERSION installed in $DEST in $(( $(date +%s) - start ))s" >&2
echo "$DEST"
