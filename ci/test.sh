#!/usr/bin/env bash
# The README's test command: unit, integration, property and doc tests.
source "$(dirname "$0")/lib.sh"
cargo test --workspace
