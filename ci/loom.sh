#!/usr/bin/env bash
# loom, as users type it: `RUSTFLAGS="--cfg loom" cargo test --release` at
# the workspace root (the default members, the core: every core crate's
# unit, integration and doc tests; the models run, everything else is
# compiled out or returns at once in a model build; the engines and what
# embeds them stay out of model builds), then the crossbeam-epoch models with crossbeam-epoch on loom.
# Each model prints its executions and time (--nocapture).
#
# rustdoc does not see RUSTFLAGS: a doc example is compiled without the
# cfg but linked against the model build, whose primitives work only inside
# a model. Every example that loads or reads returns at once when
# `polyplug::MODEL_BUILD` (the store's `sync::MODEL_BUILD`) says so.
source "$(dirname "$0")/lib.sh"
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
    cargo test --release -- --nocapture
RUSTFLAGS="--cfg loom --cfg crossbeam_loom" CARGO_TARGET_DIR=target/cbloom \
    cargo test --release -p polyplug-verification --test loom_epoch -- --nocapture
