//! The wasm build of `plugin!`'s typed `&str` path, driven by a raw wasm
//! host (wasmi, with only the `polyplug.log` import): what the runtime
//! never sends, since its `str` arguments are `&str` already. The bytes
//! of a `str` argument that are not UTF-8 are refused before `upper` runs:
//! a log line naming the argument, then a trap. Good bytes give the
//! upper-cased text as `ptr | (len << 32)`.

#![expect(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a test: a failure is a test failure; wasm32 addresses fit in u32"
)]

use polyplug_examples::text_bundles_dir;
use wasmi::{Caller, Engine, Extern, Instance, Linker, Memory, Module, Store};

const UPPER: &str = "demo.text@1.0.0/upper:string(str)";

/// The text-wasm module, instantiated and initialised; the store keeps
/// the lines it logged.
fn instance() -> (Store<Vec<String>>, Instance, Memory) {
    let wasm = std::fs::read(text_bundles_dir().join("text-wasm").join("text_wasm.wasm")).unwrap();
    let engine = Engine::default();
    let module = Module::new(&engine, &wasm).unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let mut linker = Linker::<Vec<String>>::new(&engine);
    linker
        .func_wrap(
            "polyplug",
            "log",
            |mut caller: Caller<'_, Vec<String>>, _level: i32, ptr: i32, len: i32| {
                let memory = caller
                    .get_export("memory")
                    .and_then(Extern::into_memory)
                    .unwrap();
                let mut bytes = vec![0; len as usize];
                memory.read(&caller, ptr as usize, &mut bytes).unwrap();
                let line = String::from_utf8_lossy(&bytes).into_owned();
                caller.data_mut().push(line);
            },
        )
        .unwrap();
    let instance = linker.instantiate_and_start(&mut store, &module).unwrap();
    let init = instance
        .get_typed_func::<(), i32>(&store, "polyplug_init")
        .unwrap();
    assert_eq!(init.call(&mut store, ()).unwrap(), 0);
    let memory = instance.get_memory(&store, "memory").unwrap();
    (store, instance, memory)
}

/// `upper` of `bytes`, copied in through `polyplug_alloc` as the loader
/// does: the result's bytes, or the trap.
fn upper(
    store: &mut Store<Vec<String>>,
    instance: &Instance,
    memory: &Memory,
    bytes: &[u8],
) -> Result<Vec<u8>, wasmi::Error> {
    let alloc = instance
        .get_typed_func::<(i32, i32), i32>(&*store, "polyplug_alloc")
        .unwrap();
    let ptr = alloc.call(&mut *store, (bytes.len() as i32, 1)).unwrap();
    memory.write(&mut *store, ptr as usize, bytes).unwrap();
    let upper = instance
        .get_typed_func::<(i32, i32), i64>(&*store, UPPER)
        .unwrap();
    let packed = upper.call(&mut *store, (ptr, bytes.len() as i32))? as u64;
    let (at, len) = ((packed & 0xFFFF_FFFF) as usize, (packed >> 32) as usize);
    let mut out = vec![0; len];
    memory.read(&*store, at, &mut out).unwrap();
    Ok(out)
}

#[test]
fn a_str_argument_crosses_as_ptr_and_len_and_the_string_comes_back_packed() {
    let (mut store, instance, memory) = instance();
    let out = upper(&mut store, &instance, &memory, "straße".as_bytes()).unwrap();
    assert_eq!(out, "STRASSE".as_bytes());
    assert!(store.data().is_empty(), "{:?}", store.data());
}

#[test]
fn a_str_argument_that_is_not_utf8_is_refused_with_a_log_line_and_a_trap() {
    let (mut store, instance, memory) = instance();
    let trap = upper(&mut store, &instance, &memory, &[b'a', 0xFF, 0xFE]);
    assert!(trap.is_err(), "{trap:?}");
    let logged = store.data().join("\n");
    assert!(
        logged.contains("demo.text/upper: argument `text` refused, a str view that is not UTF-8"),
        "{logged}"
    );
}
