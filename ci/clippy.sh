#!/usr/bin/env bash
# Lints: clippy with warnings denied on every target, in the normal build and
# in each model build (so the loom and shuttle code is linted too).
source "$(dirname "$0")/lib.sh"
cargo clippy --workspace --all-targets -- -D warnings
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
    cargo clippy -p polyplug-store -p polyplug-verification --all-targets -- -D warnings
RUSTFLAGS="--cfg loom --cfg crossbeam_loom" CARGO_TARGET_DIR=target/cbloom \
    cargo clippy -p polyplug-store -p polyplug-verification --all-targets -- -D warnings
RUSTFLAGS="--cfg shuttle" CARGO_TARGET_DIR=target/shuttle \
    cargo clippy -p polyplug-store -p polyplug-verification --all-targets -- -D warnings
