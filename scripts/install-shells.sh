#!/usr/bin/env bash
# Install zsh and fish (Debian packages) when missing: tests/test_cli_completion.py
# runs the scripts `accessops completion zsh|fish` prints in the real shells.
# Needs root (CI runs as root); does nothing when both are there.
set -euo pipefail
missing=()
for shell in zsh fish; do
  command -v "$shell" >/dev/null || missing+=("$shell")
done
[ ${#missing[@]} -eq 0 ] && exit 0
command -v apt-get >/dev/null || { echo "install-shells: install ${missing[*]} (no apt-get here)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
echo "install-shells: installed ${missing[*]}" >&2
