#!/usr/bin/env bash
# Benchmarks never rot: every bench compiles, each runs once with a minimal
# sample, and the report reads the results (and counts instructions per
# call with callgrind when valgrind is installed). The numbers from this
# quick run are not the README's: those come from a full `cargo bench`.
source "$(dirname "$0")/lib.sh"
cargo bench -p polyplug-benches --no-run
cargo bench -p polyplug-benches --benches -- --warm-up-time 0.05 --measurement-time 0.1 --sample-size 10 --noplot
flags=()
if command -v valgrind >/dev/null 2>&1; then
    flags+=(--callgrind)
fi
cargo run --release -p polyplug-benches --bin report -- "${flags[@]}"
