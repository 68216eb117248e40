#!/usr/bin/env bash
# make quickstart: run the gateway on its embedded defaults (127.0.0.1:8080,
# data in ./switchyard-data, providers from the environment).
set -euo pipefail
cd "$(dirname "$0")/.."
exec ./build/switchyard serve "$@"
