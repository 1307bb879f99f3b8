//! Every committed seed, through its target's check, on stable: the seed
//! corpora stay valid inputs and every property holds on them, without
//! nightly or libFuzzer.
#![expect(clippy::unwrap_used, reason = "a test fails on the first bad seed")]

use std::fs;
use std::path::{Path, PathBuf};

use arbitrary::{Arbitrary, Unstructured};
use polyplug_fuzz::registration::Registration;
use polyplug_fuzz::store_ops::Script;

/// The seed files of `target`, sorted.
fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no seeds in {}", dir.display());
    paths
        .into_iter()
        .map(|path| {
            let bytes = fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect()
}

/// Decodes a structured seed the way `fuzz_target!` does.
fn decode<'a, T: Arbitrary<'a>>(path: &Path, bytes: &'a [u8]) -> T {
    match T::arbitrary_take_rest(Unstructured::new(bytes)) {
        Ok(value) => value,
        Err(e) => panic!("{} does not decode: {e}", path.display()),
    }
}

#[test]
fn definition_seeds_hold() {
    for (_, bytes) in seeds("definition") {
        polyplug_fuzz::definition::check(&bytes);
    }
}

#[test]
fn manifest_seeds_hold() {
    for (_, bytes) in seeds("manifest") {
        polyplug_fuzz::manifest::check(&bytes);
    }
}

#[test]
fn syntax_seeds_hold() {
    for (_, bytes) in seeds("syntax") {
        polyplug_fuzz::syntax::check(&bytes);
    }
}

#[test]
fn seal_seeds_hold() {
    for (_, bytes) in seeds("seal") {
        polyplug_fuzz::seal::check(&bytes);
    }
    // The one input that verifies: the trusted key's own signature.
    let key = polyplug_loader::SecretKey::from_seed(polyplug_fuzz::seal::SEED);
    let own = key.sign(polyplug_fuzz::seal::LIST, polyplug_fuzz::seal::COMMENT);
    polyplug_fuzz::seal::check(own.as_bytes());
}

#[test]
fn text_seeds_hold() {
    for (_, bytes) in seeds("text") {
        polyplug_fuzz::text::check(&bytes);
    }
}

#[test]
fn signature_seeds_hold() {
    for (_, bytes) in seeds("signature") {
        polyplug_fuzz::signature::check(&bytes);
    }
}

#[test]
fn registration_seeds_hold() {
    for (path, bytes) in seeds("registration") {
        let input: Registration = decode(&path, &bytes);
        polyplug_fuzz::registration::check(&input);
    }
}

#[test]
fn store_ops_seeds_hold() {
    for (path, bytes) in seeds("store_ops") {
        let script: Script = decode(&path, &bytes);
        assert!(
            !script.ops.is_empty(),
            "{} decodes to no operation",
            path.display()
        );
        polyplug_fuzz::store_ops::check(&script);
    }
}

/// The structured seeds decode to what their names say: a good
/// registration validates, and each seed named after a defect is refused.
#[test]
fn registration_seeds_mean_what_they_say() {
    let sound = [
        "good",
        "create-and-destroy",
        "no-functions",
        "major-max",
        "native-256-entries",
        "name-128-bytes",
        "typed-whitespace",
        "string-result",
        // `string(u32)`: an owned result, a type since ABI 3.
        "typed-string-of-u32",
        // Type 12 was past the value types, read as `void`; it is `str` since ABI 3.
        "typed-str-argument",
    ];
    for (path, bytes) in seeds("registration") {
        let input: Registration = decode(&path, &bytes);
        let name = path.file_name().unwrap().to_str().unwrap();
        let accepted = polyplug_fuzz::registration::build(&input)
            .validate()
            .is_ok();
        assert_eq!(accepted, sound.contains(&name), "{name}: {input:?}");
    }
}

/// Each `wasm_module` seed through its check: the good modules load and
/// have their functions called (so the target reaches the calls), the bad
/// ones are refused.
#[test]
fn wasm_module_seeds_hold() {
    use polyplug_fuzz::wasm_module::{WasmInput, check};
    for (path, bytes) in seeds("wasm_module") {
        let input: WasmInput = decode(&path, &bytes);
        let outcome = check(&input);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let good = [
            "rust-",
            "c-mul",
            "wat-add",
            "wat-budget",
            "wat-reload",
            "wat-two-contracts",
        ]
        .iter()
        .any(|p| name.starts_with(p));
        assert_eq!(outcome.loaded, good, "{name}: {outcome:?}");
        if good {
            assert!(outcome.calls > 0, "{name}: {outcome:?}");
        }
        if name == "wat-budget" || name == "rust-add" {
            assert!(outcome.failed > 0, "{name} traps or runs out: {outcome:?}");
        }
        // The handover fixture: `arm(args[0])` before the reload; 1 makes
        // its save trap, 2 its restore refuse, anything else hands over.
        let handover = match name.as_str() {
            "rust-handover" => Some((1, 0)),
            "rust-handover-save-fails" | "rust-handover-restore-refuses" => Some((0, 1)),
            _ => None,
        };
        if let Some((upgraded, failed)) = handover {
            assert_eq!(
                (outcome.upgraded, outcome.handover_failed),
                (upgraded, failed),
                "{name}: {outcome:?}"
            );
        }
    }
}

/// Each `script_registration` seed through its check: the seeds named
/// `loads-*` load in Lua, JavaScript and Python, those named `refused-*`
/// are refused in all three, and `arity-*` (a function with a parameter
/// more than its signature) loads in Lua only, so the corpus reaches every
/// side of the oracle. `loads-no-functions` declares a contract with no
/// function, which Python does not register: refused there.
#[test]
fn script_registration_seeds_hold() {
    use polyplug_fuzz::script_registration::{ScriptInput, check};
    let mut seen = [false; 2];
    for (path, bytes) in seeds("script_registration") {
        let input: ScriptInput = decode(&path, &bytes);
        let loaded = check(&input);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == "loads-no-functions" {
            assert_eq!(loaded, [true, true, false], "{name}: {input:?}");
        } else if name.starts_with("loads-") {
            assert_eq!(loaded, [true, true, true], "{name}: {input:?}");
            seen[0] = true;
        }
        if name.starts_with("refused-") {
            assert_eq!(loaded, [false, false, false], "{name}: {input:?}");
            seen[1] = true;
        }
        if name.starts_with("arity-") {
            assert_eq!(loaded, [true, false, false], "{name}: {input:?}");
        }
    }
    assert_eq!(seen, [true, true], "seeds that load and seeds refused");
}
