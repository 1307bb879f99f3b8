#!/usr/bin/env bash
# API docs build with warnings denied (broken links, missing docs).
source "$(dirname "$0")/lib.sh"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
