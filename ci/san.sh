#!/usr/bin/env bash
# Sanitizers, on nightly with an instrumented std (-Zbuild-std):
#
# - tsan: ThreadSanitizer over the concurrency tests (the runtime's reload
#   and re-entrancy scenarios, the store's black-box tests, the seed
#   scenarios), each run
#   TSAN_LOOPS times (default 3);
# - asan: AddressSanitizer with LeakSanitizer on over the load, reload and
#   unload tests (contracts, failures, reload with a short soak, the
#   bad-bundle corpus, re-entrant writes).
#
# `bash ci/san.sh` runs both; `bash ci/san.sh tsan` or `asan` runs one. Each
# sanitizer builds into its own target directory, CARGO_TARGET_DIR/tsan
# or /asan (CARGO_TARGET_DIR defaults to target). Both add `--cfg crossbeam_sanitize`, which makes
# crossbeam-epoch seal and reclaim garbage bags after 4 objects instead of
# 64, so reclamation runs far more often under the sanitizer.
#
# The fixture plugins are not instrumented: fixtures/build.rs builds the
# Rust ones with a plain `cargo build` from which it strips RUSTFLAGS and
# every CARGO_* build variable, and build scripts are built for the host,
# where --target keeps RUSTFLAGS off. The C and C++ ones are compiled with
# the `cc` crate, which adds -fsanitize=address when rustc instruments for
# address; `gcc -shared` would then link the shared object to GCC's
# libasan.so, which ASan refuses to load next to rustc's static runtime
# ("ASan runtime does not come first"), so CFLAGS and CXXFLAGS turn it off
# again. Races or overflows inside plugin code are therefore out of reach;
# everything the host does with what plugins hand it is instrumented.
#
# Any report fails the run (TSan exits 66, ASan 1). Suppressions, when
# needed, live in ci/tsan.supp and ci/lsan.supp, one named frame a line,
# each with the reason next to it.
source "$(dirname "$0")/lib.sh"

if [ $# -eq 0 ]; then
    set -- tsan asan
fi
TARGET=x86_64-unknown-linux-gnu
BASE="${CARGO_TARGET_DIR:-target}"
LOOPS="${TSAN_LOOPS:-3}"

if ! rustup component list --toolchain nightly --installed | grep -q '^rust-src'; then
    rustup component add --toolchain nightly rust-src
fi
# The nightly build of the fixtures builds their wasm32 plugins too.
wasm_target nightly

# Builds the given tests with sanitizer $1 (thread or address) into
# $BASE/<tsan|asan> and fills the array `exes` with their executables.
build() {
    local san="$1" dir="${BASE}/${1:0:1}san"
    shift
    mkdir -p "$dir"
    RUSTFLAGS="-Zsanitizer=${san} --cfg crossbeam_sanitize" \
    CFLAGS="${CFLAGS:-} -fno-sanitize=all" CXXFLAGS="${CXXFLAGS:-} -fno-sanitize=all" \
    CARGO_TARGET_DIR="$dir" \
        cargo +nightly test -Zbuild-std --target "$TARGET" --release --no-run \
        --message-format=json-render-diagnostics "$@" > "$dir/tests.json"
    mapfile -t exes < <(sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' "$dir/tests.json")
    if [ "${#exes[@]}" -eq 0 ]; then
        echo "ci/san.sh: the ${san} build produced no test executables" >&2
        exit 1
    fi
}

# Runs one test executable from its crate directory, as cargo would. A
# failure is recorded and the run goes on, so one pass shows every report;
# the script fails at the end.
failed=()
run() {
    local exe="$1" dir="$2" start
    start=$(date +%s)
    echo "::: ${exe##*/}"
    if (cd "$dir" && "$exe"); then
        echo "::: ${exe##*/} ok in $(( $(date +%s) - start ))s"
    else
        echo "::: ${exe##*/} FAILED in $(( $(date +%s) - start ))s"
        failed+=("${exe##*/}")
    fi
}

tsan() {
    local start
    start=$(date +%s)
    build thread \
        -p polyplug --test reload --test reentrant \
        -p polyplug-store --test behaviour \
        -p polyplug-verification --test seed_scenarios
    echo "::: tsan build $(( $(date +%s) - start ))s"
    local supp="$ROOT/ci/tsan.supp" options="halt_on_error=0 exitcode=66"
    [ -f "$supp" ] && options="$options suppressions=$supp"
    for loop in $(seq 1 "$LOOPS"); do
        echo "::: tsan loop ${loop}/${LOOPS}"
        for exe in "${exes[@]}"; do
            case "$exe" in
                */reload-*|*/reentrant-*) dir=polyplug ;;
                */behaviour-*) dir=store ;;
                *) dir=verification ;;
            esac
            TSAN_OPTIONS="$options" POLYPLUG_SOAK_RELOADS="${TSAN_SOAK_RELOADS:-200}" \
                run "$exe" "$dir"
        done
    done
    echo "::: tsan total $(( $(date +%s) - start ))s"
}

asan() {
    local start
    start=$(date +%s)
    build address -p polyplug \
        --test contracts --test failures --test reload --test bad_bundles \
        --test reentrant
    echo "::: asan build $(( $(date +%s) - start ))s"
    local supp="$ROOT/ci/lsan.supp"
    local lsan="report_objects=1"
    [ -f "$supp" ] && lsan="$lsan:suppressions=$supp"
    for exe in "${exes[@]}"; do
        ASAN_OPTIONS="detect_leaks=1" LSAN_OPTIONS="$lsan" \
            POLYPLUG_SOAK_RELOADS="${ASAN_SOAK_RELOADS:-200}" \
            run "$exe" polyplug
    done
    echo "::: asan total $(( $(date +%s) - start ))s"
}

for part in "$@"; do
    case "$part" in
        tsan) tsan ;;
        asan) asan ;;
        *) echo "ci/san.sh: unknown part ${part}; expected tsan or asan" >&2; exit 2 ;;
    esac
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "ci/san.sh: failed: ${failed[*]}" >&2
    exit 1
fi
