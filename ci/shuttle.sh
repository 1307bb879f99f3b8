#!/usr/bin/env bash
# shuttle: randomized and PCT schedules, SHUTTLE_ITERATIONS each (10,000 by default).
source "$(dirname "$0")/lib.sh"
export SHUTTLE_ITERATIONS="${SHUTTLE_ITERATIONS:-10000}"
RUSTFLAGS="--cfg shuttle" CARGO_TARGET_DIR=target/shuttle \
    cargo test --release -p polyplug-verification --test shuttle_models -- --nocapture
