// The demo.counter contract in Rust, the source of both counter-rust
// builds, and, built for wasm32-unknown-unknown, of both counter-wasm
// builds (../../wasm-plugins/). Each crate's src/lib.rs defines, before it
// includes this file:
//
//     const VERSION: u32;   // 1 or 2
//     const PLUGIN: &str;   // "counter-rust" or "counter-wasm"
//
// Contract `demo.counter` 1.0.0, the same in Rust, C and C++:
//
// | function | kind | behaviour |
// |---|---|---|
// | `version` | typed `u32()` | VERSION |
// | `step` | typed `u32(u32)` | x + VERSION (wrapping) |
// | `step` | native `StepArgs -> u32`, no instance needed | x + VERSION; error 1001 when that overflows |
// | `count` | native `StepArgs -> u32`, needs an instance | total += x + VERSION; returns total; error 1001 on overflow |
//
// Instances hold a running total. The plugin logs at LOG_INFO when it is
// loaded and when an instance is created or destroyed. A wasm32 build
// exports the typed functions and the instance constructor; its native
// functions are not exported (they take C structs by pointer).

use polyplug_guest::abi::LOG_INFO;
use polyplug_guest::{Error, Host};

/// The arguments of the native functions `step` and `count`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct StepArgs {
    /// The number to step from.
    pub x: u32,
}

/// One `demo.counter` instance: a running total.
#[derive(Debug)]
pub struct Counter {
    total: u32,
}

impl Counter {
    fn create(host: &Host) -> Result<Counter, Error> {
        host.log(
            LOG_INFO,
            &format!("{PLUGIN} v{VERSION}: instance created"),
        );
        Ok(Counter { total: 0 })
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        polyplug_guest::log(
            LOG_INFO,
            &format!("{PLUGIN} v{VERSION}: instance destroyed"),
        );
    }
}

fn init(host: &Host) -> Result<(), Error> {
    host.log(LOG_INFO, &format!("{PLUGIN} v{VERSION} loaded"));
    Ok(())
}

fn overflow() -> Error {
    Error::plugin(1, "demo.counter: the step overflows u32")
}

fn step(args: &StepArgs) -> Result<u32, Error> {
    args.x.checked_add(VERSION).ok_or_else(overflow)
}

fn count(counter: &mut Counter, args: &StepArgs) -> Result<u32, Error> {
    let total = step(args)?
        .checked_add(counter.total)
        .ok_or_else(overflow)?;
    counter.total = total;
    Ok(total)
}

fn version() -> u32 {
    VERSION
}

fn step_typed(x: u32) -> u32 {
    x.wrapping_add(VERSION)
}

polyplug_guest::plugin! {
    init = init;
    contract "demo.counter" "1.0.0" {
        state Counter = Counter::create;
        stateless native step(StepArgs) -> u32 = step;
        native count(StepArgs) -> u32 = count;
        typed version() -> u32 = version;
        typed step(x: u32) -> u32 = step_typed;
    }
}
