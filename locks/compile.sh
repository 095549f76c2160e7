#!/usr/bin/env bash
# Regenerate the lock files from pyproject.toml: `make lock`. Pinned versions with hashes, one file
# per install layer, for CPython 3.11 on x86_64 Linux (what `make install` and CI run on).
set -euo pipefail
cd "$(dirname "$0")"
compile() {  # OUTPUT OVERRIDES [--extra NAME …]
  local output=$1 overrides=$2
  shift 2
  uv pip compile ../pyproject.toml "$@" --override "$overrides" --generate-hashes --quiet \
    --python-version 3.11 --python-platform x86_64-manylinux_2_28 --custom-compile-command "make lock" \
    --output-file "$output"
}
compile base.txt no-torch.txt
compile analysis.txt no-model-hub.txt --extra analysis
compile test.txt no-torch.txt --extra analysis --extra hub --extra dev
# uv itself, which `make install` bootstraps with pip and then installs the layers with.
echo "uv" | uv pip compile - --generate-hashes --quiet --python-version 3.11 \
  --python-platform x86_64-manylinux_2_28 --custom-compile-command "make lock" --output-file bootstrap.txt
