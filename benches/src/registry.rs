//! A runtime holding many contracts, for the registry bench: find,
//! resolve and find_all should cost the same at 10 and at 10,000.
//!
//! # Example
//!
//! ```
//! # if polyplug::MODEL_BUILD { return Ok(()); }
//! use polyplug_benches::registry::{V1, name, with_contracts};
//!
//! let runtime = with_contracts(100)?;
//! let reader = runtime.reader();
//! let guard = reader.pin();
//! let inc = guard.find(&name(99), V1)?.typed::<extern "C" fn(u32) -> u32>("inc")?;
//! assert_eq!(inc.call(1), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use polyplug::{HostContract, Runtime, Version};

/// The version every registered contract has.
///
/// # Example
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug_benches::registry::{V1, name, with_contracts};
///
/// let runtime = with_contracts(1)?;
/// let reader = runtime.reader();
/// assert_eq!(reader.pin().find(&name(0), V1)?.version(), V1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const V1: Version = Version::new(1, 0, 0);

/// The typed function each contract carries: a wrapping increment.
///
/// # Example
///
/// ```
/// use polyplug_benches::registry::inc;
///
/// assert_eq!(inc(41), 42);
/// assert_eq!(inc(u32::MAX), 0);
/// ```
pub extern "C" fn inc(x: u32) -> u32 {
    x.wrapping_add(1)
}

/// The name of contract `i`.
///
/// # Example
///
/// ```
/// assert_eq!(polyplug_benches::registry::name(7), "bench.contract7");
/// ```
pub fn name(i: usize) -> String {
    format!("bench.contract{i}")
}

/// A runtime with `n` host contracts `bench.contract0` ..., each with a
/// typed `inc`.
///
/// # Errors
///
/// A failed registration.
///
/// ```
/// # if polyplug::MODEL_BUILD { return; }
/// let runtime = polyplug_benches::registry::with_contracts(10).unwrap();
/// let reader = runtime.reader();
/// let guard = reader.pin();
/// let name = polyplug_benches::registry::name(7);
/// assert!(guard.find(&name, polyplug_benches::registry::V1).is_ok());
/// ```
pub fn with_contracts(n: usize) -> Result<Runtime, Box<dyn std::error::Error>> {
    let runtime = Runtime::new()?;
    for i in 0..n {
        runtime.register_host_contract(
            HostContract::new(&name(i), V1).typed("inc", inc as extern "C" fn(u32) -> u32),
        )?;
    }
    Ok(runtime)
}
