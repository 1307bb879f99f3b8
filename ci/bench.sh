#!/usr/bin/env bash
# Benchmarks never rot: every bench compiles, and the report runs each in
# five interleaved passes with a minimal sample (0.1 s of measurement per
# arm split over the passes), prints each row's spread over the passes, and
# counts instructions per call with callgrind when valgrind is installed.
# The numbers from this quick run are not the README's: those come from a
# full `cargo bench`.
source "$(dirname "$0")/lib.sh"
cargo bench -p polyplug-benches --no-run
flags=(--passes --quick)
if command -v valgrind >/dev/null 2>&1; then
    flags+=(--callgrind)
fi
cargo run --release -p polyplug-benches --bin report -- "${flags[@]}"
