#!/usr/bin/env bash
# The long soak, in release: POLYPLUG_SOAK_RELOADS reloads (10,000 unless
# set) of reload-test under four dispatcher threads. Prints reloads, wall
# time, calls, torn calls, libraries opened/closed/unmapped and the RSS
# after the warm-up and at the end; fails on any torn call, any retired
# library not closed and unmapped, or RSS growth of 64 MiB or more.
source "$(dirname "$0")/lib.sh"
export POLYPLUG_SOAK_RELOADS="${POLYPLUG_SOAK_RELOADS:-10000}"
start=$(date +%s)
cargo test --release -p polyplug --test reload \
    soak_two_thousand_reloads_under_four_dispatchers -- --exact --nocapture
echo "ci/soak.sh: ${POLYPLUG_SOAK_RELOADS} reloads, $(( $(date +%s) - start ))s including the build"
