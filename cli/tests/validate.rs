//! `polyplug validate`: accepts every example bundle, and refuses each kind
//! of bad bundle with exit code 1 and a message that names the thing.
#![cfg(not(any(loom, shuttle, miri)))]

pub mod common;

use std::path::Path;

use common::{
    JS_COUNTER, LUA_COUNTER, PYTHON_COUNTER, TempDir, copy_bundle, edit_manifest, polyplug,
    script_bundle,
};
use polyplug_examples::{BUNDLES, SCRIPT_BUNDLES, WASM_BUNDLES, bundle};

/// Asserts that validating `dir` fails with exit code 1 and that stderr
/// holds every one of `expected`.
fn refused(dir: &Path, expected: &[&str]) {
    let run = polyplug(&[Path::new("validate"), dir]);
    assert_eq!(
        run.code,
        Some(1),
        "validate {} should fail: {run:?}",
        dir.display()
    );
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    assert!(run.stderr.contains("  --> "), "{}", run.stderr);
    for text in expected {
        assert!(
            run.stderr.contains(text),
            "{text:?} not in:\n{}",
            run.stderr
        );
    }
}

#[test]
fn every_example_bundle_validates() {
    for name in BUNDLES {
        let run = polyplug(&[Path::new("validate"), &bundle(name)]);
        assert_eq!(run.code, Some(0), "{name}: {run:?}");
        let version = if name.ends_with("v1") {
            "1.0.0"
        } else {
            "2.0.0"
        };
        let plugin = name.rsplit_once('-').unwrap().0;
        assert!(
            run.stdout.starts_with(&format!(
                "ok: {plugin} {version}: 1 contract (demo.counter 1.0.0: 2 native, 2 typed"
            )),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains("unloads cleanly"), "{}", run.stdout);
    }
}

#[test]
fn bad_manifests_point_at_the_field() {
    let tmp = TempDir::new("validate-manifest");
    let good = bundle("counter-c-v1");

    let dir = copy_bundle(&good, tmp.path(), "bad-version");
    edit_manifest(&dir, "version = \"1.0.0\"", "version = \"1.x\"");
    refused(
        &dir,
        &[
            "manifest.toml:5:11: field `bundle.version`: expected major.minor.patch, found \"1.x\"",
            "5 | version = \"1.x\"",
        ],
    );

    let dir = copy_bundle(&good, tmp.path(), "bad-syntax");
    edit_manifest(&dir, "loader = \"native\"", "loader = = \"native\"");
    refused(&dir, &["manifest.toml:6:", "invalid TOML"]);

    let dir = copy_bundle(&good, tmp.path(), "bad-loader");
    edit_manifest(&dir, "loader = \"native\"", "loader = \"cobol\"");
    refused(&dir, &["field `bundle.loader`", "\"cobol\""]);
}

#[test]
fn bad_libraries_are_named() {
    let tmp = TempDir::new("validate-library");
    let good = bundle("counter-c-v1");
    let file = "libcounter_c_v1.so";

    let dir = copy_bundle(&good, tmp.path(), "outside");
    edit_manifest(
        &dir,
        &format!("linux = \"{file}\""),
        &format!("linux = \"../{file}\""),
    );
    refused(
        &dir,
        &[
            "field `library.linux`",
            "must name a file inside the bundle directory",
        ],
    );

    let dir = copy_bundle(&good, tmp.path(), "missing");
    std::fs::remove_file(dir.join(file)).unwrap();
    refused(
        &dir,
        &[
            "field `library.linux`",
            &format!("expected library {}", dir.join(file).display()),
        ],
    );

    let dir = copy_bundle(&good, tmp.path(), "not-elf");
    std::fs::write(dir.join(file), vec![b'x'; 4096]).unwrap();
    refused(&dir, &[file, "to be a shared library (an ELF file"]);

    let dir = copy_bundle(&good, tmp.path(), "digest");
    edit_manifest(
        &dir,
        "[[provides]]",
        &format!("sha256 = \"{}\"\n\n[[provides]]", "ab".repeat(32)),
    );
    refused(
        &dir,
        &[
            "field `library.sha256`",
            &format!("to have sha256 {}", "ab".repeat(32)),
        ],
    );
}

#[test]
fn bad_plugins_are_refused_with_the_runtimes_reason() {
    use polyplug_fixtures::bundle as fixture;
    refused(
        &fixture("bad-abi"),
        &[
            "expected polyplug_abi_version 4, found 999",
            "= note: rebuild",
        ],
    );
    refused(
        &fixture("bad-no-entry"),
        &["expected the library to export polyplug_entry"],
    );
    refused(
        &fixture("bad-init-error"),
        &["entry point failed with code 1007", "refused on purpose"],
    );
    refused(
        &fixture("bad-undeclared"),
        &["registered contract undeclared.extra", "[[provides]]"],
    );
    refused(
        &fixture("bad-unregistered"),
        &["field `provides[1].name`", "declared.missing"],
    );
}

#[test]
fn a_digest_that_matches_is_accepted() {
    let tmp = TempDir::new("validate-digest");
    let dir = copy_bundle(&bundle("counter-rust-v2"), tmp.path(), "pinned");
    let run = polyplug(&[Path::new("validate"), &dir]);
    let digest = run
        .stdout
        .split("sha256 = \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    edit_manifest(
        &dir,
        "[[provides]]",
        &format!("sha256 = \"{digest}\"\n\n[[provides]]"),
    );
    let run = polyplug(&[Path::new("validate"), &dir]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        !run.stdout.contains("note: library.sha256"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_fifo_manifest_is_refused_without_blocking() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let tmp = TempDir::new("validate-fifo");
    let dir = copy_bundle(&bundle("counter-c-v1"), tmp.path(), "fifo");
    let manifest = dir.join("manifest.toml");
    std::fs::remove_file(&manifest).unwrap();
    let made = Command::new("mkfifo").arg(&manifest).status().unwrap();
    assert!(made.success(), "mkfifo {}", manifest.display());

    let mut child = Command::new(common::POLYPLUG)
        .arg("validate")
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Reading the FIFO would wait for a writer forever: give it 30 s.
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("polyplug validate still blocked on a FIFO manifest after 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let run = common::Run::from(child.wait_with_output().unwrap());
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "expected manifest {} to be a regular file, found a FIFO (named pipe)",
            manifest.display()
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn wasm_bundles_validate_through_the_wasm_loader() {
    for name in WASM_BUNDLES
        .iter()
        .map(|n| bundle(n))
        .chain(["wasm-add", "wasm-c-mul"].map(polyplug_fixtures::bundle))
    {
        let run = polyplug(&[Path::new("validate"), &name]);
        assert_eq!(run.code, Some(0), "{}: {run:?}", name.display());
        assert!(run.stdout.contains(", wasm module "), "{}", run.stdout);
        assert!(
            run.stdout
                .contains("unloads cleanly (module and instances dropped)"),
            "{}",
            run.stdout
        );
    }
    let run = polyplug(&[Path::new("validate"), &bundle("counter-wasm-v2")]);
    assert!(
        run.stdout.starts_with(
            "ok: counter-wasm 2.0.0: 1 contract (demo.counter 1.0.0: 0 native, 2 typed, instances), wasm module counter_wasm_v2.wasm sha256 "
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn bad_wasm_modules_are_refused_with_the_loaders_reason() {
    let tmp = TempDir::new("validate-wasm");
    let good = bundle("counter-wasm-v1");
    let file = "counter_wasm_v1.wasm";

    let dir = copy_bundle(&good, tmp.path(), "not-wasm");
    std::fs::write(dir.join(file), b"#!/bin/sh\n").unwrap();
    refused(
        &dir,
        &[
            file,
            "not a WebAssembly module",
            "= note: a wasm module declares its contracts by export names",
        ],
    );

    let dir = copy_bundle(&good, tmp.path(), "small-budget");
    edit_manifest(
        &dir,
        "[[provides]]",
        "[limits]\nmemory_pages = 1\n\n[[provides]]",
    );
    refused(
        &dir,
        &[
            file,
            "limits.memory_pages",
            "= note: raise limits.memory_pages",
        ],
    );

    let dir = copy_bundle(&good, tmp.path(), "undeclared");
    edit_manifest(&dir, "name = \"demo.counter\"", "name = \"demo.other\"");
    refused(&dir, &["demo.counter", "[[provides]]"]);
}

#[test]
fn lua_javascript_and_python_bundles_validate_through_their_engines() {
    let tmp = TempDir::new("validate-scripts");
    for (loader, file, script, code, freed) in [
        (
            "lua",
            "counter.lua",
            LUA_COUNTER,
            "Lua script",
            "unloads cleanly (script and Lua states freed)",
        ),
        (
            "javascript",
            "counter.js",
            JS_COUNTER,
            "JavaScript module",
            "unloads cleanly (module and JavaScript states freed)",
        ),
        (
            "python",
            "counter.py",
            PYTHON_COUNTER,
            "Python script",
            "unloads cleanly (script and its Python modules freed)",
        ),
    ] {
        let dir = script_bundle(
            tmp.path(),
            &format!("counter-{loader}"),
            loader,
            file,
            script,
        );
        let run = polyplug(&[Path::new("validate"), &dir]);
        assert_eq!(run.code, Some(0), "{loader}: {run:?}");
        assert!(
            run.stdout.starts_with(&format!(
                "ok: counter-{loader} 1.0.0: 1 contract (demo.counter 1.0.0: 0 native, 2 typed), {code} {file} sha256 "
            )),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains(freed), "{}", run.stdout);
    }
}

#[test]
fn the_lua_javascript_and_python_example_bundles_validate() {
    for name in SCRIPT_BUNDLES {
        let run = polyplug(&[Path::new("validate"), &bundle(name)]);
        assert_eq!(run.code, Some(0), "{name}: {run:?}");
        let (plugin, build) = name.rsplit_once('-').unwrap();
        let code = match plugin {
            "counter-lua" => "Lua script counter.lua",
            "counter-js" => "JavaScript module counter.js",
            _ => "Python script counter.py",
        };
        assert!(
            run.stdout.starts_with(&format!(
                "ok: {plugin} {}.0.0: 1 contract (demo.counter 1.0.0: 0 native, 2 typed), {code} sha256 ",
                &build[1..]
            )),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains("unloads cleanly ("), "{}", run.stdout);
    }
}

#[test]
fn a_lua_script_that_does_not_parse_is_refused_at_its_line() {
    let tmp = TempDir::new("validate-lua-syntax");
    let broken = LUA_COUNTER.replacen("fn = function(x)", "fn = function(x))", 1);
    let dir = script_bundle(tmp.path(), "broken", "lua", "counter.lua", &broken);
    let script = dir.join("counter.lua");
    refused(
        &dir,
        &[
            "counter.lua:3:",
            &format!("  --> {}:3:1", script.display()),
            " 3 |   step = { sig = \"u32(u32)\", fn = function(x))",
            "= note: a Lua script returns its contracts",
        ],
    );
}

#[test]
fn a_javascript_module_that_does_not_parse_is_refused_at_its_line() {
    let tmp = TempDir::new("validate-js-syntax");
    let broken = JS_COUNTER.replacen("(x) =>", "(x) => )", 1);
    let dir = script_bundle(tmp.path(), "broken", "javascript", "counter.js", &broken);
    let script = dir.join("counter.js");
    refused(
        &dir,
        &[
            "counter.js:3:",
            &format!("  --> {}:3:", script.display()),
            " 3 |   step: { sig: \"u32(u32)\", fn: (x) => ) (x + 1) >>> 0 },",
            "   |                                       ^",
            "= note: a JavaScript module exports its contracts",
        ],
    );
}

#[test]
fn a_python_script_that_does_not_parse_is_refused_at_its_line() {
    let tmp = TempDir::new("validate-python-syntax");
    let broken = PYTHON_COUNTER.replacen("lambda x:", "lambda x::", 1);
    let dir = script_bundle(tmp.path(), "broken", "python", "counter.py", &broken);
    let script = dir.join("counter.py");
    refused(
        &dir,
        &[
            "counter.py:5: SyntaxError",
            &format!("  --> {}:5:1", script.display()),
            " 5 |     \"step\": {\"sig\": \"u32(u32)\", \"fn\": lambda x:: (x + 1) & 0xFFFFFFFF},",
            "= note: a Python script lists its contracts",
        ],
    );
}

#[test]
fn a_python_script_that_raises_while_loading_is_refused_at_its_line() {
    let tmp = TempDir::new("validate-python-raises");
    let raising =
        PYTHON_COUNTER.replacen("import polyplug\n", "import polyplug\n{}[\"missing\"]\n", 1);
    let dir = script_bundle(tmp.path(), "raising", "python", "counter.py", &raising);
    let script = dir.join("counter.py");
    refused(
        &dir,
        &[
            "counter.py:2: KeyError: 'missing'",
            &format!("  --> {}:2:1", script.display()),
            " 2 | {}[\"missing\"]",
        ],
    );
}

#[test]
fn a_limit_python_cannot_enforce_is_refused_at_its_manifest_line() {
    let tmp = TempDir::new("validate-python-limits");
    let dir = script_bundle(tmp.path(), "hoard", "python", "counter.py", PYTHON_COUNTER);
    let manifest = dir.join("manifest.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let line = text.lines().count() + 3;
    std::fs::write(&manifest, format!("{text}\n[limits]\nmemory_pages = 64\n")).unwrap();
    refused(
        &dir,
        &[
            "field `limits.memory_pages`",
            "CPython cannot bound one plugin's memory",
            &format!("  --> {}:{line}:16", manifest.display()),
            "= note: the python loader cannot enforce limits.memory_pages: remove it from [limits]",
        ],
    );
}

#[test]
fn a_loader_polyplug_does_not_know_is_refused_at_the_field() {
    let tmp = TempDir::new("validate-ruby");
    let dir = script_bundle(tmp.path(), "gem", "ruby", "counter.rb", "x = 1\n");
    refused(
        &dir,
        &[
            "bundle.loader",
            "expected a loader kind, one of \"native\", \"lua\", \"python\", \"javascript\", \"wasm\", found \"ruby\"",
        ],
    );
}
