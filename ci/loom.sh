#!/usr/bin/env bash
# loom, as users type it: first at the workspace root with the loom
# reclaimer, then the crossbeam-epoch models with crossbeam-epoch on loom.
# Each model prints its executions and time (--nocapture).
source "$(dirname "$0")/lib.sh"
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
    cargo test --release -- --nocapture
RUSTFLAGS="--cfg loom --cfg crossbeam_loom" CARGO_TARGET_DIR=target/cbloom \
    cargo test --release -p polyplug-verification --test loom_epoch -- --nocapture
