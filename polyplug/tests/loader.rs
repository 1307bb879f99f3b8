//! The loader seam, engine-agnostic: a bundle of kind `lua` run by a test
//! loader whose "engine" is Rust code, driven by the words of the bundle's
//! code file. It gets what a native bundle gets: the same registration
//! checks, publish, reload that keeps handles, a failed reload that leaves
//! the old version serving, unload with stale handles, and its engine
//! objects released on the writer side (counted in `code_stats`).
#![cfg(not(any(loom, shuttle, miri)))]
#![expect(
    clippy::unwrap_used,
    reason = "test support: a failed step fails the test"
)]

#[expect(dead_code, reason = "this file needs only some of the shared helpers")]
mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::{TempDir, V1, drain};
use polyplug::loader::{
    CodeError, CodeSource, Contracts, EngineContract, EngineFn, EngineInstance, EngineInstances,
    Fault, LoadedCode, Loader, PackedFn, Registrar, Value, WordFn,
};
use polyplug::{Bytes, FindError, HostContract, LoadError, Runtime, Str, Version};

/// Engine objects alive, made and dropped, across every test's loader.
#[derive(Debug, Default)]
struct Objects {
    made: AtomicU64,
    dropped: AtomicU64,
    /// What the last load's registrar lent the engine.
    contracts: Mutex<Option<Contracts>>,
}

/// One engine object: the test loader's "module".
#[derive(Debug)]
struct Module {
    objects: Arc<Objects>,
}

impl LoadedCode for Module {}

impl Drop for Module {
    fn drop(&mut self) {
        // Relaxed: counters read after the runtime's drain.
        self.objects.dropped.fetch_add(1, Ordering::Relaxed);
    }
}

struct Answer(u32);

impl EngineFn for Answer {
    fn call(
        &self,
        _: Option<&mut EngineInstance>,
        args: &[Value<'_>],
    ) -> Result<Value<'static>, Fault> {
        match args {
            [] => Ok(Value::U32(self.0)),
            _ => Err(Fault::new(polyplug_abi::ERR_BAD_ARGUMENT, "no arguments")),
        }
    }
}

/// An engine function that returns an `i32` whatever its signature says.
struct Wrong;

impl EngineFn for Wrong {
    fn call(
        &self,
        _: Option<&mut EngineInstance>,
        _: &[Value<'_>],
    ) -> Result<Value<'static>, Fault> {
        Ok(Value::I32(-1))
    }
}

struct Add;

impl EngineFn for Add {
    fn call(
        &self,
        _: Option<&mut EngineInstance>,
        args: &[Value<'_>],
    ) -> Result<Value<'static>, Fault> {
        match args {
            [Value::U32(a), Value::U64(b)] => Ok(Value::U64(u64::from(*a) + b)),
            _ => Err(Fault::new(
                polyplug_abi::ERR_BAD_ARGUMENT,
                "expected u32, u64",
            )),
        }
    }
}

struct Trap;

impl EngineFn for Trap {
    fn call(
        &self,
        _: Option<&mut EngineInstance>,
        _: &[Value<'_>],
    ) -> Result<Value<'static>, Fault> {
        Err(Fault::new(
            polyplug_abi::ERR_TRAP,
            "bundle reload-test: reload.test.trap: trapped on purpose",
        ))
    }
}

struct Bump;

impl EngineFn for Bump {
    fn call(
        &self,
        instance: Option<&mut EngineInstance>,
        _: &[Value<'_>],
    ) -> Result<Value<'static>, Fault> {
        let count = instance
            .and_then(|i| i.downcast_mut::<u32>())
            .ok_or_else(|| Fault::new(polyplug_abi::ERR_BAD_ARGUMENT, "needs an instance"))?;
        *count += 1;
        Ok(Value::U32(*count))
    }
}

/// `upper: string(str)`, `sum: u64(bytes)`, `reverse: buf(bytes)`.
struct Text;

impl EngineFn for Text {
    fn call(
        &self,
        _: Option<&mut EngineInstance>,
        args: &[Value<'_>],
    ) -> Result<Value<'static>, Fault> {
        match args {
            [Value::Str(text)] => Ok(Value::String(text.to_uppercase())),
            [Value::Bytes(bytes), Value::U32(0)] => {
                Ok(Value::U64(bytes.iter().map(|b| u64::from(*b)).sum()))
            }
            [Value::Bytes(bytes), Value::U32(1)] => {
                Ok(Value::Buf(bytes.iter().rev().copied().collect()))
            }
            _ => Err(Fault::new(
                polyplug_abi::ERR_BAD_ARGUMENT,
                "unexpected arguments",
            )),
        }
    }
}

/// A word function ([`WordFn`]): the wrapping sum of its argument words,
/// or its first word alone.
struct WordSum {
    first_only: bool,
}

impl WordFn for WordSum {
    fn call(&self, _: Option<&mut EngineInstance>, args: &[u64]) -> Result<u64, Fault> {
        if self.first_only {
            return args
                .first()
                .copied()
                .ok_or_else(|| Fault::new(polyplug_abi::ERR_BAD_ARGUMENT, "no argument"));
        }
        Ok(args.iter().fold(0u64, |sum, w| sum.wrapping_add(*w)))
    }
}

/// A packed function ([`PackedFn`]) of three numbers at offsets 0, 8 and
/// 16: `b - 10 a + c`, or a fault when `c` is 0.
struct Mix;

impl PackedFn for Mix {
    type Args = (i32, i64, i32);
    type Ret = i64;

    fn call(
        &self,
        _: Option<&mut EngineInstance>,
        (a, b, c): (i32, i64, i32),
    ) -> Result<i64, Fault> {
        if c == 0 {
            return Err(Fault::new(polyplug_abi::ERR_TRAP, "c is zero"));
        }
        Ok(b - 10 * i64::from(a) + i64::from(c))
    }
}

/// A packed function of floats: `x * y`.
struct Scale;

impl PackedFn for Scale {
    type Args = (f64, f32);
    type Ret = f64;

    fn call(&self, _: Option<&mut EngineInstance>, (x, y): (f64, f32)) -> Result<f64, Fault> {
        Ok(x * f64::from(y))
    }
}

struct Counters;

impl EngineInstances for Counters {
    fn create(&self) -> Result<EngineInstance, Fault> {
        Ok(Box::new(0u32))
    }
}

/// Registers what the code file's words say: `answer N` (a stateful
/// `reload.test` whose typed `version` answers N), `undeclared`, `fail`.
struct Words {
    objects: Arc<Objects>,
}

impl Loader for Words {
    fn kind(&self) -> &'static str {
        "lua"
    }

    fn load(
        &self,
        code: &CodeSource<'_>,
        registrar: &mut Registrar<'_>,
    ) -> Result<Box<dyn LoadedCode>, CodeError> {
        let text = String::from_utf8_lossy(code.bytes()).into_owned();
        let words: Vec<&str> = text.split_whitespace().collect();
        // Relaxed: counters read after the runtime's drain.
        self.objects.made.fetch_add(1, Ordering::Relaxed);
        let module = Module {
            objects: Arc::clone(&self.objects),
        };
        match words.as_slice() {
            ["answer", n] => {
                let n: u32 = n.parse().unwrap();
                let contract = EngineContract::new("reload.test", Version::new(1, n / 100, 0))
                    .function("version", "u32()", Arc::new(Answer(n)))
                    .function("add", "u64(u32,u64)", Arc::new(Add))
                    .function("trap", "u32()", Arc::new(Trap))
                    .function("wrong", "u32()", Arc::new(Wrong))
                    .function("wrong3", "u32(u32,u32,u32)", Arc::new(Wrong))
                    .function("bump", "u32()", Arc::new(Bump))
                    .function("upper", "string(str)", Arc::new(Text))
                    .function("sum", "u64(bytes,u32)", Arc::new(Text))
                    .function("reverse", "buf(bytes,u32)", Arc::new(Text))
                    .stateful(Arc::new(Counters));
                *self.objects.contracts.lock().unwrap() = Some(registrar.contracts());
                registrar
                    .register(contract)
                    .map_err(|r| r.into_code_error())?;
            }
            ["words"] => {
                let sum = || Arc::new(WordSum { first_only: false });
                let first = || Arc::new(WordSum { first_only: true });
                let contract = EngineContract::new("reload.test", V1)
                    .word_function("sum", "i64(i8,u16,i32,u8,i64)", sum())
                    .word_function("none", "u32()", sum())
                    .word_function("low16", "u16(u32)", first())
                    .word_function("low8", "i8(i32)", first())
                    .word_function("float", "f64(f64,f32)", first())
                    .word_function("single", "f32(f32)", first())
                    .word_function("size", "usize(isize)", first());
                registrar
                    .register(contract)
                    .map_err(|r| r.into_code_error())?;
            }
            ["packed"] => {
                let contract = EngineContract::new("reload.test", V1)
                    .packed_function("mix", "i64(u32,i64,i32)", Arc::new(Mix))
                    .packed_function("scale", "f64(f64,f32)", Arc::new(Scale));
                registrar
                    .register(contract)
                    .map_err(|r| r.into_code_error())?;
            }
            ["bad-packed", spelling] => {
                let contract = EngineContract::new("reload.test", V1)
                    .packed_function("scale", "f64(f64,f32)", Arc::new(Scale))
                    .packed_function("narrow", *spelling, Arc::new(Mix));
                registrar
                    .register(contract)
                    .map_err(|r| r.into_code_error())?;
            }
            ["bad-words"] => {
                let contract = EngineContract::new("reload.test", V1)
                    .word_function("fine", "u32(u32)", Arc::new(WordSum { first_only: true }))
                    .word_function(
                        "upper",
                        "string(str)",
                        Arc::new(WordSum { first_only: true }),
                    );
                registrar
                    .register(contract)
                    .map_err(|r| r.into_code_error())?;
            }
            ["undeclared"] => {
                let contract = EngineContract::new("other.thing", V1).function(
                    "version",
                    "u32()",
                    Arc::new(Answer(1)),
                );
                registrar
                    .register(contract)
                    .map_err(|r| r.into_code_error())?;
            }
            _ => {
                return Err(CodeError::new(
                    code.path(),
                    "words",
                    format!("expected `answer N`, found {text:?}"),
                )
                .in_contract("reload.test"));
            }
        }
        Ok(Box::new(module))
    }
}

/// A `lua` bundle `reload-test` in `dir/<label>` whose code file holds
/// `words` and whose manifest provides `reload.test` at `version`.
fn bundle(dir: &Path, label: &str, words: &str, version: &str) -> PathBuf {
    let path = dir.join(label);
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("code.lua"), words).unwrap();
    std::fs::write(
        path.join("manifest.toml"),
        format!(
            "[bundle]\nname = \"reload-test\"\nversion = \"{version}\"\nloader = \"lua\"\n\
             [library]\n{} = \"code.lua\"\n\
             [[provides]]\nname = \"reload.test\"\nversion = \"{version}\"\n",
            polyplug_loader::platform_key()
        ),
    )
    .unwrap();
    path
}

fn runtime(objects: &Arc<Objects>) -> Runtime {
    Runtime::builder()
        .loader(Words {
            objects: Arc::clone(objects),
        })
        .build()
        .unwrap()
}

fn answer(runtime: &Runtime) -> u32 {
    let reader = runtime.reader();
    let guard = reader.pin();
    let contract = guard.find("reload.test", V1).unwrap();
    contract
        .typed::<extern "C" fn() -> u32>("version")
        .unwrap()
        .call()
}

#[test]
fn an_engine_bundle_loads_and_its_typed_functions_are_called_and_bound() {
    let tmp = TempDir::new("seam-load");
    let objects = Arc::new(Objects::default());
    let runtime = runtime(&objects);
    runtime
        .load_bundle(bundle(tmp.path(), "v1", "answer 100", "1.1.0"))
        .unwrap();
    assert_eq!(answer(&runtime), 100);
    let reader = runtime.reader();
    let guard = reader.pin();
    let contract = guard.find("reload.test", V1).unwrap();
    let add = contract
        .typed::<extern "C" fn(u32, u64) -> u64>("add")
        .unwrap();
    assert_eq!(add.call(2, 40), 42);
    assert_eq!(add.try_call(1, u64::MAX - 1).unwrap(), u64::MAX);
    // The signature is checked as for a native typed function.
    assert!(matches!(
        contract.typed::<extern "C" fn(u32, u32) -> u64>("add"),
        Err(FindError::SignatureMismatch { .. })
    ));
    // A failing engine function: `call` gives zero, `try_call` the error.
    let trap = contract.typed::<extern "C" fn() -> u32>("trap").unwrap();
    assert_eq!(trap.call(), 0);
    let err = trap.try_call().unwrap_err();
    assert_eq!(
        (err.code, err.contract.as_str(), err.function.as_str()),
        (polyplug_abi::ERR_TRAP, "reload.test", "trap")
    );
    assert!(err.message.as_str().contains("trapped on purpose"), "{err}");
    // A result of another type than the signature's is an error, whether
    // the shape has a trampoline of its own (`u32()`) or not.
    let wrong = contract.typed::<extern "C" fn() -> u32>("wrong").unwrap();
    let wrong3 = contract
        .typed::<extern "C" fn(u32, u32, u32) -> u32>("wrong3")
        .unwrap();
    for err in [
        wrong.try_call().unwrap_err(),
        wrong3.try_call(1, 2, 3).unwrap_err(),
    ] {
        assert_eq!(err.code, polyplug_abi::ERR_INTERNAL, "{err}");
        assert!(err.message.as_str().contains("returned \"i32\""), "{err}");
    }
    let bound = contract.bind::<extern "C" fn() -> u32>("version").unwrap();
    assert_eq!(guard.bound(&bound).unwrap().call(), 100);
    // A stateful contract: each instance has its own state.
    let mut one = contract.create_instance().unwrap();
    let mut two = contract.create_instance().unwrap();
    for expected in 1..=3 {
        let got = one
            .typed::<extern "C" fn() -> u32>("bump")
            .unwrap()
            .call()
            .unwrap();
        assert_eq!(got, expected);
    }
    let got = two
        .typed::<extern "C" fn() -> u32>("bump")
        .unwrap()
        .call()
        .unwrap();
    assert_eq!(got, 1);
    // Without an instance, the stateful function fails, naming why.
    let stateless = contract.typed::<extern "C" fn() -> u32>("bump").unwrap();
    assert!(
        stateless
            .try_call()
            .unwrap_err()
            .message
            .as_str()
            .contains("needs an instance")
    );
    assert_eq!(runtime.code_stats().loaded, 1);
}

#[test]
fn reload_keeps_handles_a_failed_reload_leaves_v1_and_unload_makes_them_stale() {
    let tmp = TempDir::new("seam-reload");
    let objects = Arc::new(Objects::default());
    let runtime = runtime(&objects);
    let (v1, v2) = (
        bundle(tmp.path(), "v1", "answer 100", "1.1.0"),
        bundle(tmp.path(), "v2", "answer 200", "1.2.0"),
    );
    let id = runtime.load_bundle(&v1).unwrap();
    let reader = runtime.reader();
    let handle = reader.pin().find("reload.test", V1).unwrap().handle();
    let binding = reader
        .pin()
        .find("reload.test", V1)
        .unwrap()
        .bind::<extern "C" fn() -> u32>("version")
        .unwrap();
    // An anchored binding of an engine function: the cache serves it
    // after the first check, until the reload replaces the entry.
    let anchored = reader
        .anchor(
            reader
                .pin()
                .find("reload.test", V1)
                .unwrap()
                .bind::<extern "C" fn() -> u32>("version")
                .unwrap(),
        )
        .unwrap();
    for _ in 0..2 {
        assert_eq!(reader.pin().bound_at(&anchored).unwrap().call(), 100);
    }
    let mut v1_instance = reader
        .pin()
        .find("reload.test", V1)
        .unwrap()
        .create_instance()
        .unwrap();
    // Held under one guard across the reload: the next call follows it.
    let batch = reader.pin();
    let held = batch.hold(&anchored).unwrap();
    assert_eq!(held.get().unwrap().call(), 100);
    runtime.reload_bundle(id, Some(&v2)).unwrap();
    for _ in 0..2 {
        assert_eq!(held.get().unwrap().call(), 200);
    }
    drop(batch);
    {
        let guard = reader.pin();
        let contract = guard.get(handle).unwrap();
        assert_eq!(contract.version(), Version::new(1, 2, 0));
        assert_eq!(guard.bound(&binding).unwrap().call(), 200);
        for _ in 0..2 {
            assert_eq!(guard.bound_at(&anchored).unwrap().call(), 200);
        }
    }
    // The instance keeps v1 (its code and its state).
    let mut v1_version = v1_instance
        .typed::<extern "C" fn() -> u32>("version")
        .unwrap();
    assert_eq!(v1_version.call().unwrap(), 100);
    // Failed reloads: a loader error, an undeclared contract. v2 serves.
    let revision = runtime.revision();
    let bad = bundle(tmp.path(), "bad", "gibberish", "1.3.0");
    let err = runtime.reload_bundle(id, Some(&bad)).unwrap_err();
    let LoadError::Code {
        bundle: name,
        error,
    } = &err
    else {
        panic!("expected LoadError::Code, found {err}");
    };
    assert_eq!(name, "reload-test");
    assert_eq!(error.contract.as_deref(), Some("reload.test"));
    assert_eq!(error.field, "words");
    assert!(error.file.ends_with("bad/code.lua"), "{err}");
    let undeclared = bundle(tmp.path(), "undeclared", "undeclared", "1.3.0");
    let err = runtime.reload_bundle(id, Some(&undeclared)).unwrap_err();
    assert!(
        matches!(&err, LoadError::Undeclared { contract, .. } if contract == "other.thing"),
        "the refusal itself, as for a native plugin: {err}"
    );
    assert_eq!(runtime.revision(), revision);
    assert_eq!(answer(&runtime), 200);
    // Unload: the handle goes stale; everything is released on drain.
    drop(v1_instance);
    runtime.unload_bundle(id).unwrap();
    assert!(matches!(
        reader.pin().get(handle),
        Err(FindError::Stale { .. })
    ));
    assert!(matches!(
        reader.pin().bound(&binding),
        Err(FindError::Stale { .. })
    ));
    assert!(matches!(
        reader.pin().bound_at(&anchored),
        Err(FindError::Stale { .. })
    ));
    drain(&runtime);
    let stats = runtime.code_stats();
    // v1, v2 loaded and released; the failed loads' objects were dropped
    // by the loader or with their refused tables.
    assert_eq!((stats.loaded, stats.released, stats.alive()), (2, 2, 0));
    assert_eq!(
        objects.made.load(Ordering::Relaxed),
        objects.dropped.load(Ordering::Relaxed),
        "every engine object made was dropped"
    );
    assert_eq!(objects.made.load(Ordering::Relaxed), 4);
}

#[test]
fn a_runtime_without_the_loader_refuses_the_kind_by_name() {
    let tmp = TempDir::new("seam-unsupported");
    let runtime = Runtime::new().unwrap();
    let err = runtime
        .load_bundle(bundle(tmp.path(), "v1", "answer 100", "1.0.0"))
        .unwrap_err();
    assert!(
        matches!(&err, LoadError::UnsupportedLoader { kind, .. } if kind == "lua"),
        "{err}"
    );
    assert!(err.to_string().contains("Runtime::builder"), "{err}");
    assert!(runtime.bundles().is_empty());
}

#[test]
fn a_bundle_may_change_loader_between_reloads() {
    let tmp = TempDir::new("seam-native-to-engine");
    let objects = Arc::new(Objects::default());
    let runtime = runtime(&objects);
    let id = runtime
        .load_bundle(polyplug_fixtures::bundle("reload-v1"))
        .unwrap();
    let reader = runtime.reader();
    let handle = reader.pin().find("reload.test", V1).unwrap().handle();
    assert_eq!(answer(&runtime), 100);
    // Native v1 to engine v2: the contract keeps its handle.
    runtime
        .reload_bundle(id, Some(&bundle(tmp.path(), "v2", "answer 200", "1.2.0")))
        .unwrap();
    assert_eq!(answer(&runtime), 200);
    assert_eq!(
        reader.pin().get(handle).unwrap().version(),
        Version::new(1, 2, 0)
    );
    // And back.
    runtime
        .reload_bundle(id, Some(&polyplug_fixtures::bundle("reload-v1")))
        .unwrap();
    assert_eq!(answer(&runtime), 100);
    drain(&runtime);
    assert_eq!(runtime.code_stats().alive(), 0);
    assert_eq!(
        runtime.library_stats().opened,
        runtime.library_stats().closed + 1
    );
}

/// A view handed to an engine function through its packed form is read
/// only when it is whole: a null pointer with a length is refused before
/// the engine runs, naming the argument and the length, and the call
/// leaves its result untouched; a null pointer with no length is the
/// empty view.
#[test]
fn a_null_view_with_a_length_is_refused_before_the_engine_reads_it() {
    use polyplug_abi::{BytesView, OwnedBuf, StrView};
    /// Calls `function` packed, with `args` and room for an `O`.
    ///
    /// # Safety
    ///
    /// \[R6\] `A` and `O` lay out the arguments and result of the
    /// function's signature; its guard is pinned.
    unsafe fn packed<A, O>(
        function: &polyplug::ErasedFn<'_>,
        args: &A,
        out: &mut O,
    ) -> Result<(), polyplug::CallError> {
        // SAFETY: [R6] as this function's contract says.
        unsafe {
            function.call_packed(
                std::ptr::null_mut(),
                std::ptr::from_ref(args).cast(),
                std::ptr::from_mut(out).cast(),
            )
        }
    }
    let refused = |err: polyplug::CallError, len: usize| {
        assert_eq!(err.code, polyplug_abi::ERR_BAD_ARGUMENT, "{err}");
        assert!(
            err.message
                .as_str()
                .contains(&format!("null pointer with length {len}")),
            "{err}"
        );
    };
    let tmp = TempDir::new("loader-null-view");
    let objects = Arc::new(Objects::default());
    let runtime = runtime(&objects);
    runtime
        .load_bundle(bundle(tmp.path(), "v1", "answer 100", "1.0.0"))
        .unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let contract = guard.find("reload.test", V1).unwrap();

    // string(str): one StrView in, one OwnedBuf out.
    let upper = contract.typed_erased("upper", "string(str)").unwrap();
    let mut out = OwnedBuf {
        ptr: std::ptr::dangling_mut(),
        len: 77,
    };
    let null = StrView {
        ptr: std::ptr::null(),
        len: 5,
    };
    // SAFETY: [R6] string(str), as said above; the guard is pinned.
    let err = unsafe { packed(&upper, &null, &mut out) }.unwrap_err();
    assert_eq!(err.function, "upper", "{err}");
    refused(err, 5);
    assert_eq!(out.len, 77, "a refused call writes no result");
    let mut out = OwnedBuf::EMPTY;
    // SAFETY: [R6] as above.
    unsafe { packed(&upper, &StrView::EMPTY, &mut out) }.unwrap();
    assert_eq!(out.len, 0, "the empty view is the empty string");

    // u64(bytes,u32): a BytesView and a u32 in, one u64 out.
    #[repr(C)]
    struct SumArgs {
        bytes: BytesView,
        mode: u32,
    }
    let sum = contract.typed_erased("sum", "u64(bytes,u32)").unwrap();
    let args = SumArgs {
        bytes: BytesView {
            ptr: std::ptr::null(),
            len: 3,
        },
        mode: 0,
    };
    let mut total = 9u64;
    // SAFETY: [R6] u64(bytes,u32), as said above; the guard is pinned.
    refused(unsafe { packed(&sum, &args, &mut total) }.unwrap_err(), 3);
    assert_eq!(total, 9, "a refused call writes no result");
    // The function still answers a whole view.
    assert_eq!(
        contract
            .typed::<extern "C" fn(Bytes, u32) -> u64>("sum")
            .unwrap()
            .call(&[1, 2], 0),
        3
    );
}

/// Strings and bytes cross into an engine function as views and come back
/// owned, through a typed call, a binding and an instance; an engine's
/// `Contracts` reaches engine functions and host functions alike through
/// their packed form.
#[test]
fn strings_and_bytes_cross_typed_calls_and_engine_calls() {
    let tmp = TempDir::new("loader-text");
    let objects = Arc::new(Objects::default());
    let runtime = runtime(&objects);
    runtime
        .load_bundle(bundle(tmp.path(), "v1", "answer 100", "1.0.0"))
        .unwrap();
    extern "C" fn triple(x: u32) -> u32 {
        x * 3
    }
    runtime
        .register_host_contract(
            HostContract::new("test.host", V1).typed("triple", triple as extern "C" fn(u32) -> u32),
        )
        .unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let contract = guard.find("reload.test", V1).unwrap();
    let upper = contract
        .typed::<extern "C" fn(Str) -> String>("upper")
        .unwrap();
    assert_eq!(upper.try_call("grüße").unwrap(), "GRÜSSE");
    assert_eq!(upper.call(""), "");
    let sum = contract
        .typed::<extern "C" fn(Bytes, u32) -> u64>("sum")
        .unwrap();
    assert_eq!(sum.call(&[1, 2, 250], 0), 253);
    let reverse = contract
        .bind::<extern "C" fn(Bytes, u32) -> Vec<u8>>("reverse")
        .unwrap();
    assert_eq!(guard.bound(&reverse).unwrap().call(b"abc", 1), b"cba");
    assert!(matches!(
        contract.typed::<extern "C" fn(Str) -> Vec<u8>>("upper"),
        Err(FindError::SignatureMismatch { .. })
    ));
    let mut instance = contract.create_instance().unwrap();
    let mut upper = instance
        .typed::<extern "C" fn(Str) -> String>("upper")
        .unwrap();
    assert_eq!(upper.call("x").unwrap(), "X");
    drop(instance);

    let contracts = objects.contracts.lock().unwrap().clone().unwrap();
    let handle = contracts.find("reload.test", V1).unwrap();
    assert_eq!(
        contracts
            .call(handle, "upper", "string( str )", &[Value::Str("abc")])
            .unwrap(),
        Value::String("ABC".to_owned())
    );
    assert_eq!(
        contracts
            .call(
                handle,
                "reverse",
                "buf(bytes,u32)",
                &[Value::Bytes(&[1, 2]), Value::U32(1)]
            )
            .unwrap(),
        Value::Buf(vec![2, 1])
    );
    let host = contracts.find("test.host", V1).unwrap();
    assert_eq!(
        contracts
            .call(host, "triple", "u32(u32)", &[Value::U32(14)])
            .unwrap(),
        Value::U32(42),
        "a host function is called through its packed form"
    );
    let wrong = contracts
        .call(handle, "upper", "buf(str)", &[Value::Str("abc")])
        .unwrap_err();
    assert_eq!(wrong.code, polyplug_abi::ERR_BAD_ARGUMENT, "{wrong}");
    let missing = contracts.call(handle, "nope", "u32()", &[]).unwrap_err();
    assert_eq!(missing.code, polyplug_abi::ERR_NOT_FOUND, "{missing}");
    let bad_args = contracts
        .call(handle, "upper", "string(str)", &[Value::U32(1)])
        .unwrap_err();
    assert_eq!(bad_args.code, polyplug_abi::ERR_BAD_ARGUMENT, "{bad_args}");
}

#[test]
fn word_functions_get_each_argument_extended_and_keep_the_results_own_bytes() {
    let tmp = TempDir::new("seam-words");
    let objects = Arc::new(Objects::default());
    let runtime = runtime(&objects);
    runtime
        .load_bundle(bundle(tmp.path(), "words", "words", "1.0.0"))
        .unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let contract = guard.find("reload.test", V1).unwrap();
    // Packed at offsets 0, 2, 4, 8 and 16; signed ones sign-extended.
    let sum = contract
        .typed::<extern "C" fn(i8, u16, i32, u8, i64) -> i64>("sum")
        .unwrap();
    assert_eq!(sum.try_call(-1, 65535, -3, 255, 10).unwrap(), 65_796);
    assert_eq!(
        sum.try_call(i8::MIN, 0, i32::MIN, 0, 0).unwrap(),
        -128 + i64::from(i32::MIN)
    );
    let none = contract.typed::<extern "C" fn() -> u32>("none").unwrap();
    assert_eq!(none.try_call().unwrap(), 0);
    // A result keeps its own (low) bytes of the word.
    let low16 = contract
        .typed::<extern "C" fn(u32) -> u16>("low16")
        .unwrap();
    assert_eq!(low16.try_call(0x0001_2345).unwrap(), 0x2345);
    let low8 = contract.typed::<extern "C" fn(i32) -> i8>("low8").unwrap();
    assert_eq!(low8.try_call(-2).unwrap(), -2);
    assert_eq!(low8.try_call(0x17f).unwrap(), 0x7f);
    let float = contract
        .typed::<extern "C" fn(f64, f32) -> f64>("float")
        .unwrap();
    assert_eq!(float.try_call(-2.5, 1.0).unwrap(), -2.5);
    let single = contract
        .typed::<extern "C" fn(f32) -> f32>("single")
        .unwrap();
    assert_eq!(single.try_call(0.75).unwrap(), 0.75);
    let size = contract
        .typed::<extern "C" fn(isize) -> usize>("size")
        .unwrap();
    assert_eq!(size.try_call(-1).unwrap(), usize::MAX);
    // The same entries, called through the packed form a C host uses.
    let erased = contract
        .typed_erased("sum", "i64(i8,u16,i32,u8,i64)")
        .unwrap();
    #[repr(C)]
    struct Args {
        a: i8,
        b: u16,
        c: i32,
        d: u8,
        e: i64,
    }
    let args = Args {
        a: 2,
        b: 3,
        c: -4,
        d: 5,
        e: 6,
    };
    // SAFETY: `Args` is the signature's arguments as a C struct.
    assert_eq!(unsafe { call_packed_i64(&erased, &args) }, 12);
}

/// Calls `erased`, of an `i64` result, through the packed form a C host
/// uses, with `args`; its result.
///
/// # Safety
///
/// `A` is the C struct of `erased`'s arguments.
unsafe fn call_packed_i64<A>(erased: &polyplug::ErasedFn<'_>, args: &A) -> i64 {
    let mut out = 0i64;
    // SAFETY: as this function's contract says; `out` is room for the i64
    // result.
    let status = unsafe {
        erased.call_packed(
            std::ptr::null_mut(),
            std::ptr::from_ref(args).cast(),
            (&raw mut out).cast(),
        )
    };
    assert!(status.is_ok(), "{status:?}");
    out
}

#[test]
fn a_word_function_with_a_view_is_refused_naming_it_and_nothing_is_loaded() {
    let tmp = TempDir::new("seam-bad-words");
    let objects = Arc::new(Objects::default());
    let runtime = runtime(&objects);
    let err = runtime
        .load_bundle(bundle(tmp.path(), "bad", "bad-words", "1.0.0"))
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("function upper"), "{text}");
    assert!(text.contains("numbers only"), "{text}");
    assert!(runtime.bundles().is_empty());
    assert!(reader_finds_nothing(&runtime));
}

#[test]
fn packed_functions_read_each_argument_at_its_offset_and_fail_as_a_call_error() {
    let tmp = TempDir::new("seam-packed");
    let objects = Arc::new(Objects::default());
    let runtime = runtime(&objects);
    runtime
        .load_bundle(bundle(tmp.path(), "packed", "packed", "1.0.0"))
        .unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let contract = guard.find("reload.test", V1).unwrap();
    let mix = contract
        .typed::<extern "C" fn(u32, i64, i32) -> i64>("mix")
        .unwrap();
    // A u32's bits reach the i32 unchanged.
    assert_eq!(mix.try_call(3, 1 << 40, -5).unwrap(), (1 << 40) - 30 - 5);
    assert_eq!(mix.try_call(u32::MAX, 0, 1).unwrap(), 10 + 1);
    let failed = mix.try_call(1, 2, 0).unwrap_err();
    assert_eq!(failed.code, polyplug_abi::ERR_TRAP, "{failed}");
    assert!(failed.to_string().contains("c is zero"), "{failed}");
    let scale = contract
        .typed::<extern "C" fn(f64, f32) -> f64>("scale")
        .unwrap();
    assert_eq!(scale.try_call(1.5, -2.0).unwrap(), -3.0);
    // The same entry, called through the packed form a C host uses.
    let erased = contract.typed_erased("mix", "i64(u32,i64,i32)").unwrap();
    #[repr(C)]
    struct Args {
        a: u32,
        b: i64,
        c: i32,
    }
    let args = Args { a: 1, b: 100, c: 2 };
    // SAFETY: `Args` is the signature's arguments as a C struct.
    assert_eq!(unsafe { call_packed_i64(&erased, &args) }, 92);
}

#[test]
fn a_packed_function_of_other_types_is_refused_naming_it_and_nothing_is_loaded() {
    let tmp = TempDir::new("seam-bad-packed");
    let objects = Arc::new(Objects::default());
    let runtime = runtime(&objects);
    // A u8 is not an i32's bits; an i64 where the function takes an i32;
    // one argument short.
    for (label, spelling) in [
        ("narrow", "i64(u8,i64,i32)"),
        ("wide", "i64(u64,i64,i32)"),
        ("short", "i64(u32,i64)"),
        ("result", "u32(u32,i64,i32)"),
    ] {
        let words = format!("bad-packed {spelling}");
        let err = runtime
            .load_bundle(bundle(tmp.path(), label, &words, "1.0.0"))
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("function narrow"), "{text}");
        assert!(text.contains("packed function"), "{text}");
        assert!(runtime.bundles().is_empty());
        assert!(reader_finds_nothing(&runtime));
    }
}

fn reader_finds_nothing(runtime: &Runtime) -> bool {
    let reader = runtime.reader();
    let guard = reader.pin();
    guard.find("reload.test", V1).is_err()
}
