#!/usr/bin/env bash
# loom, as users type it: first at the workspace root with the loom
# reclaimer, then the crossbeam-epoch models with crossbeam-epoch on loom.
# Each model prints its executions and time (--nocapture).
source "$(dirname "$0")/lib.sh"
# `--tests`: unit and integration tests, not doctests. rustdoc does not see
# RUSTFLAGS, so a doctest is compiled without the cfg but linked against the
# model build, whose primitives work only inside a model; the store's own
# examples return early there (`MODEL_BUILD`), the runtime's cannot.
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
    cargo test --release --tests -- --nocapture
RUSTFLAGS="--cfg loom --cfg crossbeam_loom" CARGO_TARGET_DIR=target/cbloom \
    cargo test --release -p polyplug-verification --test loom_epoch -- --nocapture
