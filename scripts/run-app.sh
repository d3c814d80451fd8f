#!/usr/bin/env bash
# Installs what is missing, builds, and opens MLA Lab on its built-in default model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec build/bin/mla-lab "$@"
