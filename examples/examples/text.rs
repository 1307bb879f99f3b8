//! An example host for the `demo.text` contract: loads every
//! `polyplug_examples::TEXT_PLUGINS` bundle, finds each loaded `demo.text`
//! with `find_all`, and calls `upper` and `checksum` through the typed
//! API. Run it with `cargo run -p polyplug-examples --example text`.
//!
//! Who frees what: the `&str` and `&[u8]` arguments stay the host's, lent
//! to the plugin for the call; the `String` that `upper` returns was
//! allocated by the plugin with the host's allocator and handed over, so it
//! is the host's to keep or drop, whatever language the plugin is in.

use polyplug::{Bytes, ContractRef, Provider, Runtime, Str};
use polyplug_examples::{
    TEXT_CONTRACT, TEXT_CONTRACT_VERSION, TEXT_PLUGINS, text_checksum, text_upper,
};
use polyplug_wasm::{WasmConfig, WasmLoader};

/// ASCII, so every plugin agrees; see the note that follows it.
const TEXT: &str = "hello, polyplug";
/// Where the plugins differ: C upper-cases ASCII letters only.
const UNICODE: &str = "straße, café";
/// Bytes, 0xFF included: the checksum is a sum of bytes, not of characters.
const BYTES: &[u8] = &[0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFF];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The wasm loader too, so a WebAssembly demo.text in TEXT_PLUGINS loads.
    let runtime = Runtime::builder()
        .loader(WasmLoader::new(WasmConfig::default()))
        .build()?;
    for plugin in TEXT_PLUGINS {
        runtime.load_bundle(plugin.text_dir())?;
    }
    let reader = runtime.reader();
    let guard = reader.pin();
    for text in guard.find_all(TEXT_CONTRACT, TEXT_CONTRACT_VERSION) {
        let bundle = bundle_of(&text);
        let upper = text.typed::<extern "C" fn(Str) -> String>("upper")?; // string(str)
        let checksum = text.typed::<extern "C" fn(Bytes) -> u64>("checksum")?; // u64(bytes)

        let owned: String = upper.try_call(TEXT)?; // the plugin's buffer, now the host's
        println!("{bundle:<10} upper({TEXT:?}) = {owned:?}");
        // A native plugin allocates with the host's alloc; a wasm module's
        // result is copied out of its memory, which it then frees.
        let native = TEXT_PLUGINS
            .iter()
            .any(|plugin| plugin.name == bundle && plugin.language.is_native());
        let made = if native {
            "allocated by the plugin with the host's alloc"
        } else {
            "copied out of the wasm module's memory (its copy given back to polyplug_free)"
        };
        println!(
            "{bundle:<10}   a String of {} bytes that the host owns: {made}, dropped (freed) by the \
             host now",
            owned.len()
        );
        drop(owned);

        let unicode = upper.try_call(UNICODE)?;
        let note = match TEXT_PLUGINS.iter().find(|p| p.name == bundle) {
            Some(plugin) if text_upper(plugin.language, UNICODE) != UNICODE.to_uppercase() => {
                " (ASCII a-z only)"
            }
            _ => "",
        };
        println!("{bundle:<10} upper({UNICODE:?}) = {unicode:?}{note}");

        let sum = checksum.try_call(BYTES)?;
        println!(
            "{bundle:<10} checksum({BYTES:02X?}) = {sum} (expected {})",
            text_checksum(BYTES)
        );
    }
    Ok(())
}

/// The bundle that provides a contract.
fn bundle_of<'g>(contract: &ContractRef<'g>) -> &'g str {
    match contract.provider() {
        Provider::Bundle { name, .. } => name,
        Provider::Host => "host",
    }
}
