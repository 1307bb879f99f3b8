//! The `polyplug` module a script imports: find and call any loaded
//! contract of any language, log, and register functions, as the Lua and
//! JavaScript engines' `polyplug` objects do.
//!
//! ```python
//! import polyplug
//! add = polyplug.find("test.add", "1.0.0")   # a handle (an int); raises if none
//! total = polyplug.call(add, "add", "u32(u32,u32)", 2, 3)
//! polyplug.log("info", f"sum is {total}")
//! ```
//!
//! A call through `polyplug.call` releases the GIL while it runs: the
//! function called may be native code that waits for another thread.

use polyplug::loader::{Contracts, Logger, TypedSignature, Value, ValueType};
use polyplug::{ContractHandle, LogLevel, Version};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyCFunction, PyDict, PyTuple};

use crate::convert::{from_py, to_py};

/// A version from Python: `"1.2.0"`, or a major number `1` meaning
/// `1.0.0`.
fn version(value: &Bound<'_, PyAny>) -> PyResult<Version> {
    if let Ok(major) = value.extract::<u32>() {
        return Ok(Version::new(major, 0, 0));
    }
    let text: String = value.extract().map_err(|_| {
        PyTypeError::new_err("polyplug.find: expected a version string or a major number")
    })?;
    let parts: Vec<Option<u32>> = text.split('.').map(|p| p.parse().ok()).collect();
    match parts.as_slice() {
        [Some(a), Some(b), Some(c)] => Ok(Version::new(*a, *b, *c)),
        _ => Err(PyTypeError::new_err(format!(
            "polyplug.find: bad version {text:?}, expected major.minor.patch"
        ))),
    }
}

fn find(contracts: &Contracts, args: &Bound<'_, PyTuple>) -> PyResult<u64> {
    let (name, min): (String, Bound<'_, PyAny>) = args.extract()?;
    let handle = contracts.find(&name, version(&min)?).map_err(|fault| {
        PyRuntimeError::new_err(format!("polyplug.find {name}: {}", fault.message))
    })?;
    Ok(handle.to_raw())
}

fn call<'py>(contracts: &Contracts, args: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
    let py = args.py();
    if args.len() < 3 {
        return Err(PyTypeError::new_err(
            "polyplug.call(handle, function, signature, *args)",
        ));
    }
    let handle: u64 = args.get_item(0)?.extract()?;
    let function: String = args.get_item(1)?.extract()?;
    let spelling: String = args.get_item(2)?.extract()?;
    let fail =
        |problem: String| PyRuntimeError::new_err(format!("polyplug.call {function}: {problem}"));
    let handle =
        ContractHandle::from_raw(handle).ok_or_else(|| fail("not a contract handle".to_owned()))?;
    let signature = TypedSignature::parse(&spelling).map_err(&fail)?;
    let given = args.len() - 3;
    if given != signature.args.len() {
        return Err(fail(format!(
            "{given} arguments for {signature}, which takes {}",
            signature.args.len()
        )));
    }
    let mut owned = Vec::with_capacity(given);
    for (i, ty) in signature.args.iter().enumerate() {
        owned.push(from_py(&args.get_item(i + 3)?, Some(*ty)).map_err(&fail)?);
    }
    let borrowed: Vec<Value<'_>> = owned
        .iter()
        .zip(&signature.args)
        .map(|(value, ty)| match (value, ty) {
            (Value::String(text), ValueType::Str) => Value::Str(text),
            (Value::Buf(bytes), ValueType::Bytes) => Value::Bytes(bytes),
            (other, _) => other.clone(),
        })
        .collect();
    let result = py
        .detach(|| contracts.call(handle, &function, &spelling, &borrowed))
        .map_err(|fault| fail(fault.message))?;
    Ok(to_py(py, &result))
}

/// The `polyplug` module of one load: the engine's `host` gives it the
/// registration decorator; this adds find, call and log.
///
/// Each closure lives in a capsule its `PyCFunction` holds, and is
/// dropped when that function is freed. That is not always when the load
/// drops: the script's builtins namespace holds the engine's import hook,
/// whose closure holds that namespace and the import cache, which holds
/// this module. The cycle is freed by the interpreter's cyclic collector
/// at its next collection of the generation it reached, not by reference
/// counts (the test `host_functions_go_with_their_load` counts them all
/// freed after a collection). Until then the objects are on the
/// collector's lists, which the interpreter's state reaches: reachable.
/// LeakSanitizer reported these closures as leaked only because CPython's
/// small-object allocator keeps objects (the capsules among them) in
/// arenas it maps itself, which LeakSanitizer does not scan; with
/// `PYTHONMALLOC=malloc` every object is a heap block it scans, and the
/// closures are found (ci/fuzz.sh runs the fuzz targets so).
pub(crate) fn module<'py>(
    py: Python<'py>,
    engine: &Bound<'py, PyAny>,
    contracts: Contracts,
    logger: Logger,
) -> PyResult<Bound<'py, PyAny>> {
    let for_find = contracts.clone();
    let find_fn = PyCFunction::new_closure(
        py,
        Some(c"find"),
        None,
        move |args: &Bound<'_, PyTuple>, _: Option<&Bound<'_, PyDict>>| find(&for_find, args),
    )?;
    let call_fn = PyCFunction::new_closure(
        py,
        Some(c"call"),
        None,
        move |args: &Bound<'_, PyTuple>, _: Option<&Bound<'_, PyDict>>| -> PyResult<Py<PyAny>> {
            call(&contracts, args).map(Bound::unbind)
        },
    )?;
    let log_fn = PyCFunction::new_closure(
        py,
        Some(c"log"),
        None,
        move |args: &Bound<'_, PyTuple>, _: Option<&Bound<'_, PyDict>>| -> PyResult<()> {
            let (level, message): (String, String) = args.extract()?;
            let level = match level.as_str() {
                "error" => LogLevel::Error,
                "warn" => LogLevel::Warn,
                "debug" => LogLevel::Debug,
                "trace" => LogLevel::Trace,
                _ => LogLevel::Info,
            };
            logger.log(level, &message);
            Ok(())
        },
    )?;
    engine.call_method1("host", (find_fn, call_fn, log_fn))
}
