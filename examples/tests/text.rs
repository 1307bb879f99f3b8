//! The `demo.text` example plugins: each bundle of `TEXT_PLUGINS` loads,
//! and its `upper` and `checksum`, called through the typed API, answer
//! what a Rust computation does, for empty, ASCII, non-ASCII and NUL text
//! and for bytes with 0x00 and 0xFF.

use polyplug::{Bytes, Provider, Runtime, Str};
use polyplug_examples::{
    Language, TEXT_CONTRACT, TEXT_CONTRACT_VERSION, TEXT_PLUGINS, text_bundles_dir, text_checksum,
    text_upper,
};
use polyplug_wasm::{WasmConfig, WasmLoader};

/// The host wrapper `polyplug gen --lang rust-host` writes from
/// `examples/contracts/text.toml`.
#[path = "../contracts/demo_text_host.rs"]
pub mod demo_text_host;

const TEXTS: &[&str] = &[
    "",
    "hello, polyplug",
    "a",
    "MiXeD 123 !?",
    "a\0b",
    "straße",
    "café é ǆ ﬀ",
    "日本語とemoji 🙂",
];

fn bytes() -> Vec<Vec<u8>> {
    vec![
        vec![],
        vec![0xFF],
        vec![0x00],
        vec![0xFF; 1000],
        (0..=255).collect(),
        b"hello, polyplug".to_vec(),
        "straße".as_bytes().to_vec(),
    ]
}

/// A runtime with the wasm loader too, so a WebAssembly `demo.text` in
/// `TEXT_PLUGINS` loads.
fn runtime() -> Result<Runtime, Box<dyn std::error::Error>> {
    Ok(Runtime::builder()
        .loader(WasmLoader::new(WasmConfig::default()))
        .build()?)
}

#[test]
fn every_text_plugin_upper_cases_and_sums_as_rust_does() {
    for plugin in TEXT_PLUGINS {
        let runtime = runtime().unwrap();
        runtime.load_bundle(plugin.text_dir()).unwrap();
        let reader = runtime.reader();
        let guard = reader.pin();
        let text = guard
            .find(TEXT_CONTRACT, TEXT_CONTRACT_VERSION)
            .unwrap_or_else(|e| panic!("{}: {e}", plugin.name));
        let upper = text.typed::<extern "C" fn(Str) -> String>("upper").unwrap();
        let checksum = text
            .typed::<extern "C" fn(Bytes) -> u64>("checksum")
            .unwrap();
        for input in TEXTS {
            assert_eq!(
                upper.try_call(input).unwrap(),
                text_upper(plugin.language, input),
                "{}: upper({input:?})",
                plugin.name
            );
        }
        for input in bytes() {
            assert_eq!(
                checksum.try_call(&input).unwrap(),
                text_checksum(&input),
                "{}: checksum({input:02X?})",
                plugin.name
            );
        }
    }
}

#[test]
fn the_expected_values_are_what_the_contract_says() {
    // The Rust computation the plugins are checked against, spelled out.
    assert_eq!(text_upper(Language::Rust, "straße é"), "STRASSE É");
    assert_eq!(text_upper(Language::C, "straße é"), "STRAßE é");
    assert_eq!(text_upper(Language::C, "a\0b"), "A\0B");
    assert_eq!(text_checksum(&[0xFF; 1000]), 255_000);
    assert_eq!(
        text_checksum(&(0..=255).collect::<Vec<u8>>()),
        255 * 256 / 2
    );
}

#[test]
fn the_rust_plugin_is_unicode_aware_and_the_c_plugin_ascii_only() {
    let runtime = runtime().unwrap();
    for plugin in TEXT_PLUGINS {
        runtime.load_bundle(plugin.text_dir()).unwrap();
    }
    let reader = runtime.reader();
    let guard = reader.pin();
    let mut seen = Vec::new();
    for text in guard.find_all(TEXT_CONTRACT, TEXT_CONTRACT_VERSION) {
        let Provider::Bundle { name, .. } = text.provider() else {
            panic!("demo.text provided by the host");
        };
        let upper = text.typed::<extern "C" fn(Str) -> String>("upper").unwrap();
        let expected = match name.as_str() {
            "text-rust" => "STRASSE É",
            "text-c" => "STRAßE é",
            _ => continue,
        };
        assert_eq!(upper.try_call("straße é").unwrap(), expected, "{name}");
        seen.push(name.as_str());
    }
    seen.sort_unstable();
    assert_eq!(seen, ["text-c", "text-rust"]);
}

#[test]
fn find_all_finds_every_text_plugin_in_the_text_directory() {
    let runtime = runtime().unwrap();
    runtime.load_dir(text_bundles_dir()).unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let mut names: Vec<&str> = guard
        .find_all(TEXT_CONTRACT, TEXT_CONTRACT_VERSION)
        .map(|text| match text.provider() {
            Provider::Bundle { name, .. } => name.as_str(),
            Provider::Host => "host",
        })
        .collect();
    names.sort_unstable();
    let mut expected: Vec<&str> = TEXT_PLUGINS.iter().map(|p| p.name).collect();
    expected.sort_unstable();
    assert_eq!(names, expected);
}

#[test]
fn the_generated_host_wrapper_calls_each_text_plugin() {
    for plugin in TEXT_PLUGINS {
        let runtime = runtime().unwrap();
        runtime.load_bundle(plugin.text_dir()).unwrap();
        let reader = runtime.reader();
        let guard = reader.pin();
        let text = demo_text_host::DemoText::bind(&guard).unwrap();
        assert_eq!(
            text.upper(&guard, "hello, polyplug").unwrap(),
            "HELLO, POLYPLUG",
            "{}",
            plugin.name
        );
        assert_eq!(
            text.checksum(&guard, &[0xFF, 0xFF, 0x01]).unwrap(),
            511,
            "{}",
            plugin.name
        );
    }
}
