#!/usr/bin/env bash
# Install accessops for the action's later steps.
# INPUT_VERSION empty: install the action's own checkout, i.e. exactly the ref named in `uses: ...@REF`,
# so the action and the CLI it runs can never disagree. Otherwise INPUT_VERSION is any pip requirement
# (`accessops==0.2.0`, a wheel path, a VCS URL).
set -euo pipefail
spec="${INPUT_VERSION:-}"
if [ -z "$spec" ]; then
  spec="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set: run this from the action, or set INPUT_VERSION}"
fi
python -m pip install --disable-pip-version-check --quiet "$spec"
accessops --version
