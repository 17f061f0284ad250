#!/usr/bin/env bash
# `npm start`: set up what is missing, build, and serve the demo storefront with the
# embedded default model (models/superstore.mdsb) on http://127.0.0.1:${PORT:-8080}/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
extra=()
if [ -d ../shared/data ]; then extra+=(--mount /shared-data=../shared/data); fi
exec node scripts/serve.mjs --port "${PORT:-8080}" --root web --mount /models=models "${extra[@]}"
