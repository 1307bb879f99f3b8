#!/usr/bin/env bash
# Fuzzing: replays every seed on stable (fuzz/tests/seeds.rs), then builds
# every cargo-fuzz target in fuzz/ (nightly, AddressSanitizer)
# and runs each for FUZZ_SECONDS (40 by default), FUZZ_JOBS at a time (the
# cores: ten targets in about three and a half minutes), starting from a scratch
# copy of its committed seeds in fuzz/work/ (never committed), the manifest
# target with fuzz/manifest.dict. Any crash, leak, timeout or out-of-memory
# fails the script, which prints the artifact to reproduce it with
# `PYTHONMALLOC=malloc cargo +nightly fuzz run <target> <artifact>`.
source "$(dirname "$0")/lib.sh"

# The Python loader's CPython keeps small objects in arenas it maps itself,
# which LeakSanitizer does not scan, so what only they point to would be
# reported as leaked; with `malloc` every object is a heap block it scans
# (capi/tests/support/mod.rs does the same). script_registration refuses
# to start without it.
export PYTHONMALLOC=malloc

SECONDS_EACH="${FUZZ_SECONDS:-40}"
# A single input that runs longer than this is a hang (a deadlock, say).
INPUT_TIMEOUT="${FUZZ_INPUT_TIMEOUT:-20}"

# Every committed seed through its target's check, on stable and without
# libFuzzer (fuzz/tests/seeds.rs): the seeds stay valid inputs, each one
# loads or is refused as its name says, and every property holds on them.
cargo test --manifest-path fuzz/Cargo.toml

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

targets=()
while IFS= read -r target; do
    targets+=("$target")
done < <(cargo +nightly fuzz list)
if [ "${#targets[@]}" -eq 0 ]; then
    echo "error: cargo fuzz list found no targets in fuzz/" >&2
    exit 1
fi

cargo +nightly fuzz build

work="fuzz/work"
# Each target runs for a fixed wall time, so two at a time (FUZZ_JOBS, the
# machine's cores by default) halve the step and give each target the same
# seconds; each writes its own log, and the summary keeps the list's order.
jobs="${FUZZ_JOBS:-$(nproc)}"

fuzz_one() {
    local target="$1" corpus="$work/$1" log="$work/$1.log"
    rm -rf "$corpus"
    mkdir -p "$corpus" "fuzz/artifacts/$target"
    cp -R "fuzz/corpus/$target/." "$corpus/"
    local flags=("-max_total_time=$SECONDS_EACH" "-timeout=$INPUT_TIMEOUT" "-print_final_stats=1")
    if [ "$target" = manifest ]; then
        flags+=("-dict=fuzz/manifest.dict")
    fi
    echo "::: fuzz $target for ${SECONDS_EACH}s (seeds: $(ls "fuzz/corpus/$target" | wc -l))"
    if cargo +nightly fuzz run "$target" "$corpus" -- "${flags[@]}" >"$log" 2>&1; then
        echo ok >"$work/$target.status"
    else
        echo FAILED >"$work/$target.status"
    fi
}

mkdir -p "$work"
running=0
for target in "${targets[@]}"; do
    rm -f "$work/$target.status"
    fuzz_one "$target" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait

summary=()
failed=0
for target in "${targets[@]}"; do
    log="$work/$target.log"
    status="$(cat "$work/$target.status" 2>/dev/null || echo FAILED)"
    if [ "$status" != ok ]; then
        failed=1
        tail -n 60 "$log" >&2 || true
        artifact="$(grep -o 'Test unit written to .*' "$log" | sed 's/^Test unit written to //' | tail -n 1 || true)"
        echo "error: fuzz target $target failed; artifact: ${artifact:-none written, see $log}" >&2
        if [ -n "$artifact" ]; then
            echo "reproduce: PYTHONMALLOC=malloc cargo +nightly fuzz run $target $artifact" >&2
        fi
    fi
    done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)"
    execs="$(grep -E '^stat::number_of_executed_units:' "$log" | awk '{print $2}' | tail -n 1 || true)"
    summary+=("$(printf '%-20s %-7s execs %-10s %s' "$target" "$status" "${execs:-?}" "${done_line:-no final line}")")
done

echo "::: fuzz summary (${SECONDS_EACH}s each, $jobs at a time)"
printf '%s\n' "${summary[@]}"
exit "$failed"
