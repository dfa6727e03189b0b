#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then run every test.
# Installs accessops with its test extras (pytest, hypothesis, scim2-server,
# pre-commit, jsonschema, check-jsonschema, regopy), a pinned Directus and
# yaml-language-server from npm, and checkov and terraform-compliance in their
# own virtualenvs; the tests start
# the SCIM and Directus servers themselves. Prints how long each part took.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
python3 -m pip install --quiet --disable-pip-version-check -e ".[test]"
t1=$(date +%s)
bash scripts/install-directus.sh >/dev/null
# The PostgreSQL state backend's tests start a real server with initdb/pg_ctl (tests/pg_server.py).
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) || echo "warning: could not install postgresql"
fi
t2=$(date +%s)
bash scripts/install-yaml-language-server.sh >/dev/null  # the editor engine tests/test_schema_editors.py drives
bash scripts/install-shells.sh  # zsh and fish, for tests/test_cli_completion.py
t3=$(date +%s)
bash scripts/install-plan-tools.sh  # checkov, terraform-compliance: own virtualenvs, cached
t4=$(date +%s)
echo "setup: python packages $((t1 - t0))s, directus $((t2 - t1))s, yaml-language-server and shells $((t3 - t2))s, plan tools $((t4 - t3))s"
python3 -m pytest -q --durations=8 "$@"
