# Shared by the ci/*.sh scripts: strict mode and the workspace root.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# CI builds each target directory once: incremental state would only be
# written, never read.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# The WebAssembly fixtures and examples are Rust plugins built for
# wasm32-unknown-unknown by build scripts; every script that builds them
# needs the target's standard library. `rustup target add` is a no-op when
# it is installed. Pass a toolchain (`nightly`) for builds that use one.
wasm_target() {
    rustup target add ${1:+--toolchain "$1"} wasm32-unknown-unknown >/dev/null
}
wasm_target

# clang and wasm-ld build the C WebAssembly fixture (fixtures/c/wasm_mul.c).
if ! command -v clang >/dev/null 2>&1 || ! command -v wasm-ld >/dev/null 2>&1; then
    echo "ci: installing clang and lld (wasm-ld) for the C WebAssembly fixture" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang lld >/dev/null
fi
