//! Reads criterion's results for the polyplug benches and prints one table:
//! each arm's time per operation and its ratio to the baseline measured in
//! the same run, against the target.
//!
//! ```text
//! cargo bench -p polyplug-benches
//! cargo run --release -p polyplug-benches --bin report -- [--callgrind]
//! cargo run --release -p polyplug-benches --bin report -- --passes [--quick] [--callgrind]
//! ```
//!
//! `--passes` runs the benches itself, in [`PASSES`] interleaved passes:
//! pass 1 of every arm, then pass 2 of every arm, and so on, each saved as
//! criterion baseline `pass1`, `pass2`, ... Each pass gets a fifth of the
//! measurement time (`--quick`: a fifth of the quick run's), so the passes
//! together take about what one run took. A row's value and ratio are the
//! medians over the passes, each pass's ratio taken against its own
//! baseline; its spread is the lowest to the highest of those ratios. A
//! row whose spread is wider than its ratio's distance to the target is
//! "noisy": the passes do not agree on whether it met the target. Without
//! `--passes`, the report reads the last run (criterion's `new`) as one
//! pass, and prints no spread.
//!
//! `--callgrind` also counts instructions per call of every counter arm,
//! every C API arm, find and find by key at 10 and 1,000 contracts (a
//! runtime of 10,000 takes minutes to build under callgrind), and
//! every wasm call arm (wasmi and wasmtime), every Lua, JavaScript and
//! Python call arm with
//! `valgrind --tool=callgrind`: the same arm is run for 0 and for
//! `CALLGRIND_CALLS` calls, and the difference is divided by the calls.
//! (`--count ARM N`, `--count-capi ARM N`, `--count-registry OP/SIZE N`,
//! `--count-wasm ENGINE/ARM N` and `--count-script LANG/ARM N` are the modes callgrind runs: count to N
//! through ARM.)

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use polyplug_benches::capi::{CapiArm, CapiSetup, FINDS};
use polyplug_benches::counter::{Arm, COUNT, Setup};
use polyplug_benches::script::{self, Language};

/// Calls per callgrind run.
const CALLGRIND_CALLS: u32 = 200_000;

/// Interleaved passes of `--passes`.
const PASSES: usize = 5;

/// Criterion options per pass of `--passes --quick`: a fifth of the quick
/// run's 0.05 s warm-up and 0.1 s measurement per arm (ci/bench.sh), and
/// 1,000 bootstrap resamples instead of 100,000: the report reads only the
/// median, which resampling does not change, and the analysis would
/// otherwise take longer than the measurement.
const QUICK_PASS: [&str; 8] = [
    "--warm-up-time",
    "0.01",
    "--measurement-time",
    "0.02",
    "--sample-size",
    "10",
    "--nresamples",
    "1000",
];

/// Criterion options per pass of `--passes`: a fifth of a full run's
/// 0.5 s warm-up and 3 s measurement per arm.
const FULL_PASS: [&str; 4] = ["--warm-up-time", "0.1", "--measurement-time", "0.6"];

/// What a ratio must be to meet its target.
#[derive(Clone, Copy)]
enum Target {
    AtMost(f64),
    AtLeast(f64),
    None,
}

/// One row: `time` is per operation (ns), or, for throughput rows, calls/s.
struct Row {
    group: &'static str,
    arm: String,
    value: Option<f64>,
    unit: &'static str,
    baseline: String,
    ratio: Option<f64>,
    target: Target,
    instructions: Option<f64>,
    /// The lowest and highest ratio over the passes, when there were two
    /// or more.
    spread: Option<(f64, f64)>,
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    )
}

thread_local! {
    /// The criterion baseline that [`median`] reads: `new` (the last run)
    /// or one pass's, `pass1` to `pass5`.
    static BASELINE: std::cell::RefCell<String> = std::cell::RefCell::new("new".to_owned());
}

/// The median of bench `group/id`, in ns per criterion iteration, from the
/// baseline being read.
fn median(group: &str, id: &str) -> Option<f64> {
    let baseline = BASELINE.with(|b| b.borrow().clone());
    let path = target_dir()
        .join("criterion")
        .join(group)
        .join(id)
        .join(baseline)
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn ratio(value: Option<f64>, baseline: Option<f64>) -> Option<f64> {
    Some(value? / baseline?)
}

fn counter_rows(instructions: &dyn Fn(Arm) -> Option<f64>) -> Vec<Row> {
    let per_call = |arm: Arm| median("counter_inc", arm.id()).map(|ns| ns / f64::from(COUNT));
    let abi = per_call(Arm::AbiStatic);
    let ffi = per_call(Arm::FfiByValue);
    Arm::ALL
        .into_iter()
        .map(|arm| {
            let value = per_call(arm);
            let (baseline, base, target) = match arm {
                Arm::Native | Arm::AbiStatic | Arm::FfiByValue => {
                    ("ffi_by_value", ffi, Target::None)
                }
                Arm::AbiDlsym => ("abi_static", abi, Target::None),
                Arm::DispatchRust | Arm::DispatchCpp | Arm::DispatchC => {
                    ("abi_static", abi, Target::AtMost(1.05))
                }
                Arm::Typed => ("ffi_by_value", ffi, Target::AtMost(1.05)),
                Arm::Guarded => ("ffi_by_value", ffi, Target::AtMost(1.5)),
                Arm::PinnedSession => ("ffi_by_value", ffi, Target::AtMost(3.0)),
                Arm::PinnedReader => ("ffi_by_value", ffi, Target::None),
            };
            Row {
                group: "counter_inc",
                arm: arm.id().to_owned(),
                value,
                unit: "ns/call",
                baseline: baseline.to_owned(),
                ratio: ratio(value, base),
                target,
                instructions: instructions(arm),
                spread: None,
            }
        })
        .chain(std::iter::once({
            // polyplug's own cost: the C plugin's `add` dispatched, against
            // the same function reached through dlsym and called raw.
            let value = per_call(Arm::DispatchC);
            Row {
                group: "counter_inc",
                arm: "dispatch_c".to_owned(),
                value,
                unit: "ns/call",
                baseline: "abi_dlsym".to_owned(),
                ratio: ratio(value, per_call(Arm::AbiDlsym)),
                target: Target::AtMost(1.05),
                instructions: instructions(Arm::DispatchC),
                spread: None,
            }
        }))
        .collect()
}

fn capi_rows(instructions: &dyn Fn(CapiArm) -> Option<f64>) -> Vec<Row> {
    let per_op = |arm: CapiArm| {
        let (group, n) = if arm.is_call() {
            ("capi_call", COUNT)
        } else {
            ("capi_find", FINDS)
        };
        median(group, arm.id()).map(|ns| ns / f64::from(n))
    };
    let dlsym = per_op(CapiArm::Dlsym);
    let find_rust = per_op(CapiArm::FindRust);
    CapiArm::ALL
        .into_iter()
        .map(|arm| {
            let value = per_op(arm);
            let (group, baseline, base, target) = match arm {
                CapiArm::Dlsym => ("capi_call", "dlsym", dlsym, Target::None),
                CapiArm::Typed => ("capi_call", "dlsym", dlsym, Target::AtMost(1.05)),
                CapiArm::FnGet | CapiArm::Pinned => ("capi_call", "dlsym", dlsym, Target::None),
                CapiArm::FindRust | CapiArm::FindC => {
                    ("capi_find", "find_rust", find_rust, Target::None)
                }
            };
            Row {
                group,
                arm: arm.id().to_owned(),
                value,
                unit: if arm.is_call() { "ns/call" } else { "ns/op" },
                baseline: baseline.to_owned(),
                ratio: ratio(value, base),
                target,
                instructions: instructions(arm),
                spread: None,
            }
        })
        .collect()
}

fn registry_rows(instructions: &dyn Fn(&str) -> Option<f64>) -> Vec<Row> {
    let mut rows = Vec::new();
    for op in ["find", "find_key", "resolve", "find_all", "revision"] {
        let base = median("registry", &format!("{op}/10"));
        for n in [10, 100, 1_000, 10_000] {
            let value = median("registry", &format!("{op}/{n}"));
            rows.push(Row {
                group: "registry",
                arm: format!("{op}/{n}"),
                value,
                unit: "ns/op",
                baseline: format!("{op}/10"),
                ratio: ratio(value, base),
                // Flat: within a quarter of the 10-contract time.
                target: if op == "revision" {
                    Target::None
                } else {
                    Target::AtMost(1.25)
                },
                // Counted at the ends of the range: flat in instructions too.
                instructions: if matches!(op, "find" | "find_key") && matches!(n, 10 | 1_000) {
                    instructions(&format!("{op}/{n}"))
                } else {
                    None
                },
                spread: None,
            });
        }
    }
    rows
}

fn lifecycle_rows() -> Vec<Row> {
    let base = median("lifecycle", "bare_cycle");
    ["bare_cycle", "load_unload", "load", "unload", "reload"]
        .into_iter()
        .map(|arm| {
            let value = median("lifecycle", arm).map(|ns| ns / 1_000.0);
            Row {
                group: "lifecycle",
                arm: arm.to_owned(),
                value,
                unit: "µs/op",
                baseline: "bare_cycle".to_owned(),
                ratio: ratio(median("lifecycle", arm), base),
                target: if arm == "reload" {
                    Target::AtMost(1.3)
                } else {
                    Target::None
                },
                instructions: None,
                spread: None,
            }
        })
        .collect()
}

fn scaling_rows() -> Vec<Row> {
    // One criterion iteration is one call on each reader: calls/s =
    // readers / (ns per iteration) * 1e9.
    let rate = |kind: &str, readers: u32| {
        median("scaling", &format!("{kind}/{readers}")).map(|ns| f64::from(readers) / ns * 1e9)
    };
    let mut rows = Vec::new();
    for kind in ["polyplug", "rwlock"] {
        let one = rate(kind, 1);
        for readers in [1, 2] {
            let value = rate(kind, readers);
            rows.push(Row {
                group: "scaling",
                arm: format!("{kind}/{readers}"),
                value: value.map(|r| r / 1e6),
                unit: "Mcalls/s",
                baseline: format!("{kind}/1"),
                ratio: ratio(value, one),
                target: if kind == "polyplug" && readers == 2 {
                    Target::AtLeast(1.8)
                } else {
                    Target::None
                },
                instructions: None,
                spread: None,
            });
        }
    }
    rows
}

/// Counts to `n` through wasm arm `id` (`wasm/polyplug`, `wasm/wasmi`,
/// `wasmtime/polyplug`, `wasmtime/wasmtime`), after one call that makes
/// the thread's instance, so that the difference of two runs is the calls
/// alone.
fn count_wasm(id: &str, n: u32) -> Option<Result<u32, String>> {
    use polyplug_benches::{wasm, wasmtime};
    let error = |e: &dyn std::fmt::Display| e.to_string();
    let bytes = match wasm::module_bytes() {
        Ok(bytes) => bytes,
        Err(e) => return Some(Err(error(&e))),
    };
    let through = |runtime: Result<polyplug::Runtime, Box<dyn std::error::Error>>| {
        runtime.map_err(|e| error(&e)).and_then(|runtime| {
            wasm::count(&runtime, 1).map_err(|e| error(&e))?;
            wasm::count(&runtime, n).map_err(|e| error(&e))
        })
    };
    Some(match id {
        "wasm/polyplug" => through(wasm::runtime()),
        "wasmtime/polyplug" => through(wasmtime::runtime()),
        "wasm/wasmi" => wasm::Direct::new(&bytes)
            .and_then(|d| d.count(1).and_then(|_| d.count(n)))
            .map_err(|e| error(&e)),
        "wasmtime/wasmtime" => wasmtime::Direct::new(&bytes)
            .and_then(|d| d.count(1).and_then(|_| d.count(n)))
            .map_err(|e| error(&e)),
        _ => return None,
    })
}

fn wasm_rows(instructions: &dyn Fn(&str) -> Option<f64>) -> Vec<Row> {
    let calls = f64::from(polyplug_benches::wasm::CALLS);
    let per_call = |arm: &str| median("wasm_call", arm).map(|ns| ns / calls);
    let mut rows = Vec::new();
    let wasmi = per_call("wasmi");
    for (arm, target) in [("wasmi", Target::None), ("polyplug", Target::AtMost(1.1))] {
        let value = per_call(arm);
        rows.push(Row {
            group: "wasm_call",
            arm: arm.to_owned(),
            value,
            unit: "ns/call",
            baseline: "wasmi".to_owned(),
            ratio: ratio(value, wasmi),
            target,
            instructions: instructions(&format!("wasm/{arm}")),
            spread: None,
        });
    }
    let base = median("wasm_lifecycle", "wasmi");
    for (arm, target) in [
        ("wasmi", Target::None),
        ("load", Target::AtMost(1.2)),
        ("reload", Target::AtMost(1.2)),
        ("load_cached", Target::AtMost(1.2)),
        ("reload_cached", Target::AtMost(1.2)),
    ] {
        let value = median("wasm_lifecycle", arm);
        rows.push(Row {
            group: "wasm_lifecycle",
            arm: arm.to_owned(),
            value: value.map(|ns| ns / 1_000.0),
            unit: "µs/op",
            baseline: "wasmi".to_owned(),
            ratio: ratio(value, base),
            target,
            instructions: None,
            spread: None,
        });
    }
    let wasmtime = median("wasmtime_call", "wasmtime").map(|ns| ns / calls);
    for (arm, target) in [
        ("wasmtime", Target::None),
        ("polyplug", Target::AtMost(1.1)),
    ] {
        let value = median("wasmtime_call", arm).map(|ns| ns / calls);
        rows.push(Row {
            group: "wasmtime_call",
            arm: arm.to_owned(),
            value,
            unit: "ns/call",
            baseline: "wasmtime".to_owned(),
            ratio: ratio(value, wasmtime),
            target,
            instructions: instructions(&format!("wasmtime/{arm}")),
            spread: None,
        });
    }
    let base = median("wasmtime_lifecycle", "wasmtime");
    for (arm, target) in [
        ("wasmtime", Target::None),
        ("load", Target::AtMost(1.2)),
        ("reload", Target::AtMost(1.2)),
    ] {
        let value = median("wasmtime_lifecycle", arm);
        rows.push(Row {
            group: "wasmtime_lifecycle",
            arm: arm.to_owned(),
            value: value.map(|ns| ns / 1_000.0),
            unit: "µs/op",
            baseline: "wasmtime".to_owned(),
            ratio: ratio(value, base),
            target,
            instructions: None,
            spread: None,
        });
    }
    // One criterion iteration is one call on each thread.
    for (group, direct) in [("wasm_scaling", "wasmi"), ("wasmtime_scaling", "wasmtime")] {
        let rate = |kind: &str, threads: u32| {
            median(group, &format!("{kind}/{threads}")).map(|ns| f64::from(threads) / ns * 1e9)
        };
        for kind in ["polyplug", direct] {
            let one = rate(kind, 1);
            for threads in [1, 2] {
                let value = rate(kind, threads);
                rows.push(Row {
                    group,
                    arm: format!("{kind}/{threads}"),
                    value: value.map(|r| r / 1e6),
                    unit: "Mcalls/s",
                    baseline: format!("{kind}/1"),
                    ratio: ratio(value, one),
                    target: if kind == "polyplug" && threads == 2 {
                        Target::AtLeast(1.8)
                    } else {
                        Target::None
                    },
                    instructions: None,
                    spread: None,
                });
            }
        }
    }
    rows
}

/// Per language: the typed call through polyplug against the engine's own
/// call (`Function::call`, pyo3's `call1`) on the same script, and, for
/// Lua and JavaScript, two calling threads against one.
fn script_rows(instructions: &dyn Fn(&str) -> Option<f64>) -> Vec<Row> {
    let calls = f64::from(polyplug_benches::script::CALLS);
    let mut rows = Vec::new();
    for language in Language::ALL {
        let call_group: &'static str = match language {
            Language::Lua => "lua_call",
            Language::Js => "js_call",
            Language::Py => "py_call",
        };
        let direct = language.baseline();
        let per_call = |arm: &str| median(call_group, arm).map(|ns| ns / calls);
        let base = per_call(direct);
        let mut arms = vec![(direct, Target::None)];
        if language == Language::Py {
            // The GIL taken per call, as polyplug must: what that alone costs.
            arms.push(("pyo3_attach", Target::None));
        }
        arms.push(("polyplug", Target::AtMost(1.1)));
        for (arm, target) in arms {
            let value = per_call(arm);
            rows.push(Row {
                group: call_group,
                arm: arm.to_owned(),
                value,
                unit: "ns/call",
                baseline: direct.to_owned(),
                ratio: ratio(value, base),
                target,
                instructions: instructions(&format!("{}/{arm}", language.id())),
                spread: None,
            });
        }
        let scaling_group: &'static str = match language {
            Language::Lua => "lua_scaling",
            Language::Js => "js_scaling",
            // Python's calls serialise on the GIL: no scaling arms.
            Language::Py => continue,
        };
        // One criterion iteration is one call on each thread.
        let rate = |kind: &str, threads: u32| {
            median(scaling_group, &format!("{kind}/{threads}"))
                .map(|ns| f64::from(threads) / ns * 1e9)
        };
        for kind in ["polyplug", direct] {
            let one = rate(kind, 1);
            for threads in [1, 2] {
                let value = rate(kind, threads);
                rows.push(Row {
                    group: scaling_group,
                    arm: format!("{kind}/{threads}"),
                    value: value.map(|r| r / 1e6),
                    unit: "Mcalls/s",
                    baseline: format!("{kind}/1"),
                    ratio: ratio(value, one),
                    target: if kind == "polyplug" && threads == 2 {
                        Target::AtLeast(1.8)
                    } else {
                        Target::None
                    },
                    instructions: None,
                    spread: None,
                });
            }
        }
    }
    rows
}

/// Counts to `n` through script arm `id` (`lua/polyplug`, `lua/mlua`,
/// `js/polyplug`, `js/rquickjs`, `py/polyplug`, `py/pyo3`,
/// `py/pyo3_attach`), after one call that makes the thread's
/// state, so that the difference of two runs is the calls alone.
fn count_script(id: &str, n: u32) -> Option<Result<u32, String>> {
    let (language, arm) = id.split_once('/')?;
    let language = Language::ALL.into_iter().find(|l| l.id() == language)?;
    let error = |e: &dyn std::fmt::Display| e.to_string();
    if arm == "polyplug" {
        return Some(
            script::runtime(language)
                .map_err(|e| error(&e))
                .and_then(|loaded| {
                    script::count(loaded.runtime(), 1).map_err(|e| error(&e))?;
                    script::count(loaded.runtime(), n).map_err(|e| error(&e))
                }),
        );
    }
    if language == Language::Py && arm == "pyo3_attach" {
        return Some(
            script::PyDirect::new()
                .and_then(|d| d.count_attached(1).and_then(|_| d.count_attached(n)))
                .map_err(|e| error(&e)),
        );
    }
    if arm != language.baseline() {
        return None;
    }
    Some(match language {
        Language::Lua => script::LuaDirect::new()
            .and_then(|d| d.count(1).and_then(|_| d.count(n)))
            .map_err(|e| error(&e)),
        Language::Js => script::JsDirect::new()
            .and_then(|d| d.count(1).and_then(|_| d.count(n)))
            .map_err(|e| error(&e)),
        Language::Py => script::PyDirect::new()
            .and_then(|d| d.count(1).and_then(|_| d.count(n)))
            .map_err(|e| error(&e)),
    })
}

/// Finds the contract in the middle of `contracts` host contracts `n`
/// times through registry arm `op` (`find`, by name; `find_key`, with a
/// key made once), after one find that warms the path, and counts the
/// finds that answered.
fn count_registry(id: &str, n: u32) -> Option<Result<u32, String>> {
    use polyplug::ContractKey;
    use polyplug_benches::registry::{V1, name, with_contracts};
    use std::hint::black_box;
    let (op, contracts) = id.split_once('/')?;
    let contracts = contracts.parse::<usize>().ok()?;
    let by_key = match op {
        "find" => false,
        "find_key" => true,
        _ => return None,
    };
    let runtime = match with_contracts(contracts) {
        Ok(runtime) => runtime,
        Err(e) => return Some(Err(e.to_string())),
    };
    let reader = runtime.reader();
    let guard = reader.pin();
    let target = name(contracts / 2);
    let key = ContractKey::new(&target, V1);
    let find = |_| {
        if by_key {
            guard.find_key(black_box(&key)).is_ok()
        } else {
            guard.find(black_box(&target), V1).is_ok()
        }
    };
    let _ = find(());
    Some(Ok((0..n).map(|_| find(())).map(u32::from).sum()))
}

/// Instructions per call of the arm `id` that `mode` (`--count`,
/// `--count-capi`, `--count-wasm` or `--count-script`) runs, from two
/// callgrind runs, started together: a count of instructions does not
/// depend on what else the machine runs.
fn callgrind(mode: &str, id: &str) -> Option<f64> {
    let exe = std::env::current_exe().ok()?;
    let start = |calls: u32| {
        let out = std::env::temp_dir().join(format!(
            "polyplug-callgrind-{}-{id}-{calls}.out",
            std::process::id(),
        ));
        let child = Command::new("valgrind")
            .arg("--tool=callgrind")
            .arg(format!("--callgrind-out-file={}", out.display()))
            .arg(&exe)
            .args([mode, id, &calls.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        (child, out)
    };
    let total = |(child, out): (std::io::Result<std::process::Child>, std::path::PathBuf)| {
        let status = child.and_then(|mut c| c.wait());
        let text = std::fs::read_to_string(&out).ok();
        let _ = std::fs::remove_file(&out);
        if !status.ok()?.success() {
            return None;
        }
        text?
            .lines()
            .find_map(|l| {
                l.strip_prefix("summary: ")
                    .or_else(|| l.strip_prefix("totals: "))
            })
            .and_then(|n| n.trim().parse::<f64>().ok())
    };
    let (counted, empty) = (start(CALLGRIND_CALLS), start(0));
    let (counted, empty) = (total(counted), total(empty));
    Some((counted? - empty?) / f64::from(CALLGRIND_CALLS))
}

fn fmt(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.digits$}"))
}

fn verdict(row: &Row) -> &'static str {
    let (ratio, target) = match (row.ratio, row.target) {
        (None, _) => return "not run",
        (_, Target::None) => return "",
        (Some(r), Target::AtMost(t) | Target::AtLeast(t)) => (r, t),
    };
    // The passes disagree by more than the margin either way.
    if row
        .spread
        .is_some_and(|(low, high)| high - low > (ratio - target).abs())
    {
        return "noisy";
    }
    match row.target {
        Target::AtMost(t) if ratio <= t => "met",
        Target::AtLeast(t) if ratio >= t => "met",
        _ => "MISSED",
    }
}

/// The median of `values` (the mean of the middle two when even).
fn median_of(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => values.get(n / 2).copied(),
        _ => Some((values.get(n / 2 - 1)? + values.get(n / 2)?) / 2.0),
    }
}

/// One row per arm from the rows of every pass (the same arms in the same
/// order): the medians of the values and of the ratios, and the spread of
/// the ratios. The first pass's rows carry the instruction counts.
fn merge(passes: Vec<Vec<Row>>) -> Vec<Row> {
    let mut passes = passes.into_iter();
    let Some(mut merged) = passes.next() else {
        return Vec::new();
    };
    let rest: Vec<Vec<Row>> = passes.collect();
    if rest.is_empty() {
        return merged;
    }
    for (i, row) in merged.iter_mut().enumerate() {
        let of = |first: Option<f64>, get: fn(&Row) -> Option<f64>| -> Vec<f64> {
            std::iter::once(first)
                .chain(rest.iter().map(|pass| pass.get(i).and_then(get)))
                .flatten()
                .collect()
        };
        let values = of(row.value, |r| r.value);
        let ratios = of(row.ratio, |r| r.ratio);
        row.spread = (ratios.len() >= 2)
            .then(|| {
                let low = ratios.iter().copied().reduce(f64::min)?;
                let high = ratios.iter().copied().reduce(f64::max)?;
                Some((low, high))
            })
            .flatten();
        row.value = median_of(values);
        row.ratio = median_of(ratios);
    }
    merged
}

/// Runs every bench [`PASSES`] times, interleaved: `cargo bench` of the
/// whole package once per pass, saved as criterion baseline `pass<n>`.
fn run_passes(quick: bool) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let per_pass: &[&str] = if quick { &QUICK_PASS } else { &FULL_PASS };
    for pass in 1..=PASSES {
        eprintln!("report: bench pass {pass} of {PASSES}");
        let status = Command::new(&cargo)
            .args(["bench", "-p", "polyplug-benches", "--benches", "--"])
            .args(["--noplot", "--save-baseline", &format!("pass{pass}")])
            .args(per_pass)
            // Criterion's progress goes to stderr; stdout is the table.
            .stdout(std::io::stderr())
            .status()
            .map_err(|e| format!("cargo bench, pass {pass}: {e}"))?;
        if !status.success() {
            return Err(format!("cargo bench, pass {pass}: {status}"));
        }
    }
    Ok(())
}

fn table(rows: &[Row], with_instructions: bool) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "| bench | arm | value | unit | baseline | ratio | spread | target | verdict |"
    );
    if with_instructions {
        out.push_str(" instructions/call |");
    }
    out.push('\n');
    out.push_str("|---|---|---:|---|---|---:|---:|---|---|");
    if with_instructions {
        out.push_str("---:|");
    }
    out.push('\n');
    for row in rows {
        let target = match row.target {
            Target::AtMost(t) => format!("≤ {t}×"),
            Target::AtLeast(t) => format!("≥ {t}×"),
            Target::None => String::new(),
        };
        let digits = if row.unit == "ns/call" { 3 } else { 1 };
        let _ = write!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.group,
            row.arm,
            fmt(row.value, digits),
            row.unit,
            row.baseline,
            row.ratio
                .map_or_else(|| "–".to_owned(), |r| format!("{r:.2}×")),
            row.spread.map_or_else(
                || "–".to_owned(),
                |(low, high)| format!("{low:.2}–{high:.2}×")
            ),
            target,
            verdict(row),
        );
        if with_instructions {
            let _ = write!(out, " {} |", fmt(row.instructions, 1));
        }
        out.push('\n');
    }
    out
}

fn cpu() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

/// Counts to N through the arm named by `args` (`<arm> <calls>`): the mode
/// callgrind runs. `run` finds the arm by id and runs it.
fn count_mode(
    args: &[String],
    usage: &str,
    run: impl FnOnce(&str, u32) -> Option<Result<u32, String>>,
) -> ExitCode {
    let (Some(id), Some(n)) = (
        args.first(),
        args.get(1).and_then(|n| n.parse::<u32>().ok()),
    ) else {
        eprintln!("usage: report {usage} <arm> <calls>");
        return ExitCode::FAILURE;
    };
    match run(id, n) {
        None => {
            eprintln!("usage: report {usage} <arm> <calls>: no arm {id}");
            ExitCode::FAILURE
        }
        Some(Ok(counted)) if counted == n => ExitCode::SUCCESS,
        Some(Ok(counted)) => {
            eprintln!("{id} counted {counted}, not {n}");
            ExitCode::FAILURE
        }
        Some(Err(e)) => {
            eprintln!("{id}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Every row, from the baseline being read; instructions per call too when
/// `with_callgrind`.
fn rows(with_callgrind: bool) -> Vec<Row> {
    let instructions = |arm: Arm| {
        if with_callgrind {
            callgrind("--count", arm.id())
        } else {
            None
        }
    };
    let capi_instructions = |arm: CapiArm| {
        if with_callgrind {
            callgrind("--count-capi", arm.id())
        } else {
            None
        }
    };
    let mut rows = counter_rows(&instructions);
    rows.extend(capi_rows(&capi_instructions));
    rows.extend(registry_rows(&|id: &str| {
        if with_callgrind {
            callgrind("--count-registry", id)
        } else {
            None
        }
    }));
    rows.extend(lifecycle_rows());
    rows.extend(scaling_rows());
    rows.extend(wasm_rows(&|id: &str| {
        if with_callgrind {
            callgrind("--count-wasm", id)
        } else {
            None
        }
    }));
    rows.extend(script_rows(&|id: &str| {
        if with_callgrind {
            callgrind("--count-script", id)
        } else {
            None
        }
    }));
    rows
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--count") => {
            return count_mode(&args[1..], "--count", |id, n| {
                let arm = Arm::from_id(id)?;
                Some(
                    Setup::new()
                        .map_err(|e| e.to_string())
                        .and_then(|s| s.run(arm, n).map_err(|e| e.to_string())),
                )
            });
        }
        Some("--count-registry") => {
            return count_mode(&args[1..], "--count-registry", count_registry);
        }
        Some("--count-wasm") => {
            return count_mode(&args[1..], "--count-wasm", count_wasm);
        }
        Some("--count-script") => {
            return count_mode(&args[1..], "--count-script", count_script);
        }
        Some("--count-capi") => {
            return count_mode(&args[1..], "--count-capi", |id, n| {
                let arm = CapiArm::ALL.into_iter().find(|arm| arm.id() == id)?;
                Some(
                    CapiSetup::new()
                        .map_err(|e| e.to_string())
                        .and_then(|s| s.run(arm, n).map_err(|e| e.to_string())),
                )
            });
        }
        _ => {}
    }
    let with_callgrind = args.iter().any(|a| a == "--callgrind");
    let with_passes = args.iter().any(|a| a == "--passes");
    if with_passes && let Err(e) = run_passes(args.iter().any(|a| a == "--quick")) {
        eprintln!("report: {e}");
        return ExitCode::FAILURE;
    }
    let baselines: Vec<String> = if with_passes {
        (1..=PASSES).map(|pass| format!("pass{pass}")).collect()
    } else {
        vec!["new".to_owned()]
    };
    let passes = baselines
        .iter()
        .enumerate()
        .map(|(i, baseline)| {
            BASELINE.with(|b| baseline.clone_into(&mut b.borrow_mut()));
            // Instructions do not vary between passes: counted once.
            rows(with_callgrind && i == 0)
        })
        .collect();
    let rows = merge(passes);
    let nproc = std::thread::available_parallelism().map_or(0, usize::from);
    println!(
        "polyplug benchmarks: {} ({nproc} cores); criterion medians from {}, {}",
        cpu(),
        target_dir().join("criterion").display(),
        if with_passes {
            format!("{PASSES} interleaved passes (baselines pass1 to pass{PASSES})")
        } else {
            "the last run".to_owned()
        }
    );
    println!();
    print!("{}", table(&rows, with_callgrind));
    let missing = rows.iter().filter(|r| r.value.is_none()).count();
    if missing > 0 {
        println!(
            "\n{missing} rows have no result yet: run `cargo bench -p polyplug-benches` first."
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
