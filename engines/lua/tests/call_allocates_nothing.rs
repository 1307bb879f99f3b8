//! A typed call into a Lua function allocates nothing: a counting global
//! allocator watches this thread while it calls a resolved `Typed` again
//! and again, in the state its first call made. mlua gives Lua its memory from the Rust allocator, so a Lua allocation is counted too.
//! Setup (the runtime, the load, the thread's state) may allocate; the
//! calls may not.
#![cfg(not(any(loom, shuttle, miri)))]
#![expect(
    clippy::unwrap_used,
    reason = "test support: a failed step fails the test"
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use polyplug::{Runtime, Version};
use polyplug_lua::{LuaConfig, LuaLoader};

/// The system allocator, counting the allocations of threads that ask.
struct Counting;

thread_local! {
    /// Whether this thread's allocations are being counted.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// This thread's allocations while counting.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn note_allocation() {
    // `try_with`: allocations during thread-local teardown are not counted.
    let _ = COUNTING.try_with(|counting| {
        if counting.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: [R9] every method forwards to `System` with the caller's
// arguments unchanged; counting touches only const-initialized thread-locals,
// which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: [R9] forwarded: the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: [R9] forwarded: the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: [R9] forwarded: the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: [R9] forwarded: the caller upholds `dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations made by `f` on this thread.
fn allocations_in(f: impl FnOnce()) -> u64 {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn the_counter_sees_an_allocation() {
    let n = allocations_in(|| drop(std::hint::black_box(Box::new(7u64))));
    assert_eq!(n, 1);
}

/// A bundle directory holding `inc`, removed on drop.
struct Bundle(std::path::PathBuf);

impl Bundle {
    fn write() -> Bundle {
        let dir =
            std::env::temp_dir().join(format!("polyplug-lua-allocations-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("inc.lua"), SCRIPT).unwrap();
        std::fs::write(
            dir.join("manifest.toml"),
            format!(
                "[bundle]\nname = \"inc\"\nversion = \"1.0.0\"\nloader = \"lua\"\n\n\
                 [library]\n{} = \"inc.lua\"\n\n\
                 [[provides]]\nname = \"test.inc\"\nversion = \"1.0.0\"\n",
                std::env::consts::OS,
            ),
        )
        .unwrap();
        Bundle(dir)
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const SCRIPT: &str = r#"return { contracts = { { name = "test.inc", version = "1.0.0",
    functions = { inc = { sig = "u32(u32)", fn = function(x) return x + 1 end } } } } }
"#;

#[test]
fn a_typed_call_allocates_nothing() {
    let bundle = Bundle::write();
    let runtime = Runtime::builder()
        .loader(LuaLoader::new(LuaConfig::default()))
        .build()
        .unwrap();
    runtime.load_bundle(&bundle.0).unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let inc = guard
        .find("test.inc", Version::new(1, 0, 0))
        .unwrap()
        .typed::<extern "C" fn(u32) -> u32>("inc")
        .unwrap();
    // The first calls make this thread's state, and run the engine's
    // instruction meter once, which may allocate once.
    let mut x = 0;
    for _ in 0..10_000 {
        x = inc.try_call(x).unwrap();
    }
    assert_eq!(x, 10_000);
    x = 0;
    let n = allocations_in(|| {
        for _ in 0..10_000 {
            x = inc.try_call(x).unwrap();
        }
    });
    assert_eq!(x, 10_000);
    assert_eq!(n, 0, "allocations in 10,000 calls");
}
