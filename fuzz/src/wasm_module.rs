//! Arbitrary bytes as a WebAssembly module, loaded through polyplug's wasm
//! loader in a scratch runtime, and every typed function it declares called
//! with arbitrary arguments under a small budget.
//!
//! Properties:
//!
//! - nothing panics: not the loader on any bytes, not a call on any
//!   arguments, not a guest that traps, loops or grows memory;
//! - a refused module leaves the runtime empty, and every engine object
//!   it made is dropped;
//! - a call either answers or fails with `ERR_TRAP`, `ERR_BUDGET` or
//!   `ERR_INTERNAL`, naming the contract and function called;
//! - a stateful contract's instance is handed over after a reload of the
//!   same module ([`Instance::upgrade`]): it either moves to the new load,
//!   or fails with a [`HandoverError`] that names the contract and says
//!   the module offers no handover or which step (save or restore)
//!   failed, and then keeps serving the old load's code; either way it is
//!   called again, with the same properties as before. A reload that
//!   fails (the module's init may now see its own contracts) leaves the
//!   runtime as it was, and the instance has nothing to move to;
//! - after the unload and a drain, no module, wasm instance or load is
//!   left alive.
//!
//! The manifest declares the contracts the runtime reports undeclared, one
//! more per attempt (at most [`MAX_CONTRACTS`]), so a module that exports
//! contracts reaches registration. Typed functions of up to two arguments
//! are called (each of the six types the wasm loader carries, in any
//! order, and any return type); those with more arguments are skipped.
//! Stateful contracts get one instance, called the same way.
//!
//! This target writes its scratch bundle (`manifest.toml`, `module.wasm`)
//! to a directory of the temporary directory per process: the runtime
//! loads bundles from directories.
//!
//! ```
//! use polyplug_fuzz::wasm_module::{WasmInput, check};
//!
//! // (module (func (export "demo.answer@1.0.0/answer:u32(u32)") (param i32) (result i32) local.get 0))
//! let module = vec![
//!     0x00, b'a', b's', b'm', 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01,
//!     0x7f, 0x03, 0x02, 0x01, 0x00, 0x07, 0x25, 0x01, 0x21, b'd', b'e', b'm', b'o', b'.', b'a',
//!     b'n', b's', b'w', b'e', b'r', b'@', b'1', b'.', b'0', b'.', b'0', b'/', b'a', b'n', b's',
//!     b'w', b'e', b'r', b':', b'u', b'3', b'2', b'(', b'u', b'3', b'2', b')', 0x00, 0x00, 0x0a,
//!     0x06, 0x01, 0x04, 0x00, 0x20, 0x00, 0x0b,
//! ];
//! assert_eq!(check(&WasmInput { args: [7; 6], module }).calls, 1);
//! check(&WasmInput { args: [0; 6], module: b"\0asm garbage".to_vec() });
//! ```

use std::path::PathBuf;
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use polyplug::{
    CallError, ContractRef, FindError, HandoverError, HandoverStep, Instance, LoadError, Runtime,
    Version,
};
use polyplug_abi::{ERR_BUDGET, ERR_INTERNAL, ERR_TRAP};
use polyplug_wasm::{Budget, WasmConfig, WasmLoader};

/// Contracts the manifest declares at most.
pub const MAX_CONTRACTS: usize = 4;

/// What libFuzzer's bytes decode to: arguments first (48 bytes), then the
/// rest of the input, byte for byte, as the module.
#[derive(Debug, Clone)]
pub struct WasmInput {
    /// The raw bits of the arguments; the first `n` are passed to an
    /// `n`-argument function, each cut to its type.
    pub args: [u64; 6],
    /// The module's bytes.
    pub module: Vec<u8>,
}

impl<'a> Arbitrary<'a> for WasmInput {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<WasmInput> {
        Ok(WasmInput {
            args: u.arbitrary()?,
            module: u.arbitrary()?,
        })
    }

    fn arbitrary_take_rest(mut u: Unstructured<'a>) -> arbitrary::Result<WasmInput> {
        let args = u.arbitrary()?;
        Ok(WasmInput {
            args,
            module: u.take_rest().to_vec(),
        })
    }
}

/// What one input did, for tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Whether the module loaded.
    pub loaded: bool,
    /// Typed calls made.
    pub calls: usize,
    /// Calls that failed (trap, budget).
    pub failed: usize,
    /// Instances handed over to the reloaded module.
    pub upgraded: usize,
    /// Handovers that failed at save or restore, and left the instance
    /// serving.
    pub handover_failed: usize,
}

/// The budget: small, so that a guest that loops or grows memory stops
/// fast (100,000 fuel is what a Rust module's start and `polyplug_init`
/// need, with room to spare).
const BUDGET: Budget = Budget {
    memory_pages: 32,
    fuel: 100_000,
    recursion_depth: 64,
    table_elements: 1_000,
    instances: 8,
};

/// The scratch bundle directory of this process.
fn scratch() -> PathBuf {
    std::env::temp_dir().join(format!("polyplug-fuzz-wasm-{}", std::process::id()))
}

/// Writes the bundle with `provides` declared.
fn write_bundle(dir: &std::path::Path, module: &[u8], provides: &[(String, Version)]) {
    let mut manifest = format!(
        "[bundle]\nname = \"fuzzed\"\nversion = \"1.0.0\"\nloader = \"wasm\"\n\n[library]\n{} = \"module.wasm\"\n",
        polyplug_loader::platform_key()
    );
    for (name, version) in provides {
        manifest.push_str(&format!(
            "\n[[provides]]\nname = \"{name}\"\nversion = \"{version}\"\n"
        ));
    }
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(dir.join("module.wasm"), module))
        .and_then(|()| std::fs::write(dir.join("manifest.toml"), manifest));
    if let Err(e) = written {
        panic!("writing the scratch bundle {}: {e}", dir.display());
    }
}

/// Asserts a failed call is one a guest may cause, and names its function.
fn check_error(error: &CallError, contract: &str, function: &str) {
    assert!(
        [ERR_TRAP, ERR_BUDGET, ERR_INTERNAL].contains(&error.code),
        "{contract}/{function}: unexpected code {}: {error}",
        error.code
    );
    assert_eq!(error.contract, contract, "{error}");
    assert_eq!(error.function, function, "{error}");
}

/// Asserts a failed handover of `contract` failed at save or restore, as a
/// guest may make it fail, and names the contract.
fn check_handover(error: &HandoverError, contract: &str) {
    match error {
        HandoverError::NotSupported { contract: c, .. } => {
            assert_eq!(c, contract, "{error}");
        }
        HandoverError::Failed {
            contract: c,
            step,
            source,
            ..
        } => {
            assert_eq!(c, contract, "{error}");
            assert!(
                matches!(step, HandoverStep::Save | HandoverStep::Restore),
                "{error}"
            );
            assert_eq!(source.contract, contract, "{error}");
        }
        HandoverError::NotFound { .. } => {
            panic!("{contract} was reloaded, and its handover found nothing: {error}")
        }
    }
}

/// Calls every function of `functions` on `instance`, counting into
/// `outcome`.
fn call_instance(
    instance: &mut Instance,
    contract: &str,
    functions: &[(String, String)],
    args: &[u64; 6],
    outcome: &mut Outcome,
) {
    for (function, sig) in functions {
        if let Some(result) = call(Target::Instance(instance), function, sig, args) {
            outcome.calls += 1;
            if let Err(error) = result {
                outcome.failed += 1;
                check_error(&error, contract, function);
            }
        }
    }
}

/// Bits cut to a type.
trait FromBits: Copy {
    fn cut(bits: u64) -> Self;
}

macro_rules! from_bits {
    ($($t:ty => |$b:ident| $e:expr),* $(,)?) => {
        $(impl FromBits for $t {
            fn cut($b: u64) -> Self {
                $e
            }
        })*
    };
}

/// The low 32 bits.
fn low(bits: u64) -> u32 {
    let [a, b, c, d, ..] = bits.to_le_bytes();
    u32::from_le_bytes([a, b, c, d])
}

from_bits!(
    u32 => |b| low(b),
    i32 => |b| low(b).cast_signed(),
    u64 => |b| b,
    i64 => |b| b.cast_signed(),
    f32 => |b| f32::from_bits(low(b)),
    f64 => |b| f64::from_bits(b),
);

/// Where a typed function is called: the contract (stateless) or an
/// instance of it.
enum Target<'c, 'g> {
    Contract(&'c ContractRef<'g>),
    Instance(&'c mut Instance),
}

/// Calls function `name` of `target` as `extern "C" fn(args..) -> ret`
/// with the first arguments of `args`; `None` when that is not its type.
macro_rules! call_as {
    (@go $target:expr, $name:expr, ($($a:ty),*) -> $r:ty, ($($v:expr),*)) => {
        match $target {
            Target::Contract(contract) => contract
                .typed::<extern "C" fn($($a),*) -> $r>($name)
                .ok()
                .map(|f| f.try_call($($v),*).map(drop)),
            Target::Instance(instance) => match instance.typed::<extern "C" fn($($a),*) -> $r>($name) {
                Ok(mut f) => Some(f.call($($v),*).map(drop)),
                Err(_) => None,
            },
        }
    };
    ($target:expr, $name:expr, $args:expr, () -> $r:ty) => {
        call_as!(@go $target, $name, () -> $r, ())
    };
    ($target:expr, $name:expr, $args:expr, ($a:ty) -> $r:ty) => {
        call_as!(@go $target, $name, ($a) -> $r, (<$a as FromBits>::cut($args[0])))
    };
    ($target:expr, $name:expr, $args:expr, ($a:ty, $b:ty) -> $r:ty) => {
        call_as!(@go $target, $name, ($a, $b) -> $r,
            (<$a as FromBits>::cut($args[0]), <$b as FromBits>::cut($args[1])))
    };
}

/// Calls with the return type `sig` names, for one argument list.
macro_rules! each_ret {
    ($target:expr, $name:expr, $args:expr, $sig:expr, ($($a:ident),*)) => {{
        let args: &[&str] = &[$(stringify!($a)),*];
        let ret = $sig.strip_suffix(&format!("({})", args.join(","))).unwrap_or("");
        match ret {
            "void" => call_as!($target, $name, $args, ($($a),*) -> ()),
            "u32" => call_as!($target, $name, $args, ($($a),*) -> u32),
            "i32" => call_as!($target, $name, $args, ($($a),*) -> i32),
            "u64" => call_as!($target, $name, $args, ($($a),*) -> u64),
            "i64" => call_as!($target, $name, $args, ($($a),*) -> i64),
            "f32" => call_as!($target, $name, $args, ($($a),*) -> f32),
            "f64" => call_as!($target, $name, $args, ($($a),*) -> f64),
            _ => None,
        }
    }};
}

/// The argument types of `sig`, `ret(a,b)`.
fn arg_types(sig: &str) -> Option<Vec<&str>> {
    let list = sig.split_once('(')?.1.strip_suffix(')')?;
    Some(if list.is_empty() {
        Vec::new()
    } else {
        list.split(',').collect()
    })
}

/// Calls `name` of `target`, whose registered signature is `sig`, with
/// `args`: `None` when its shape is not one this target calls.
fn call(
    target: Target<'_, '_>,
    name: &str,
    sig: &str,
    args: &[u64; 6],
) -> Option<Result<(), CallError>> {
    let types = arg_types(sig)?;
    macro_rules! second {
        ($first:ident; $($t:ident),*) => {{
            $(if types[1] == stringify!($t) {
                return each_ret!(target, name, args, sig, ($first, $t));
            })*
            None
        }};
    }
    macro_rules! by_first {
        (one; $($t:ident),*) => {{
            $(if types[0] == stringify!($t) {
                return each_ret!(target, name, args, sig, ($t));
            })*
            None
        }};
        (two; $($t:ident),*) => {{
            $(if types[0] == stringify!($t) {
                return second!($t; u32, i32, u64, i64, f32, f64);
            })*
            None
        }};
    }
    match types.len() {
        0 => each_ret!(target, name, args, sig, ()),
        1 => by_first!(one; u32, i32, u64, i64, f32, f64),
        2 => by_first!(two; u32, i32, u64, i64, f32, f64),
        _ => None,
    }
}

/// The stack each input runs on. wasmi's instruction handlers continue
/// into one another by sibling calls; in an instrumented build
/// (AddressSanitizer, as cargo-fuzz builds) those stay real calls, one
/// native frame per executed instruction, so a guest that loops until its
/// fuel runs out needs a deep stack. Only the pages touched are used.
const STACK_BYTES: usize = 1 << 30;

/// Loads `input.module` in a scratch runtime, calls what it declares, and
/// checks the properties above, on a thread with a [`STACK_BYTES`] stack.
/// A failed property panics here, as it did there.
pub fn check(input: &WasmInput) -> Outcome {
    let joined = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("wasm_module".to_owned())
            .stack_size(STACK_BYTES)
            .spawn_scoped(s, || check_here(input))
            .map(std::thread::ScopedJoinHandle::join)
    });
    match joined {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(e) => panic!("spawning the checking thread: {e}"),
    }
}

fn check_here(input: &WasmInput) -> Outcome {
    let dir = scratch();
    let loader = WasmLoader::new(WasmConfig::default().defaults(BUDGET).ceiling(BUDGET));
    let stats = loader.stats_handle();
    let runtime = match Runtime::builder().loader(loader).build() {
        Ok(runtime) => runtime,
        Err(e) => panic!("a scratch runtime: {e}"),
    };
    let mut outcome = Outcome::default();
    let mut provides: Vec<(String, Version)> = Vec::new();
    let loaded = loop {
        write_bundle(&dir, &input.module, &provides);
        match runtime.load_bundle(&dir) {
            Ok(id) => break Some(id),
            Err(LoadError::Undeclared {
                contract, version, ..
            }) if provides.len() < MAX_CONTRACTS
                && polyplug_loader::ContractName::parse(&contract).is_ok() =>
            {
                provides.push((contract, version));
            }
            Err(_) => break None,
        }
    };
    if let Some(id) = loaded {
        outcome.loaded = true;
        let reader = runtime.reader();
        let contracts = runtime
            .bundles()
            .into_iter()
            .flat_map(|b| b.contracts)
            .collect::<Vec<_>>();
        // The instances of stateful contracts, kept for the handover.
        let mut kept: Vec<(String, Vec<(String, String)>, Instance)> = Vec::new();
        for (name, version) in contracts {
            let guard = reader.pin();
            let contract = match guard.find(&name, version) {
                Ok(contract) => contract,
                Err(e @ FindError::NotFound { .. }) => panic!("{name} {version} is loaded: {e}"),
                Err(e) => panic!("{name} {version}: {e}"),
            };
            let functions: Vec<(String, String)> = contract
                .typed_signatures()
                .map(|(f, s)| (f.to_owned(), s.to_owned()))
                .collect();
            let instance = if contract.is_stateful() {
                contract.create_instance().ok()
            } else {
                None
            };
            for (function, sig) in &functions {
                if let Some(result) = call(Target::Contract(&contract), function, sig, &input.args)
                {
                    outcome.calls += 1;
                    if let Err(error) = result {
                        outcome.failed += 1;
                        check_error(&error, &name, function);
                    }
                }
            }
            if let Some(mut instance) = instance {
                call_instance(&mut instance, &name, &functions, &input.args, &mut outcome);
                kept.push((name, functions, instance));
            }
        }
        if !kept.is_empty() {
            // The same module again. Its init may now see its own contracts
            // through the host imports, and refuse: then the old load
            // serves on, and there is nothing to hand over to.
            let before = runtime.bundles();
            let reloaded = runtime.reload_bundle(id, None).is_ok();
            if !reloaded {
                assert_eq!(
                    runtime.bundles(),
                    before,
                    "a failed reload changed the runtime"
                );
            }
            for (name, functions, mut instance) in kept {
                match instance.upgrade(&reader.pin()) {
                    Ok(true) if reloaded => outcome.upgraded += 1,
                    Ok(false) if !reloaded => {}
                    Ok(moved) => panic!(
                        "{name}: upgrade said {moved} after a reload that {}",
                        if reloaded { "succeeded" } else { "failed" }
                    ),
                    Err(error) => {
                        assert!(
                            reloaded,
                            "{name}: a handover with nothing new failed: {error}"
                        );
                        outcome.handover_failed += 1;
                        check_handover(&error, &name);
                    }
                }
                call_instance(&mut instance, &name, &functions, &input.args, &mut outcome);
            }
        }
        if let Err(e) = runtime.unload_bundle(id) {
            panic!("unloading the fuzzed bundle: {e}");
        }
    } else {
        assert!(
            runtime.bundles().is_empty(),
            "a refused module left a bundle"
        );
    }
    if let Err(e) = runtime.drain(Duration::from_secs(10)) {
        panic!("draining: {e}");
    }
    let s = stats.get();
    assert_eq!(
        (s.modules_alive(), s.instances_alive()),
        (0, 0),
        "engine objects left alive: {s:?}"
    );
    assert_eq!(runtime.code_stats().alive(), 0, "a load left alive");
    outcome
}
