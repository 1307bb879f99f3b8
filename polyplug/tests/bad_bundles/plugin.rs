//! The plugin: a wrong ABI version, no entry point, init failing or
//! panicking, registrations that break the manifest's promises or the
//! ABI's rules (C plugins registering a null table or a null function are
//! refused and never called), and a Rust function that panics at run time.

use polyplug::{Event, FindError, LoadError, LogLevel, Runtime, Unmapped, Version};
use polyplug_fixtures::bundle;
use polyplug_loader::NativeError;

use super::{
    TempDir, V1, add_answers, call, drain, names, native_error, native_manifest, refused,
    refused_both, refused_load, rewritten,
};

#[test]
fn plugin_built_for_another_abi_version() {
    let error = refused_load("ABI version 999", &bundle("bad-abi"), 0);
    assert!(
        matches!(native_error(&error), NativeError::AbiMismatch { bundle, found: 999, expected }
            if bundle == "reload-test" && *expected == polyplug_abi::ABI_VERSION),
        "{error}"
    );
    names(&error, &["reload-test", "polyplug_abi_version", "999"]);
}

#[test]
fn plugin_without_an_entry_point() {
    let error = refused_load("no entry symbol", &bundle("bad-no-entry"), 0);
    assert!(
        matches!(native_error(&error), NativeError::MissingSymbol { bundle, symbol }
            if bundle == "reload-test" && *symbol == "polyplug_entry"),
        "{error}"
    );
    names(&error, &["reload-test", "polyplug_entry"]);
}

#[test]
fn plugin_init_returns_an_error() {
    let error = refused_load("init returns an error", &bundle("bad-init-error"), 1);
    assert!(
        matches!(&error, LoadError::InitFailed { bundle, code: 1007, message }
            if bundle == "reload-test" && message == "bad-init-error: refused on purpose"),
        "{error}"
    );
    names(&error, &["reload-test", "1007"]);
}

#[test]
fn plugin_init_panics() {
    let error = refused_load("init panics", &bundle("bad-init-panic"), 1);
    assert!(
        matches!(&error, LoadError::InitFailed { bundle, code, message }
            if bundle == "reload-test"
                && *code == polyplug_abi::ERR_PANIC
                && message.as_str().contains("bad-init-panic: panicked on purpose")),
        "{error}"
    );
    names(&error, &["reload-test"]);
}

#[test]
fn plugin_init_throws_a_cpp_exception() {
    // polyplug.hpp's `entry` turns the exception into an error: the load
    // fails, the host lives on, and the library leaves memory.
    for error in refused_both("init throws", &bundle("bad-init-throw"), 1) {
        assert!(
            matches!(&error, LoadError::InitFailed { bundle, code, message }
                if bundle == "reload-test"
                    && *code == polyplug_abi::ERR_PANIC
                    && message.as_str().contains("bad-init-throw: thrown on purpose")),
            "{error}"
        );
        names(&error, &["reload-test", "thrown on purpose"]);
    }
}

#[test]
fn plugin_registers_an_undeclared_contract() {
    let error = refused_load("registers undeclared", &bundle("bad-undeclared"), 1);
    assert!(
        matches!(&error, LoadError::Undeclared { bundle, contract, version, declared }
            if bundle == "reload-test" && contract == "undeclared.extra" && *version == V1
                && *declared == [("reload.test".to_owned(), V1)]),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "bundle reload-test: registered contract undeclared.extra 1.0.0, which its manifest \
         does not declare at any version; it declares reload.test 1.0.0"
    );
}

#[test]
fn plugin_registers_an_older_version_than_declared() {
    // reload-v1 registers reload.test 1.0.0; its manifest now declares 1.2.0.
    let dir = TempDir::new("older-than-declared");
    let text = native_manifest("reload-test", "reload-v1", &[("reload.test", "1.2.0")], &[]);
    let path = rewritten(dir.path(), "reload-v1", &text);
    let declared = Version::new(1, 2, 0);
    for error in refused_both("registers older than declared", &path, 1) {
        assert!(
            matches!(&error, LoadError::Undeclared { contract, version, declared: d, .. }
                if contract == "reload.test" && *version == V1
                    && *d == [("reload.test".to_owned(), declared)]),
            "{error}"
        );
        assert_eq!(
            error.to_string(),
            "bundle reload-test: registered contract reload.test 1.0.0, but its manifest \
             declares reload.test 1.2.0"
        );
    }
}

#[test]
fn plugin_does_not_register_a_declared_contract() {
    let error = refused_load("declares unregistered", &bundle("bad-unregistered"), 1);
    assert!(
        matches!(&error, LoadError::NotRegistered { bundle, contract, .. }
            if bundle == "reload-test" && contract == "declared.missing"),
        "{error}"
    );
    names(&error, &["reload-test", "declared.missing"]);
}

#[test]
fn plugin_registers_one_contract_twice() {
    for error in refused_both("same contract twice", &bundle("bad-duplicate"), 1) {
        assert!(
            matches!(&error, LoadError::DuplicateContract { bundle, contract }
                if bundle == "reload-test" && contract == "reload.test"),
            "{error}"
        );
        names(&error, &["reload-test", "reload.test"]);
    }
}

#[test]
fn plugin_contract_id_does_not_match_its_name() {
    for error in refused_both("id is not name@major", &bundle("bad-contract-id"), 1) {
        assert!(
            matches!(&error, LoadError::InvalidContract { bundle, error }
                if bundle == "reload-test" && error.contract == "reload.test" && error.field == "id"),
            "{error}"
        );
        names(
            &error,
            &["reload-test", "reload.test", "id", "reload.test@1"],
        );
    }
}

/// Nothing answers `reload.test` in `runtime`: a refused plugin's
/// functions are unreachable.
fn reload_test_unreachable(runtime: &Runtime) {
    let reader = runtime.reader();
    let guard = reader.pin();
    assert!(matches!(
        guard.find("reload.test", V1),
        Err(FindError::NotFound { .. })
    ));
    assert_eq!(guard.find_all("reload.test", V1).count(), 0);
}

#[test]
fn a_c_plugin_registering_a_null_function_is_refused() {
    let runtime = Runtime::new().unwrap();
    runtime.load_bundle(bundle("test-add")).unwrap();
    let error = refused(
        &runtime,
        "null function pointer (load)",
        1,
        || runtime.load_bundle(bundle("bad-null-fn")).map(drop),
        || add_answers(&runtime),
    );
    assert!(
        matches!(&error, LoadError::InvalidContract { bundle, error }
            if bundle == "reload-test" && error.contract == "reload.test" && error.field == "native[0].func"),
        "{error}"
    );
    names(&error, &["reload-test", "reload.test", "native[0].func"]);
    reload_test_unreachable(&runtime);
}

#[test]
fn a_c_plugin_registering_a_null_table_is_refused() {
    // The plugin ignores the refusal and registers a valid table next; the
    // bundle is refused all the same, so that table is never reachable.
    for error in refused_both("null interface", &bundle("bad-null-table"), 1) {
        assert!(
            matches!(&error, LoadError::InvalidContract { bundle, error }
                if bundle == "reload-test" && error.field == "interface"),
            "{error}"
        );
        names(&error, &["reload-test", "interface", "null"]);
    }
    let runtime = Runtime::new().unwrap();
    runtime.load_bundle(bundle("bad-null-table")).unwrap_err();
    reload_test_unreachable(&runtime);
}

#[test]
fn a_rust_panic_is_a_call_error_and_the_host_keeps_serving() {
    let runtime = Runtime::new().unwrap();
    runtime.load_bundle(bundle("test-add")).unwrap();
    runtime.load_bundle(bundle("c-mul")).unwrap();
    let revision = runtime.revision();
    let panics_then_serves = || {
        let reader = runtime.reader();
        let guard = reader.pin();
        let add = guard.find("test.add", V1).unwrap();
        for _ in 0..3 {
            let error = call(&add, "panic", 1, 2).unwrap_err();
            assert_eq!(
                (error.contract.as_str(), error.function.as_str(), error.code),
                ("test.add", "panic", polyplug_abi::ERR_PANIC),
                "{error}"
            );
            assert!(
                error
                    .message
                    .as_str()
                    .contains("test.add panicked on purpose"),
                "{error}"
            );
            names(&error, &["test.add.panic", "panicked on purpose"]);
            assert_eq!(call(&add, "add", 1, 2).unwrap(), 3);
        }
        let mul = guard.find("test.mul", V1).unwrap();
        assert_eq!(call(&mul, "mul", 6, 7).unwrap(), 42);
        let error = call(&add, "panic", 0, 0).unwrap_err();
        println!("panicking plugin function: {error}");
    };
    panics_then_serves();
    // On another thread too: the panic left nothing behind.
    std::thread::scope(|s| {
        s.spawn(panics_then_serves);
    });
    add_answers(&runtime);
    assert_eq!(
        runtime.revision(),
        revision,
        "a failed call changes nothing"
    );
    assert_eq!(runtime.bundles().len(), 2);
}

#[test]
fn a_cpp_exception_is_a_call_error_and_the_host_keeps_serving() {
    let runtime = Runtime::new().unwrap();
    runtime.load_bundle(bundle("test-add")).unwrap();
    let id = runtime.load_bundle(bundle("cpp-throw")).unwrap();
    let events = runtime.subscribe();
    let revision = runtime.revision();
    let throws_then_serves = || {
        let reader = runtime.reader();
        let guard = reader.pin();
        let throws = guard.find("test.throw", V1).unwrap();
        for _ in 0..3 {
            let error = call(&throws, "runtime_error", 0, 0).unwrap_err();
            assert_eq!(
                (error.function.as_str(), error.code),
                ("runtime_error", polyplug_abi::ERR_PANIC),
                "{error}"
            );
            assert!(error.message.as_str().starts_with("boom"), "{error}");
            names(&error, &["test.throw.runtime_error", "boom"]);
            let error = call(&throws, "int", 0, 0).unwrap_err();
            assert_eq!(error.code, polyplug_abi::ERR_PANIC, "{error}");
            assert_eq!(error.message, "unknown C++ exception", "{error}");
            assert_eq!(call(&throws, "add", 1, 2).unwrap(), 3);
            // A typed function has no error: the exception is logged and
            // the wrapper returns its fallback.
            let inc = throws
                .typed::<extern "C" fn(u32) -> u32>("checked_inc")
                .unwrap();
            assert_eq!((inc.call(u32::MAX), inc.call(41)), (0, 42));
        }
        let error = call(&throws, "runtime_error", 0, 0).unwrap_err();
        println!("throwing C++ function: {error}");
    };
    throws_then_serves();
    // On another thread too: the exceptions left nothing behind.
    std::thread::scope(|s| {
        s.spawn(throws_then_serves);
    });
    add_answers(&runtime);
    let logged = events
        .try_iter()
        .filter(|e| {
            matches!(e, Event::Log { bundle, level: LogLevel::Error, message }
                if bundle == "cpp-throw" && message == "checked_inc: u32 overflow")
        })
        .count();
    assert_eq!(
        logged, 6,
        "every caught exception of the typed function is logged"
    );
    assert_eq!(
        runtime.revision(),
        revision,
        "a failed call changes nothing"
    );
    assert_eq!(runtime.bundles().len(), 2);
    // The exceptions and the wrappers left nothing that pins the library.
    runtime.unload_bundle(id).unwrap();
    drain(&runtime);
    let closed: Vec<Unmapped> = events
        .try_iter()
        .filter_map(|e| match e {
            Event::LibraryClosed { name, unmapped, .. } if name == "cpp-throw" => Some(unmapped),
            _ => None,
        })
        .collect();
    assert_eq!(closed, [Unmapped::Yes]);
}
