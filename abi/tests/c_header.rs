//! The committed C header against a real C and C++ compiler.
//!
//! `tests/c/layout.c` prints the size, alignment and field offsets of every
//! type of `include/polyplug.h`, the value of every constant and
//! `pp_contract_id` of a few names; each line is compared with the Rust
//! type, constant or [`ContractId::of`]. `tests/c/host.c` and
//! `tests/c/plugin.cpp` are a C host and a C++ plugin linked together, which
//! checks the header's `extern "C"` block and macros from both languages.
//!
//! The compilers are `$CC` (default `cc`) and `$CXX` (default `c++`); they
//! must accept GCC-style flags (GCC and Clang do).
#![cfg(not(any(loom, shuttle)))]

use std::collections::BTreeMap;
use std::mem::offset_of;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use polyplug_abi::{
    ABI_VERSION, ABI_VERSION_SYMBOL, AbiError, AllocFn, BundleContext, ContextCreateFn,
    ContextDestroyFn, ContextEntry, ContextFn, ContractHandle, ContractId, ContractInterface,
    CreateInstanceFn, DestroyInstanceFn, ENTRY_SYMBOL, ERR_ABI_MISMATCH, ERR_BAD_ARGUMENT,
    ERR_BUDGET, ERR_DUPLICATE, ERR_INTERNAL, ERR_INVALID, ERR_NOT_FOUND, ERR_NOT_IN_INIT,
    ERR_OUT_OF_MEMORY, ERR_PANIC, ERR_PLUGIN, ERR_TRAP, ERR_UNDECLARED, ERR_UNSUPPORTED,
    ERROR_FLAG_HOST_ALLOCATED, EntryFn, FindContractFn, FreeFn, HostApi, LOG_DEBUG, LOG_ERROR,
    LOG_INFO, LOG_TRACE, LOG_WARN, LastErrorFn, LogFn, NativeEntry, NativeFn, OK,
    RegisterContractFn, ResolveContractFn, StrView, TypedEntry, Version, VoidFn,
};
use polyplug_abi::{
    BytesView, ContextRestoreFn, ContextSaveFn, OwnedBuf, RestoreInstanceFn, SaveInstanceFn,
};

const C_FLAGS: [&str; 5] = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"];
const CXX_FLAGS: [&str; 5] = ["-std=c++17", "-Wall", "-Wextra", "-Werror", "-pedantic"];

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn include_dir() -> PathBuf {
    manifest_dir().join("include")
}

fn source(name: &str) -> PathBuf {
    manifest_dir().join("tests").join("c").join(name)
}

/// Where the objects and executables go.
#[expect(
    clippy::panic,
    reason = "test support: a failure here fails the test with this message"
)]
fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("polyplug-abi-c-header");
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

fn executable(name: &str) -> PathBuf {
    out_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// A compiler from the environment variable `var`, or `default`. The value
/// is split on whitespace, so `CC="ccache gcc"` works.
#[expect(
    clippy::panic,
    reason = "test support: a failure here fails the test with this message"
)]
fn compiler(var: &str, default: &str) -> Command {
    let value = std::env::var(var).unwrap_or_else(|_| default.to_owned());
    let mut words = value.split_whitespace();
    let program = words
        .next()
        .unwrap_or_else(|| panic!("${var} is set but empty"));
    let mut command = Command::new(program);
    command.args(words);
    command
}

fn c_compiler() -> Command {
    let mut command = compiler("CC", "cc");
    command.args(C_FLAGS).arg("-I").arg(include_dir());
    command
}

fn cxx_compiler() -> Command {
    let mut command = compiler("CXX", "c++");
    command.args(CXX_FLAGS).arg("-I").arg(include_dir());
    command
}

/// Runs `command` and returns its standard output; fails the test, with the
/// command and its standard error, unless it succeeds.
#[expect(
    clippy::panic,
    clippy::expect_used,
    reason = "test support: a failure here fails the test with this message"
)]
fn run(mut command: Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e} (set CC / CXX?)"));
    assert!(
        output.status.success(),
        "{command:?} failed with {}:\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    String::from_utf8(output.stdout).expect("the C programs print UTF-8")
}

/// The output of `tests/c/layout.c`, built and run once for all tests.
fn layout_output() -> &'static str {
    static OUTPUT: OnceLock<String> = OnceLock::new();
    OUTPUT.get_or_init(|| {
        let exe = executable("layout");
        let mut cc = c_compiler();
        cc.arg(source("layout.c")).arg("-o").arg(&exe);
        run(cc);
        run(Command::new(&exe))
    })
}

/// Facts as `layout.c` prints them: `"PpVersion.minor offset"` → `"4"`.
type Facts = BTreeMap<String, String>;

/// Records the size and alignment of `$t` and the offset of each field
/// under the C name `$c`.
macro_rules! layout {
    ($facts:ident, $c:literal = $t:ty $(, $field:ident)* $(,)?) => {{
        $facts.insert(format!("{} size", $c), size_of::<$t>().to_string());
        $facts.insert(format!("{} align", $c), align_of::<$t>().to_string());
        $(
            $facts.insert(
                format!("{}.{} offset", $c, stringify!($field)),
                offset_of!($t, $field).to_string(),
            );
        )*
    }};
}

/// The layout facts and constants, from the Rust side.
fn rust_facts() -> Facts {
    let mut facts = Facts::new();
    layout!(facts, "PpStrView" = StrView, ptr, len);
    layout!(facts, "PpVersion" = Version, major, minor, patch);
    layout!(facts, "PpContractId" = ContractId);
    layout!(facts, "PpContractHandle" = ContractHandle);
    layout!(facts, "PpAbiError" = AbiError, code, flags, message);
    layout!(facts, "PpNativeEntry" = NativeEntry, name, func);
    layout!(facts, "PpBytesView" = BytesView, ptr, len);
    layout!(facts, "PpOwnedBuf" = OwnedBuf, ptr, len);
    layout!(
        facts,
        "PpTypedEntry" = TypedEntry,
        name,
        signature,
        func,
        packed
    );
    layout!(
        facts,
        "PpContextEntry" = ContextEntry,
        name,
        signature,
        ctx,
        func
    );
    layout!(
        facts,
        "PpContractInterface" = ContractInterface,
        id,
        name,
        version,
        native_count,
        native,
        typed_count,
        typed,
        create_instance,
        destroy_instance,
        context_count,
        context,
        instance_ctx,
        create_context_instance,
        destroy_context_instance,
        save_instance,
        restore_instance,
        save_context_instance,
        restore_context_instance,
    );
    layout!(
        facts,
        "PpHostApi" = HostApi,
        abi_version,
        size,
        ctx,
        register_contract,
        find_contract,
        resolve_contract,
        log,
        alloc,
        free,
        last_error,
    );
    layout!(facts, "PpBundleContext" = BundleContext, name, version, dir);
    // The C typedefs are nullable pointers, as the Rust fields are.
    layout!(facts, "PpNativeFn" = Option<NativeFn>);
    layout!(facts, "PpVoidFn" = Option<VoidFn>);
    layout!(facts, "PpCreateInstanceFn" = Option<CreateInstanceFn>);
    layout!(facts, "PpDestroyInstanceFn" = Option<DestroyInstanceFn>);
    layout!(facts, "PpEntryFn" = Option<EntryFn>);
    layout!(facts, "PpRegisterContractFn" = Option<RegisterContractFn>);
    layout!(facts, "PpFindContractFn" = Option<FindContractFn>);
    layout!(facts, "PpResolveContractFn" = Option<ResolveContractFn>);
    layout!(facts, "PpLogFn" = Option<LogFn>);
    layout!(facts, "PpAllocFn" = Option<AllocFn>);
    layout!(facts, "PpFreeFn" = Option<FreeFn>);
    layout!(facts, "PpLastErrorFn" = Option<LastErrorFn>);
    layout!(facts, "PpContextFn" = Option<ContextFn>);
    layout!(facts, "PpContextCreateFn" = Option<ContextCreateFn>);
    layout!(facts, "PpContextDestroyFn" = Option<ContextDestroyFn>);
    layout!(facts, "PpSaveInstanceFn" = Option<SaveInstanceFn>);
    layout!(facts, "PpRestoreInstanceFn" = Option<RestoreInstanceFn>);
    layout!(facts, "PpContextSaveFn" = Option<ContextSaveFn>);
    layout!(facts, "PpContextRestoreFn" = Option<ContextRestoreFn>);

    let constants = [
        ("PP_ABI_VERSION", ABI_VERSION),
        ("PP_OK", OK),
        ("PP_ERR_BAD_ARGUMENT", ERR_BAD_ARGUMENT),
        ("PP_ERR_NOT_FOUND", ERR_NOT_FOUND),
        ("PP_ERR_ABI_MISMATCH", ERR_ABI_MISMATCH),
        ("PP_ERR_NOT_IN_INIT", ERR_NOT_IN_INIT),
        ("PP_ERR_DUPLICATE", ERR_DUPLICATE),
        ("PP_ERR_TRAP", ERR_TRAP),
        ("PP_ERR_BUDGET", ERR_BUDGET),
        ("PP_ERR_UNDECLARED", ERR_UNDECLARED),
        ("PP_ERR_INVALID", ERR_INVALID),
        ("PP_ERR_PANIC", ERR_PANIC),
        ("PP_ERR_OUT_OF_MEMORY", ERR_OUT_OF_MEMORY),
        ("PP_ERR_UNSUPPORTED", ERR_UNSUPPORTED),
        ("PP_ERR_INTERNAL", ERR_INTERNAL),
        ("PP_ERR_PLUGIN", ERR_PLUGIN),
        ("PP_ERROR_FLAG_HOST_ALLOCATED", ERROR_FLAG_HOST_ALLOCATED),
        ("PP_LOG_TRACE", LOG_TRACE),
        ("PP_LOG_DEBUG", LOG_DEBUG),
        ("PP_LOG_INFO", LOG_INFO),
        ("PP_LOG_WARN", LOG_WARN),
        ("PP_LOG_ERROR", LOG_ERROR),
    ];
    for (name, value) in constants {
        facts.insert(format!("{name} value"), value.to_string());
    }
    facts.insert(
        "PP_ABI_VERSION_SYMBOL text".to_owned(),
        ABI_VERSION_SYMBOL.to_owned(),
    );
    facts.insert("PP_ENTRY_SYMBOL text".to_owned(), ENTRY_SYMBOL.to_owned());
    facts
}

/// The layout facts and constants, from the C side.
fn c_facts() -> Facts {
    let kinds = [" size ", " align ", " offset ", " value ", " text "];
    layout_output()
        .lines()
        .filter_map(|line| {
            let kind = kinds.iter().find(|kind| line.contains(*kind))?;
            let (key, value) = line.split_once(kind)?;
            Some((format!("{key}{}", kind.trim_end()), value.to_owned()))
        })
        .collect()
}

#[test]
#[cfg_attr(miri, ignore)]
fn c_layout_and_constants_match_rust() {
    let rust = rust_facts();
    let c = c_facts();
    let mut problems = Vec::new();
    for (key, rust_value) in &rust {
        match c.get(key) {
            Some(c_value) if c_value == rust_value => {}
            Some(c_value) => problems.push(format!("{key}: Rust {rust_value}, C {c_value}")),
            None => problems.push(format!("{key}: Rust {rust_value}, missing in C")),
        }
    }
    for (key, c_value) in &c {
        if !rust.contains_key(key) {
            problems.push(format!("{key}: C {c_value}, missing in Rust"));
        }
    }
    assert!(
        problems.is_empty(),
        "C and Rust disagree on {} facts:\n{}",
        problems.len(),
        problems.join("\n"),
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn c_contract_ids_match_rust() {
    let mut checked = 0;
    for line in layout_output().lines() {
        let Some(rest) = line.strip_prefix("id ") else {
            continue;
        };
        let mut words = rest.splitn(3, ' ');
        let (Some(major), Some(hash), Some(name)) = (words.next(), words.next(), words.next())
        else {
            panic!("malformed line from layout.c: {line:?}");
        };
        let major: u32 = major.parse().unwrap();
        let hash: u64 = hash.parse().unwrap();
        assert_eq!(
            hash,
            ContractId::of(name, major).0,
            "pp_contract_id({name:?}, {major}) in C differs from ContractId::of"
        );
        checked += 1;
    }
    assert_eq!(checked, 9, "layout.c prints 9 contract ids");
}

#[test]
#[cfg_attr(miri, ignore)]
fn c_helper_macros_build_the_rust_values() {
    let lines: Vec<&str> = layout_output().lines().collect();
    for expected in [
        // PP_STR: length without the NUL.
        "str 8 test.add",
        "str 0 ",
        // PP_STR_INIT in a static table.
        "NATIVE[0].name 3 add",
        // Code, flags, message length, message pointer is NULL: AbiError::NONE.
        "PpAbiError_NONE 0 0 0 1",
        // Length, pointer is NULL: StrView::EMPTY.
        "PpStrView_EMPTY 0 1",
    ] {
        assert!(
            lines.contains(&expected),
            "layout.c did not print {expected:?}"
        );
    }
    assert_eq!(AbiError::NONE.code, OK);
    assert!(StrView::EMPTY.ptr.is_null());
}

/// A C host calls the entry point of a C++ plugin; both sides see the same
/// contract, and the plugin's definitions get C linkage from the header.
#[test]
#[cfg_attr(miri, ignore)]
fn cpp_plugin_registers_with_c_host() {
    let host_obj = out_dir().join("host.o");
    let plugin_obj = out_dir().join("plugin.o");
    let exe = executable("host");

    let mut cc = c_compiler();
    cc.arg("-c").arg(source("host.c")).arg("-o").arg(&host_obj);
    run(cc);
    let mut cxx = cxx_compiler();
    cxx.arg("-c")
        .arg(source("plugin.cpp"))
        .arg("-o")
        .arg(&plugin_obj);
    run(cxx);
    let mut link = compiler("CXX", "c++");
    link.arg(&host_obj).arg(&plugin_obj).arg("-o").arg(&exe);
    run(link);

    let id = ContractId::of("test.add", 1).0;
    let expected = format!(
        "abi_version {ABI_VERSION}\n\
         log {LOG_INFO} fixture\n\
         register test.add\n\
         version 1.2.3\n\
         id {id}\n\
         native add\n\
         native call {OK} 5\n\
         typed add\n\
         signature u32(u32,u32)\n\
         typed call 9\n\
         pp_typed {OK} {ERR_BAD_ARGUMENT} {ERR_NOT_FOUND}\n\
         pp_typed_call {OK} 13\n\
         instances 0 0\n\
         entry {OK} calls 1\n"
    );
    assert_eq!(run(Command::new(&exe)), expected);
}

/// `include/polyplug.hpp`: every wrapper returns what its body returns, and
/// turns a `std::exception` into `ERR_PANIC` with `what()`, anything else
/// into `ERR_PANIC` with "unknown C++ exception", in memory from the host's
/// `alloc` (flagged, and freed by the host: nothing stays allocated); typed
/// and `void` wrappers log instead. Before the entry point ran, the message
/// is static.
#[test]
#[cfg_attr(miri, ignore)]
fn cpp_wrappers_contain_every_exception() {
    let exe = executable("contain");
    let mut cxx = cxx_compiler();
    cxx.arg(source("contain.cpp")).arg("-o").arg(&exe);
    run(cxx);
    let (panic, host) = (ERR_PANIC, ERROR_FLAG_HOST_ALLOCATED);
    let plugin = ERR_PLUGIN + 1;
    let expected = format!(
        "early {panic} {panic} 0 a C++ exception was caught; its message could not be copied\n\
         entry-ok {OK} 0 0 \n\
         entry-throws {panic} {panic} {host} init boom\n\n\
         guard-code {plugin} 0 0 \n\
         guard-exception {panic} {panic} {host} boom\n\
         guard-other {panic} {panic} {host} unknown C++ exception\n\
         guard-empty {panic} {panic} 0 C++ exception with an empty message\n\
         guard-null-err {panic}\n\
         guard_or 1 5\n\
         logged {LOG_ERROR} typed;{LOG_ERROR} unknown C++ exception;\n\
         live 0\n"
    );
    assert_eq!(run(Command::new(&exe)), expected);
}

/// The header needs no more than C99 and C++11.
#[test]
#[cfg_attr(miri, ignore)]
fn header_compiles_as_c99_and_cpp11() {
    let mut cc = compiler("CC", "cc");
    cc.args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"])
        .arg("-fsyntax-only")
        .arg("-I")
        .arg(include_dir())
        .arg(source("host.c"));
    run(cc);
    let mut cxx = compiler("CXX", "c++");
    cxx.args(["-std=c++11", "-Wall", "-Wextra", "-Werror", "-pedantic"])
        .arg("-fsyntax-only")
        .arg("-I")
        .arg(include_dir())
        .arg(source("plugin.cpp"));
    run(cxx);
}
