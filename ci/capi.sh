#!/usr/bin/env bash
# The C API (polyplug-capi, libpolyplug) for hosts in C, C++ and Python:
#
# 1. builds the library (cargo writes libpolyplug_capi.so and .a; this links
#    target/debug/libpolyplug.so and .a to them, the names C hosts link)
#    and runs its tests:
#    unit tests, the header staleness check, and the C and C++ programs of
#    capi/tests (seed scenario 3 from C and C++, the fixture plugins from C,
#    every error path, polyplug_buf_free misused, a WebAssembly plugin from
#    C, packed calls with views and owned results from C++, the example
#    hosts), compiled with gcc/g++;
# 2. runs those C and C++ programs again compiled with AddressSanitizer
#    (LeakSanitizer on) and with ThreadSanitizer (POLYPLUG_C_SANITIZE);
# 3. runs the pytest suite of the Python package (capi/python/tests) with
#    the machine's python3, installing pytest first if it is missing; it
#    loads the WebAssembly bundle that step 1's c_hosts test writes to
#    target/tmp/polyplug-capi-wasm.
#
# What the sanitizers cover: the hosts' own code and every access it makes
# to memory the library hands out (event strings, bundle lists, out-values),
# every heap block either side allocates (LeakSanitizer sees the library's
# allocations too: a leak in libpolyplug fails the run), and the hosts'
# threads. Not covered: the library's own memory accesses and atomics (it is
# not instrumented; ThreadSanitizer runs with
# ignore_noninstrumented_modules=1 so that its interceptors called from the
# library are not misreported), and the plugins. ci/san.sh instruments the
# Rust runtime itself.
#
# Set CC / CXX to choose the compilers (GCC-like).
source "$(dirname "$0")/lib.sh"

TARGET_DIR="${CARGO_TARGET_DIR:-target}"
case "$TARGET_DIR" in
    /*) ;;
    *) TARGET_DIR="$ROOT/$TARGET_DIR" ;;
esac
step() { echo "::: $1"; }
start=$(date +%s)

step "build libpolyplug"
cargo build -p polyplug-capi
for ext in so a; do
    ln -sf libpolyplug_capi.$ext "$TARGET_DIR/debug/libpolyplug.$ext"
done
step "cargo test -p polyplug-capi"
cargo test -p polyplug-capi

for san in address thread; do
    step "C and C++ hosts under -fsanitize=${san}"
    POLYPLUG_C_SANITIZE="$san" cargo test -p polyplug-capi --test c_hosts --test c_errors
done

step "pytest (capi/python/tests)"
if ! python3 -c "import pytest" 2>/dev/null; then
    python3 -m pip install --quiet pytest
fi
POLYPLUG_LIB="$TARGET_DIR/debug/libpolyplug.so" python3 -m pytest -q capi/python/tests

echo "::: ci/capi.sh ok in $(( $(date +%s) - start ))s"
