//! The code in README.md and docs/c-cpp-plugins.md is the code the
//! examples compile: every `rust`, `c`, `cpp`, `python` and `toml` block of
//! those files appears, line for line, in one of the example sources (the
//! example hosts of the C API included, which its own tests build and run).
#![expect(
    clippy::unwrap_used,
    reason = "test support: an unreadable file fails the test"
)]

use std::path::Path;

/// The files the documentation quotes.
const SOURCES: [&str; 8] = [
    "c/counter.c",
    "cpp/counter.cpp",
    "plugins/counter-common/counter.rs",
    "examples/host.rs",
    "bundles/v1/counter-c/manifest.toml",
    "../capi/examples/host.c",
    "../capi/examples/host.cpp",
    "../capi/examples/host.py",
];

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

fn check(markdown_file: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("..").join(markdown_file);
    let markdown = std::fs::read_to_string(&path).unwrap();
    let sources: Vec<String> = SOURCES
        .iter()
        .map(|s| std::fs::read_to_string(root.join(s)).unwrap())
        .collect();
    let quoted = blocks(&markdown, &["rust", "c", "cpp", "python", "toml"]);
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
    check("README.md");
}

#[test]
fn the_c_and_cpp_guide_quotes_the_examples() {
    check("docs/c-cpp-plugins.md");
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
