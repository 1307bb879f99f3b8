//! `str`/`bytes` arguments and `string`/`buf` results of wasm exports
//! (`text.wat`): copied in through the module's `polyplug_alloc`, out of
//! one `i64` `ptr | (len << 32)`, released through `polyplug_free`; a
//! result out of the module's memory or a string that is not UTF-8 is a
//! typed error, and a module that would need `polyplug_alloc` without
//! exporting it is refused at load.

use std::path::{Path, PathBuf};

use polyplug::{Bytes, LoadError, Runtime, Str, Version};
use polyplug_abi::{ERR_INVALID, ERR_TRAP};

use super::wat_modules::{TempDir, bundle, compile, runtime, wat};

const V1: Version = Version::new(1, 0, 0);

fn text_bundle(dir: &Path, label: &str, module: &[u8]) -> PathBuf {
    bundle(
        dir,
        label,
        "wasm-text",
        "1.0.0",
        &[("demo.text", "1.0.0")],
        module,
        "",
    )
}

/// A runtime with `text.wat` loaded.
fn loaded(dir: &Path) -> Runtime {
    let (runtime, _) = runtime();
    runtime
        .load_bundle(text_bundle(dir, "text", &compile(&wat("text.wat"))))
        .unwrap();
    runtime
}

fn frees(runtime: &Runtime) -> u32 {
    let reader = runtime.reader();
    let guard = reader.pin();
    guard
        .find("demo.text", V1)
        .unwrap()
        .typed::<extern "C" fn() -> u32>("frees")
        .unwrap()
        .try_call()
        .unwrap()
}

#[test]
fn str_and_bytes_cross_in_and_string_and_buf_out() {
    let tmp = TempDir::new("bytes-typed");
    let runtime = loaded(&tmp.0);
    let reader = runtime.reader();
    let guard = reader.pin();
    let text = guard.find("demo.text", V1).unwrap();
    let upper = text.typed::<extern "C" fn(Str) -> String>("upper").unwrap();
    assert_eq!(upper.try_call("hello, wasm").unwrap(), "HELLO, WASM");
    assert_eq!(upper.try_call("").unwrap(), "");
    assert_eq!(upper.try_call("grüße").unwrap(), "GRüßE");
    let checksum = text
        .typed::<extern "C" fn(Bytes) -> u64>("checksum")
        .unwrap();
    assert_eq!(checksum.try_call(&[1, 2, 3, 250]).unwrap(), 256);
    assert_eq!(checksum.try_call(&[]).unwrap(), 0);
    let big = vec![255u8; 100_000];
    assert_eq!(checksum.try_call(&big).unwrap(), 25_500_000);
    let echo = text
        .typed::<extern "C" fn(Bytes, u32) -> Vec<u8>>("echo")
        .unwrap();
    assert_eq!(echo.try_call(&[9, 8, 7, 6], 2).unwrap(), vec![9, 8]);
    assert_eq!(echo.try_call(&[0xff, 0], 10).unwrap(), vec![0xff, 0]);
    drop(guard);
    // Each non-empty argument copied in and each non-empty result copied
    // out went back to polyplug_free: upper 2 + 2, checksum 2, echo 2 + 2.
    assert_eq!(frees(&runtime), 10);
}

#[test]
fn a_result_out_of_memory_or_not_utf8_is_a_typed_error_and_the_module_serves_on() {
    let tmp = TempDir::new("bytes-bad");
    let runtime = loaded(&tmp.0);
    let reader = runtime.reader();
    let guard = reader.pin();
    let text = guard.find("demo.text", V1).unwrap();
    let far = text.typed::<extern "C" fn() -> String>("far").unwrap();
    let err = far.try_call().unwrap_err();
    println!("{err}");
    assert_eq!(err.code, ERR_TRAP);
    assert_eq!(err.function, "far");
    assert!(
        err.message.as_str().contains("out of the module's memory"),
        "{err}"
    );
    assert!(err.message.as_str().contains("wasm-text"), "{err}");
    let bad = text.typed::<extern "C" fn() -> String>("bad").unwrap();
    let err = bad.try_call().unwrap_err();
    println!("{err}");
    assert_eq!(err.code, ERR_INVALID);
    assert!(err.message.as_str().contains("not UTF-8"), "{err}");
    // The same bytes as a buf are fine.
    let upper = text.typed::<extern "C" fn(Str) -> String>("upper").unwrap();
    assert_eq!(upper.try_call("still serving").unwrap(), "STILL SERVING");
}

#[test]
fn bytes_in_without_polyplug_alloc_are_refused_at_load() {
    let tmp = TempDir::new("bytes-noalloc");
    let (runtime, _) = runtime();
    let module = compile(&wat("text.wat").replace("\"polyplug_alloc\"", "\"other_alloc\""));
    let err = runtime
        .load_bundle(text_bundle(&tmp.0, "noalloc", &module))
        .unwrap_err();
    println!("{err}");
    let LoadError::Code { bundle, error } = &err else {
        panic!("expected LoadError::Code, found {err}");
    };
    assert_eq!(bundle, "wasm-text");
    // The first export that takes bytes, in the module's export order.
    assert!(
        [
            "export \"demo.text@1.0.0/upper:string(str)\"",
            "export \"demo.text@1.0.0/checksum:u64(bytes)\""
        ]
        .contains(&error.field.as_str()),
        "{err}"
    );
    assert_eq!(error.contract.as_deref(), Some("demo.text"));
    assert!(error.problem.contains("polyplug_alloc"), "{err}");
    assert!(runtime.bundles().is_empty());

    // A wrong type of polyplug_alloc is refused too.
    let module = compile(&wat("text.wat").replace(
        "(func $alloc (export \"polyplug_alloc\")",
        "(func (export \"polyplug_alloc\") (param i64) (result i32) i32.const 1024)\n  (func $alloc",
    ));
    let err = runtime
        .load_bundle(text_bundle(&tmp.0, "alloc-type", &module))
        .unwrap_err();
    let LoadError::Code { error, .. } = &err else {
        panic!("expected LoadError::Code, found {err}");
    };
    assert_eq!(error.field, "export \"polyplug_alloc\"", "{err}");
}

/// Another module calls `demo.text` through `polyplug.call` (the host
/// table's typed call), with bytes both ways: a `bytes` and a `str`
/// argument copied from the caller's memory into `text.wat`'s, a `string`
/// result copied from `text.wat`'s memory into the caller's.
#[test]
fn another_module_calls_with_bytes_through_the_host() {
    let tmp = TempDir::new("bytes-caller");
    let runtime = loaded(&tmp.0);
    runtime
        .load_bundle(bundle(
            &tmp.0,
            "caller",
            "wasm-shout",
            "1.0.0",
            &[("demo.shout", "1.0.0")],
            &compile(&wat("text_caller.wat")),
            "",
        ))
        .unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let shout = guard.find("demo.shout", V1).unwrap();
    let sum = shout.typed::<extern "C" fn() -> u64>("sum_hello").unwrap();
    assert_eq!(sum.try_call().unwrap(), 532);
    let upper = shout.typed::<extern "C" fn() -> u32>("upper_abc").unwrap();
    assert_eq!(upper.try_call().unwrap(), u32::from(b'A') | (3 << 8));
}
