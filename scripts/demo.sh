#!/bin/sh
# make demo: the whole mission on 127.0.0.1 (kedge demo). The run's directory, with flow.svg,
# trace.json, the logs and the configurations, is printed at the start.
set -eu
build=${1:-build}
exec "$build/bin/kedge" demo --dir "$(mktemp -d /tmp/kedge-demo-XXXXXX)"
