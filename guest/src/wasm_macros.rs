//! [`plugin!`](crate::plugin) in a WebAssembly build: the same
//! declaration, expanded into the export names the wasm loader reads
//! (`docs/wasm-plugins.md`).
//!
//! | declaration | export |
//! |---|---|
//! | (always) | `polyplug_init`: installs the panic hook, runs `init = ..;` if given |
//! | `contract "c" "1.0.0" { state S = ctor; .. }` | `c@1.0.0/+instance`: makes the instance's `S` |
//! | (always) | `polyplug_alloc`, `polyplug_free`: the guest's allocator, for bytes the host copies in and out |
//! | `save = ..; restore = ..;` | `c@1.0.0/+save`, `c@1.0.0/+restore`: the state handover of `Instance::upgrade` |
//! | `typed f(x: u32) -> u32 = g;` | `c@1.0.0/f:u32(u32)` |
//! | `instance typed f(x: u32) -> u32 = g;` | `c@1.0.0/f:u32(u32)`, `g(&mut S, x)` on the instance's state |
//! | `native ..;`, `stateless native ..;` | none: native functions take C structs by pointer |
//!
//! The contract name and version must be string literals, since they are
//! spelled into symbol names, and typed functions' types plain `u32`,
//! `i32`, `u64`, `i64`, `f32` or `f64`; both are checked at compile time.

/// [`plugin!`](crate::plugin) in a WebAssembly build.
#[doc(hidden)]
#[macro_export]
macro_rules! __wasm_plugin {
    (
        $(init = $init:expr;)?
        $(contract $name:tt $version:tt { $($body:tt)* })*
    ) => {
        const _: () = {
            /// Runs on every new wasm instance: the panic hook, then the
            /// plugin's init function.
            #[unsafe(export_name = "polyplug_init")]
            extern "C" fn __polyplug_init() -> i32 {
                $crate::__private::wasm::init($crate::__init!($($init)?))
            }
            /// Memory for bytes the host copies in.
            #[unsafe(export_name = "polyplug_alloc")]
            extern "C" fn __polyplug_alloc(size: usize, align: usize) -> *mut u8 {
                $crate::__private::wasm::alloc(size, align)
            }
            /// Gives back what the host copied in or out.
            #[unsafe(export_name = "polyplug_free")]
            extern "C" fn __polyplug_free(ptr: *mut u8, size: usize, align: usize) {
                // SAFETY: [G12] the host gives back only what
                // `polyplug_alloc` returned for it, or what a `+save`
                // handed out, with its size and alignment, once.
                unsafe { $crate::__private::wasm::free(ptr, size, align) }
            }
        };
        $($crate::__wasm_contract!(@start [$name $version] $($body)*);)*
    };
}

/// `ret(arg,arg)` from the written type names, as a literal for
/// `concat!`.
#[doc(hidden)]
#[macro_export]
macro_rules! __wasm_signature {
    ([] $($arg:ty),*) => {
        ::core::concat!("void(", $crate::__wasm_join!($($arg),*), ")")
    };
    ([$ret:ty] $($arg:ty),*) => {
        ::core::concat!(::core::stringify!($ret), "(", $crate::__wasm_join!($($arg),*), ")")
    };
}

/// Type names joined by commas.
#[doc(hidden)]
#[macro_export]
macro_rules! __wasm_join {
    () => {
        ""
    };
    ($arg:ty) => {
        ::core::stringify!($arg)
    };
    ($arg:ty, $($rest:ty),+) => {
        ::core::concat!(::core::stringify!($arg), ",", $crate::__wasm_join!($($rest),+))
    };
}

/// One contract of a WebAssembly build.
#[doc(hidden)]
#[macro_export]
macro_rules! __wasm_contract {
    // The state handover: `+save` and `+restore` beside `+instance`.
    (@start $head:tt state $state:ty $(= $ctor:expr)?;
        save = $save:expr; restore = $restore:expr; $($rest:tt)*) => {
        $crate::__wasm_contract!(@stateful $head [$state] [$($ctor)?] [$save, $restore] $($rest)*);
    };
    (@start $head:tt state $state:ty $(= $ctor:expr)?; $($rest:tt)*) => {
        $crate::__wasm_contract!(@stateful $head [$state] [$($ctor)?] [] $($rest)*);
    };
    (@handover [$name:literal $version:literal]) => {};
    (@handover [$name:literal $version:literal] $save:expr, $restore:expr) => {
        /// The instance's state, for a newer version to restore.
        #[unsafe(export_name = ::core::concat!($name, "@", $version, "/+save"))]
        extern "C" fn __polyplug_save() -> i64 {
            $crate::__private::wasm::save_instance(&__POLYPLUG_STATE, __POLYPLUG_NAME, $save)
        }
        /// Makes a new instance's state from an older version's save.
        #[unsafe(export_name = ::core::concat!($name, "@", $version, "/+restore"))]
        extern "C" fn __polyplug_restore(ptr: *const u8, len: usize) -> i32 {
            // SAFETY: [G12] the host copied `len` bytes to `ptr`, memory
            // from `polyplug_alloc`, for this call.
            unsafe {
                $crate::__private::wasm::restore_instance(
                    &__POLYPLUG_STATE,
                    __POLYPLUG_NAME,
                    $restore,
                    ptr,
                    len,
                )
            }
        }
    };
    (@stateful [$name:literal $version:literal] [$state:ty] [$($ctor:expr)?] [$($handover:tt)*] $($rest:tt)*) => {
        const _: () = {
            const __POLYPLUG_NAME: &str = $name;
            const _: $crate::abi::Version = $crate::__private::parse_version($version);
            type __PolyplugState = $state;
            ::std::thread_local! {
                static __POLYPLUG_STATE: $crate::__private::wasm::StateCell<__PolyplugState> =
                    const { ::core::cell::RefCell::new(::core::option::Option::None) };
            }
            /// Makes the state of a new instance, in its own wasm instance.
            #[unsafe(export_name = ::core::concat!($name, "@", $version, "/+instance"))]
            extern "C" fn __polyplug_instance() -> i32 {
                $crate::__private::wasm::create_instance(
                    &__POLYPLUG_STATE,
                    __POLYPLUG_NAME,
                    $crate::__state_ctor!(__PolyplugState, $($ctor)?),
                )
            }
            $crate::__wasm_contract!(@handover [$name $version] $($handover)*);
            $crate::__wasm_contract!(@entries [$name $version] stateful $($rest)*);
        };
    };
    (@stateful [$name:tt $version:tt] $($rest:tt)*) => {
        ::core::compile_error!(
            "plugin!: in a WebAssembly build, a contract's name and version are string literals (contract \"demo.counter\" \"1.0.0\"): they are spelled into its export names"
        );
    };
    (@start [$name:literal $version:literal] $($rest:tt)*) => {
        const _: () = {
            const __POLYPLUG_NAME: &str = $name;
            const _: $crate::abi::Version = $crate::__private::parse_version($version);
            $crate::__wasm_contract!(@entries [$name $version] stateless $($rest)*);
        };
    };
    (@start [$name:tt $version:tt] $($rest:tt)*) => {
        ::core::compile_error!(
            "plugin!: in a WebAssembly build, a contract's name and version are string literals (contract \"demo.counter\" \"1.0.0\"): they are spelled into its export names"
        );
    };

    (@entries $head:tt $st:ident) => {};
    // Native functions take C structs by pointer; a wasm module exports
    // none. Naming the function keeps it used.
    (@entries $head:tt $st:ident
        $(stateless)? native $fname:ident ($args:ty) -> $out:ty = $f:expr; $($rest:tt)*) => {
        const _: () = {
            let _ = $f;
        };
        $crate::__wasm_contract!(@entries $head $st $($rest)*);
    };
    (@entries [$name:literal $version:literal] $st:ident
        typed $fname:ident ($($arg:ident : $aty:ty),* $(,)?) $(-> $ret:ty)? = $f:expr;
        $($rest:tt)*) => {
        $crate::__wasm_contract!(@check [$($ret)?] $($aty),*);
        const _: () = {
            #[unsafe(export_name = ::core::concat!(
                $name, "@", $version, "/", ::core::stringify!($fname), ":",
                $crate::__wasm_signature!([$($ret)?] $($aty),*)
            ))]
            extern "C" fn __polyplug_typed($($arg: $aty),*) -> $crate::__ret!($($ret)?) {
                $crate::__private::wasm::typed_call(
                    __POLYPLUG_NAME,
                    ::core::stringify!($fname),
                    move || ($f)($($arg),*),
                )
            }
        };
        $crate::__wasm_contract!(@entries [$name $version] $st $($rest)*);
    };
    (@entries [$name:literal $version:literal] stateful
        instance typed $fname:ident ($($arg:ident : $aty:ty),* $(,)?) $(-> $ret:ty)? = $f:expr;
        $($rest:tt)*) => {
        $crate::__wasm_contract!(@check [$($ret)?] $($aty),*);
        const _: () = {
            #[unsafe(export_name = ::core::concat!(
                $name, "@", $version, "/", ::core::stringify!($fname), ":",
                $crate::__wasm_signature!([$($ret)?] $($aty),*)
            ))]
            extern "C" fn __polyplug_typed($($arg: $aty),*) -> $crate::__ret!($($ret)?) {
                $crate::__private::wasm::instance_call(
                    &__POLYPLUG_STATE,
                    __POLYPLUG_NAME,
                    ::core::stringify!($fname),
                    move |state: &mut __PolyplugState| ($f)(state, $($arg),*),
                )
            }
        };
        $crate::__wasm_contract!(@entries [$name $version] stateful $($rest)*);
    };
    (@entries $head:tt stateless instance typed $fname:ident $($rest:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "plugin!: `instance typed ",
            ::core::stringify!($fname),
            "` needs a stateful contract: begin it with a `state` line"
        ));
    };

    // Each type crosses into wasm, and the spelled signature (the export
    // name's) is the derived one.
    (@check [$($ret:ty)?] $($aty:ty),*) => {
        const _: () = {
            $($crate::__private::wasm::arg::<$aty>();)*
            $crate::__private::wasm::ret::<$crate::__ret!($($ret)?)>();
            $crate::__private::wasm::check_signature(
                $crate::__wasm_signature!([$($ret)?] $($aty),*),
                $crate::signature!(fn($($aty),*) $(-> $ret)?),
            );
        };
    };
}
