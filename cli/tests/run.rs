//! `polyplug demo` and `polyplug stress` run briefly, with 0 errors, and
//! stress fails when reloads fail.
#![cfg(not(any(loom, shuttle, miri)))]
#![expect(
    clippy::unwrap_used,
    reason = "test support: a failed step fails the test"
)]

pub mod common;

use std::path::Path;

use common::{TempDir, copy_bundle, polyplug};
use polyplug_examples::{
    Build, JS_PLUGIN, LUA_PLUGIN, PLUGINS, PYTHON_PLUGIN, WASM_PLUGIN, bundle,
};

/// The number after `label` on the summary line that starts with it.
fn number_after(text: &str, label: &str) -> u64 {
    let line = text.lines().find(|l| l.starts_with(label)).unwrap();
    let digits: String = line[label.len()..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

#[test]
fn demo_runs_for_a_second_with_no_errors() {
    let run = polyplug(&["demo", "--seconds", "1", "--threads", "2"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(number_after(&run.stdout, "errors"), 0, "{}", run.stdout);
    assert!(number_after(&run.stdout, "reloads ") > 0, "{}", run.stdout);
    assert!(number_after(&run.stdout, "calls ") > 0, "{}", run.stdout);
    for plugin in PLUGINS
        .iter()
        .chain([&WASM_PLUGIN, &LUA_PLUGIN, &JS_PLUGIN, &PYTHON_PLUGIN])
    {
        let row = run
            .stdout
            .lines()
            .find(|l| l.starts_with(plugin.name))
            .unwrap();
        assert!(row.contains("v1"), "{row}");
    }
    let wasm_row = run
        .stdout
        .lines()
        .find(|l| l.starts_with("counter-wasm"))
        .unwrap();
    assert!(wasm_row.contains("Rust→wasm"), "{wasm_row}");
    for (name, language) in [
        ("counter-lua", "Lua"),
        ("counter-js", "JavaScript"),
        ("counter-python", "Python"),
    ] {
        let row = run.stdout.lines().find(|l| l.starts_with(name)).unwrap();
        assert!(row.contains(language), "{row}");
    }
    // Every library the demo opened was closed.
    let libraries = run
        .stdout
        .lines()
        .find(|l| l.starts_with("libraries"))
        .unwrap();
    let opened = number_after(libraries, "libraries");
    assert!(
        libraries.contains(&format!("{} closed", common_count(opened))),
        "{libraries}"
    );
}

/// `1,234` as the command prints counts.
fn common_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn demo_stops_after_the_reloads_asked_for() {
    let run = polyplug(&["demo", "--reloads", "15"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(number_after(&run.stdout, "reloads "), 15, "{}", run.stdout);
    // Round robin over seven plugins: Rust, C, C++, wasm, Lua, JavaScript,
    // Python, twice, then Rust once more.
    assert!(
        run.stdout.contains("libraries       10 opened, 10 closed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("wasm            3 modules compiled, 3 dropped; "),
        "{}",
        run.stdout
    );
    // The first load and two reloads of each script, every one dropped,
    // and every Lua and JavaScript state freed.
    for engine in ["lua             ", "javascript      "] {
        let line = run.stdout.lines().find(|l| l.starts_with(engine)).unwrap();
        assert!(
            line.starts_with(&format!("{engine}3 loads, 3 dropped; ")),
            "{line}"
        );
        let made = number_after(line, &format!("{engine}3 loads, 3 dropped;"));
        assert!(made > 0, "{line}");
        assert!(
            line.ends_with(&format!(
                "{} states made, {} freed",
                common_count(made),
                common_count(made)
            )),
            "{line}"
        );
    }
    // The first load and two reloads of the Python script, each its one
    // module, all dropped; every thread state a dispatcher made was freed
    // at its exit, and only the thread that loaded keeps one.
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("python          "))
        .unwrap();
    assert!(
        line.starts_with("python          3 loads, 3 dropped; 3 modules made, 3 dropped; "),
        "{line}"
    );
    let made = number_after(
        line,
        "python          3 loads, 3 dropped; 3 modules made, 3 dropped;",
    );
    assert!(made > 1, "{line}");
    assert!(
        line.ends_with(&format!(
            "{} thread states made, {} freed, 1 kept by threads still running",
            common_count(made),
            common_count(made - 1)
        )),
        "{line}"
    );
    // Each script plugin was called, and reloaded twice.
    for name in ["counter-lua", "counter-js", "counter-python"] {
        let row: Vec<&str> = run
            .stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap()
            .split_whitespace()
            .collect();
        assert!(
            row[2].replace(',', "").parse::<u64>().unwrap() > 0,
            "{row:?}"
        );
        assert_eq!(row[3], "2", "{row:?}");
        assert_eq!(row.last(), Some(&"0"), "{row:?}");
    }
}

#[test]
fn stress_passes_on_the_example_plugins() {
    for plugin in PLUGINS {
        let (v1, v2) = (plugin.dir(Build::V1), plugin.dir(Build::V2));
        let run = polyplug(&[
            Path::new("stress"),
            &v1,
            Path::new("--reload-with"),
            &v2,
            Path::new("--reloads"),
            Path::new("5"),
            Path::new("--threads"),
            Path::new("2"),
        ]);
        assert_eq!(run.code, Some(0), "{}: {run:?}", plugin.name);
        assert!(
            run.stdout
                .contains("calling   demo.counter 1.0.0: version u32(), step u32(u32)"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout
                .contains("skipped   native demo.counter.step, native demo.counter.count"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("reloads         5 ok, 0 failed"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("0 call errors, 0 stale handles"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout
                .contains("libraries       6 opened, 6 closed, 6 unmapped"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("verdict         PASS"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn stress_fails_when_the_reloads_fail() {
    let tmp = TempDir::new("stress-fails");
    let broken = copy_bundle(&bundle("counter-c-v2"), tmp.path(), "broken");
    std::fs::write(broken.join("libcounter_c_v2.so"), vec![b'x'; 4096]).unwrap();
    let run = polyplug(&[
        Path::new("stress"),
        &bundle("counter-c-v1"),
        Path::new("--reload-with"),
        &broken,
        Path::new("--reloads"),
        Path::new("4"),
    ]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stdout.contains("reloads         2 ok, 2 failed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("verdict         FAIL"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("to be a shared library"),
        "{}",
        run.stderr
    );
}

#[test]
fn stress_refuses_a_bundle_of_another_name() {
    let run = polyplug(&[
        Path::new("stress"),
        &bundle("counter-c-v1"),
        Path::new("--reload-with"),
        &bundle("counter-cpp-v2"),
    ]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("is bundle counter-cpp, not another version of bundle counter-c"),
        "{}",
        run.stderr
    );
}
