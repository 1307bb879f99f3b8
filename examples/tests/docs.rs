//! The code in README.md, docs/c-cpp-plugins.md, docs/lua-plugins.md,
//! docs/js-plugins.md and docs/python-plugins.md is the code the examples
//! and tests compile or load: every `rust`, `c`, `cpp`, `python` and
//! `toml` block of those files, and every `lua` and `js` block of the Lua
//! and JavaScript guides, appears,
//! line for line, in one of the sources (the example hosts of the C API
//! included, which its own tests build and run; the example bundles; the
//! engines' test scripts and the tests that load them, the Lua and
//! JavaScript handover scripts among them; the state handover test and its
//! fixture).
#![expect(
    clippy::unwrap_used,
    reason = "test support: an unreadable file fails the test"
)]

use std::path::Path;

/// The files the documentation quotes.
const SOURCES: [&str; 47] = [
    "c/counter.c",
    "c/text.c",
    "cpp/counter.cpp",
    "plugins/counter-common/counter.rs",
    "examples/host.rs",
    "bundles/v1/counter-c/manifest.toml",
    "../capi/examples/host.c",
    "../capi/examples/host.cpp",
    "../capi/examples/host.py",
    "bundles/v1/counter-lua/manifest.toml",
    "bundles/v1/counter-lua/counter.lua",
    "bundles/v1/counter-js/manifest.toml",
    "bundles/v1/counter-js/counter.js",
    "../engines/lua/tests/corpus.rs",
    "../engines/lua/tests/corpus/good/manifest.toml",
    "../engines/lua/tests/corpus/good/corpus.lua",
    "../engines/lua/tests/corpus/bad/raises.lua",
    "../engines/lua/tests/corpus/bad/loops_at_load.lua",
    "../engines/lua/tests/bundles/calc.lua",
    "../engines/lua/tests/bundles/budget.lua",
    "../engines/lua/tests/bundles/chain.lua",
    "../engines/lua/tests/bundles/handover.lua",
    "../engines/js/tests/corpus.rs",
    "../engines/js/tests/corpus/good/manifest.toml",
    "../engines/js/tests/corpus/good/corpus.js",
    "../engines/js/tests/corpus/bad/throws.js",
    "../engines/js/tests/corpus/bad/loops_at_load.js",
    "../engines/js/tests/corpus/bad/imports_outside.js",
    "../engines/js/tests/js/add.js",
    "../engines/js/tests/js/faults.js",
    "../engines/js/tests/js/host.js",
    "../engines/js/tests/js/handover.js",
    "bundles/v1/counter-python/manifest.toml",
    "bundles/v1/counter-python/counter.py",
    "../engines/python/tests/corpus.rs",
    "../engines/python/tests/bundles/counter.py",
    "../engines/python/tests/corpus/good/manifest.toml",
    "../engines/python/tests/corpus/good/corpus.py",
    "../engines/python/tests/corpus/bad/raises.py",
    "../engines/python/tests/corpus/bad/loops_at_load.py",
    "../engines/python/tests/corpus/bad/imports_outside.py",
    "../engines/python/tests/bundles/calc.py",
    "../engines/python/tests/bundles/budget.py",
    "../engines/python/tests/bundles/chain.py",
    "../engines/python/tests/bundles/handover.py",
    "../polyplug/tests/handover.rs",
    "../fixtures/plugins/handover-common/handover.rs",
];

/// The languages whose blocks are checked everywhere.
const CHECKED: [&str; 5] = ["rust", "c", "cpp", "python", "toml"];

/// The languages whose blocks are checked in the Lua and JavaScript
/// guides, which quote scripts too.
const CHECKED_SCRIPT_GUIDES: [&str; 4] = ["rust", "toml", "lua", "js"];

/// The languages whose blocks are checked in the Python guide.
const CHECKED_PYTHON_GUIDE: [&str; 3] = ["rust", "toml", "python"];

/// The fenced blocks of `markdown` whose language is one of `languages`,
/// with the line each starts on.
fn blocks<'a>(markdown: &'a str, languages: &[&str]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut current: Option<(usize, Vec<&'a str>)> = None;
    for (n, line) in markdown.lines().enumerate() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(language)) if languages.contains(&language.trim()) => {
                current = Some((n + 1, Vec::new()));
            }
            (None, Some(_)) => current = Some((0, Vec::new())),
            (Some(_), Some("")) => {
                if let Some((start, lines)) = current.take()
                    && start > 0
                {
                    found.push((start, lines.join("\n")));
                }
            }
            (Some((_, lines)), _) => lines.push(line),
            (None, None) => {}
        }
    }
    found
}

fn check(markdown_file: &str, languages: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("..").join(markdown_file);
    let markdown = std::fs::read_to_string(&path).unwrap();
    let sources: Vec<String> = SOURCES
        .iter()
        .map(|s| std::fs::read_to_string(root.join(s)).unwrap())
        .collect();
    let quoted = blocks(&markdown, languages);
    assert!(!quoted.is_empty(), "{markdown_file} quotes no code");
    for (line, block) in quoted {
        assert!(
            sources.iter().any(|s| s.contains(&block)),
            "{markdown_file}:{line}: this block is not in any of {SOURCES:?}:\n{block}"
        );
    }
}

#[test]
fn the_readme_quotes_the_examples() {
    check("README.md", &CHECKED);
}

#[test]
fn the_c_and_cpp_guide_quotes_the_examples() {
    check("docs/c-cpp-plugins.md", &CHECKED);
}

#[test]
fn the_lua_guide_quotes_the_examples_and_tests() {
    check("docs/lua-plugins.md", &CHECKED_SCRIPT_GUIDES);
}

#[test]
fn the_javascript_guide_quotes_the_examples_and_tests() {
    check("docs/js-plugins.md", &CHECKED_SCRIPT_GUIDES);
}

#[test]
fn the_python_guide_quotes_the_examples_and_tests() {
    check("docs/python-plugins.md", &CHECKED_PYTHON_GUIDE);
}

#[test]
fn a_changed_block_is_caught() {
    let markdown = "text\n```c\nint not_in_any_source;\n```\n```sh\nignored\n```\n";
    let quoted = blocks(markdown, &["c"]);
    assert_eq!(quoted, vec![(2, "int not_in_any_source;".to_owned())]);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let c = std::fs::read_to_string(root.join(SOURCES[0])).unwrap();
    assert!(!c.contains(&quoted[0].1));
}
