//! An example host: loads the Rust, C and C++ example plugins, calls them,
//! hot-reloads the C one to version 2, calls them again, and prints what
//! happened. Run it with `cargo run -p polyplug-examples --example host`.

use std::time::Duration;

use polyplug::{ContractRef, Event, FindError, Instance, Provider, Reader, Runtime};
use polyplug_examples::{Build, CONTRACT, CONTRACT_VERSION, PLUGINS, StepArgs};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = Runtime::new()?;
    let events = runtime.subscribe();
    for plugin in &PLUGINS {
        runtime.load_bundle(plugin.dir(Build::V1))?;
    }
    let reader = runtime.reader(); // once per thread
    call_all(&reader, "v1    ")?;
    let mut kept = instance_of(&reader, "counter-c")?; // made by v1

    let id = runtime
        .bundle_id("counter-c")
        .ok_or("counter-c is not loaded")?;
    runtime.reload_bundle(id, Some(&PLUGINS[1].dir(Build::V2)))?; // readers never wait
    call_all(&reader, "reload")?;

    let mut total = 0u32;
    // SAFETY: [P1] `count` takes a `StepArgs` and writes a `u32`, as the
    // demo.counter contract documents.
    unsafe { kept.call("count", &StepArgs { x: 10 }, &mut total) }?;
    println!("the instance made before the reload still adds 1: count(10) = {total}");
    drop(kept); // the last user of counter-c v1: its library can close now

    runtime.drain(Duration::from_secs(5))?;
    for event in events.try_iter() {
        match event {
            Event::Reloaded { name, from, to, .. } => println!("event: {name} {from} -> {to}"),
            Event::LibraryClosed { name, unmapped, .. } => {
                println!("event: {name} library closed, unmapped: {unmapped:?}")
            }
            Event::Log {
                bundle, message, ..
            } => println!("log:   {bundle}: {message}"),
            _ => {}
        }
    }
    Ok(())
}

/// Calls `step(10)` of every loaded `demo.counter`.
fn call_all(reader: &Reader<'_>, when: &str) -> Result<(), FindError> {
    let guard = reader.pin(); // no lock, no allocation
    for counter in guard.find_all(CONTRACT, CONTRACT_VERSION) {
        let step = counter.typed::<extern "C" fn(u32) -> u32>("step")?; // signature checked
        println!(
            "{when}: {:<12} step(10) = {}",
            bundle_of(&counter),
            step.call(10)
        );
    }
    Ok(())
}

/// An instance of `demo.counter` as `bundle` provides it.
fn instance_of(reader: &Reader<'_>, bundle: &str) -> Result<Instance, Box<dyn std::error::Error>> {
    let guard = reader.pin();
    let mut all = guard.find_all(CONTRACT, CONTRACT_VERSION);
    let counter = all
        .find(|c| bundle_of(c) == bundle)
        .ok_or("no such bundle")?;
    Ok(counter.create_instance()?)
}

/// The bundle that provides a contract.
fn bundle_of<'g>(contract: &ContractRef<'g>) -> &'g str {
    match contract.provider() {
        Provider::Bundle { name, .. } => name,
        Provider::Host => "host",
    }
}
