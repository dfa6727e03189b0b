#!/usr/bin/env bash
# Install the real Terraform-plan tools the plan-JSON tests run, each in its own
# virtualenv so their many pinned dependencies never meet ours:
#   checkov (checkov -f plan.json --framework terraform_plan)
#   terraform-compliance (terraform-compliance -p plan.json -f FEATURES)
# regopy, for the Rego pack, is a plain test extra (one wheel, no dependencies).
# Idempotent: a tool already installed at the pinned version is kept, so a warm
# cache costs nothing. Prints the directory and how long each install took.
# ACCESSOPS_PLAN_TOOLS names the directory (default ~/.cache/accessops-plan-tools).
set -euo pipefail
dir="${ACCESSOPS_PLAN_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/accessops-plan-tools}"
mkdir -p "$dir"

install() {  # NAME PACKAGE==VERSION EXECUTABLE
    local name=$1 spec=$2 exe=$3 venv="$dir/$1" t0
    t0=$(date +%s)
    if [[ -x "$venv/bin/$exe" && "$(cat "$venv/.pinned" 2>/dev/null)" == "$spec" ]]; then
        echo "plan tools: $name ($spec) already in $venv"
        return
    fi
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$spec"
    echo "$spec" > "$venv/.pinned"
    echo "plan tools: $name ($spec) installed in $(( $(date +%s) - t0 ))s"
}

# side by side: each install waits mostly on downloads
install checkov "checkov==3.3.30" checkov &
checkov_pid=$!
install terraform-compliance "terraform-compliance==1.16.0" terraform-compliance
wait "$checkov_pid"
echo "$dir"
