#!/usr/bin/env bash
# Miri over the store's unit, integration and doc tests, with tree borrows
# (crossbeam-epoch is not compatible with stacked borrows) and several seeds.
source "$(dirname "$0")/lib.sh"
if ! rustup component list --toolchain nightly --installed | grep -q '^miri'; then
    rustup component add --toolchain nightly miri rust-src
fi
if ! rustup component list --toolchain nightly --installed | grep -q '^rust-src'; then
    rustup component add --toolchain nightly rust-src
fi
SEEDS="${MIRI_SEEDS:-0..4}"
export MIRIFLAGS="-Zmiri-tree-borrows -Zmiri-many-seeds=${SEEDS} ${MIRIFLAGS:-}"
cargo +nightly miri setup
CARGO_TARGET_DIR=target/miri cargo +nightly miri test -p polyplug-store
