//! Between bundles: a dependency cycle, a missing provider, unloading a
//! bundle others depend on, a handle kept across an unload, and reloads
//! that would leave a dependent without what it requires.

use polyplug::{BundleId, ContractHandle, FindError, LoadError, Runtime, Version};
use polyplug_fixtures::bundle;

use super::{
    TempDir, V1, add_answers, call, drain, handle_of, names, native_manifest, refused,
    refused_load, refused_reload, rewritten, v2_manifest, version_of,
};

#[test]
fn bundles_that_require_each_other() {
    let dir = TempDir::new("cycle");
    let a = native_manifest(
        "cycle-a",
        "test-add",
        &[("test.add", "1.0.0")],
        &[("test.mul", "1.0")],
    );
    let b = native_manifest(
        "cycle-b",
        "c-mul",
        &[("test.mul", "1.0.0")],
        &[("test.add", "1.0")],
    );
    rewritten(dir.path(), "test-add", &a);
    rewritten(dir.path(), "c-mul", &b);
    let runtime = Runtime::new().unwrap();
    runtime.load_bundle(bundle("test-add")).unwrap();
    let error = refused(
        &runtime,
        "dependency cycle (load_dir)",
        0,
        || runtime.load_dir(dir.path()).map(drop),
        || add_answers(&runtime),
    );
    match &error {
        LoadError::DependencyCycle { cycle } => {
            assert_eq!(cycle.first(), cycle.last(), "{error}");
            let mut members = cycle[1..].to_vec();
            members.sort();
            assert_eq!(members, ["cycle-a", "cycle-b"], "{error}");
        }
        other => panic!("expected a dependency cycle, got {other}"),
    }
    names(&error, &["cycle-a", "cycle-b"]);
}

#[test]
fn a_required_contract_nothing_provides() {
    let error = refused_load("missing provider", &bundle("host-user"), 0);
    assert!(
        matches!(&error, LoadError::MissingProvider { bundle, contract, version }
            if bundle == "host-user" && contract == "test.host" && *version == V1),
        "{error}"
    );
    names(&error, &["host-user", "test.host"]);

    let dir = TempDir::new("missing-provider");
    let v2 = v2_manifest(&dir, |text| {
        text + "\n[[requires]]\nname = \"absent.contract\"\nversion = \"1.2\"\n"
    });
    let error = refused_reload("missing provider", &v2, 0);
    assert!(
        matches!(&error, LoadError::MissingProvider { bundle, contract, version }
            if bundle == "reload-test" && contract == "absent.contract"
                && *version == Version::new(1, 2, 0)),
        "{error}"
    );
    names(&error, &["reload-test", "absent.contract", "1.2.0"]);
}

#[test]
fn unloading_a_bundle_others_depend_on() {
    let runtime = Runtime::new().unwrap();
    let add = runtime.load_bundle(bundle("test-add")).unwrap();
    runtime.load_bundle(bundle("consumer")).unwrap();
    let consumer_answers = || {
        let reader = runtime.reader();
        let guard = reader.pin();
        let calc = guard.find("consumer.calc", V1).unwrap();
        assert_eq!(call(&calc, "add_via", 2, 3).unwrap(), 1005);
    };
    let error = refused(
        &runtime,
        "unload with dependents",
        0,
        || runtime.unload_bundle(add),
        || {
            add_answers(&runtime);
            consumer_answers();
        },
    );
    assert!(
        matches!(&error, LoadError::HasDependents { bundle, dependents }
            if bundle == "test-add" && *dependents == ["consumer"]),
        "{error}"
    );
    names(&error, &["test-add", "consumer"]);
}

#[test]
fn a_handle_kept_across_an_unload_is_stale() {
    let runtime = Runtime::new().unwrap();
    runtime.load_bundle(bundle("test-add")).unwrap();
    let mul = runtime.load_bundle(bundle("c-mul")).unwrap();
    let handle = {
        let reader = runtime.reader();
        let guard = reader.pin();
        guard.find("test.mul", V1).unwrap().handle()
    };
    runtime.unload_bundle(mul).unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let error = match guard.get(handle) {
        Err(error) => error,
        Ok(contract) => panic!("expected a stale handle, got {}", contract.name()),
    };
    println!("stale handle after unload: {error}");
    assert_eq!(error, FindError::Stale { handle });
    names(&error, &[&handle.to_string(), "unloaded"]);
    drop(guard);
    add_answers(&runtime);
    drain(&runtime);
    let stats = runtime.library_stats();
    assert_eq!(
        (stats.opened, stats.closed, stats.unmapped),
        (2, 1, 1),
        "c-mul closed and unmapped, test-add still open"
    );
}

/// A runtime serving `reload-v2` (`reload.test` 1.1.0, answers 200) and a
/// bundle `needs-reload` (c-mul's library) that requires `reload.test`
/// 1.1, with a handle kept to `reload.test`.
fn serving_a_dependent(dir: &TempDir) -> (Runtime, BundleId) {
    let dependent = native_manifest(
        "needs-reload",
        "c-mul",
        &[("test.mul", "1.0.0")],
        &[("reload.test", "1.1")],
    );
    let path = rewritten(dir.path(), "c-mul", &dependent);
    let runtime = Runtime::new().unwrap();
    let id = runtime.load_bundle(bundle("reload-v2")).unwrap();
    runtime.load_bundle(path).unwrap();
    (runtime, id)
}

/// `reload.test` answers 200 through `handle`, and `test.mul` answers.
fn v2_and_dependent_answer(runtime: &Runtime, handle: ContractHandle) {
    assert_eq!(version_of(runtime, handle), 200, "v2 still answers");
    let reader = runtime.reader();
    let guard = reader.pin();
    let mul = guard.find("test.mul", V1).unwrap();
    assert_eq!(call(&mul, "mul", 6, 7).unwrap(), 42);
}

#[test]
fn a_reload_lacking_a_contract_a_dependent_needs() {
    let dir = TempDir::new("lacks-dependent");
    let (runtime, id) = serving_a_dependent(&dir);
    let handle = handle_of(&runtime);
    let error = refused(
        &runtime,
        "reload lacks a contract a dependent needs",
        1,
        || runtime.reload_bundle(id, Some(&bundle("bad-lacks-contract"))),
        || v2_and_dependent_answer(&runtime, handle),
    );
    assert!(
        matches!(&error, LoadError::ReloadLacksContract { bundle, contract, version }
            if bundle == "reload-test" && contract == "reload.test"
                && *version == Version::new(1, 1, 0)),
        "{error}"
    );
    names(&error, &["reload-test", "reload.test"]);
}

#[test]
fn a_reload_that_breaks_a_dependent() {
    let dir = TempDir::new("breaks-dependent");
    let (runtime, id) = serving_a_dependent(&dir);
    let handle = handle_of(&runtime);
    let error = refused(
        &runtime,
        "reload to an older minor a dependent needs",
        1,
        || runtime.reload_bundle(id, Some(&bundle("reload-v1"))),
        || v2_and_dependent_answer(&runtime, handle),
    );
    assert!(
        matches!(&error, LoadError::BreaksDependent { bundle, dependent, contract, provided, required }
            if bundle == "reload-test" && dependent == "needs-reload" && contract == "reload.test"
                && *provided == V1 && *required == Version::new(1, 1, 0)),
        "{error}"
    );
    names(&error, &["reload-test", "needs-reload", "reload.test"]);
}
