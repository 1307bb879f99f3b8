//! [`plugin!`](crate::plugin) in a WebAssembly build: the same
//! declaration, expanded into the export names the wasm loader reads
//! (`docs/wasm-plugins.md`).
//!
//! | declaration | export |
//! |---|---|
//! | (always) | `polyplug_init`: installs the panic hook, runs `init = ..;` if given |
//! | `contract "c" "1.0.0" { state S = ctor; .. }` | `c@1.0.0/+instance`: makes the instance's `S` |
//! | `save = ..; restore = ..;` | none yet: the contract offers no state handover in WebAssembly |
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
    // A WebAssembly build exports no state handover yet: the contract is
    // stateful without one, and `Instance::upgrade` to it is refused at
    // its restore step. Naming the functions keeps them used.
    (@start $head:tt state $state:ty $(= $ctor:expr)?;
        save = $save:expr; restore = $restore:expr; $($rest:tt)*) => {
        const _: () = {
            let _ = $save;
            let _ = $restore;
        };
        $crate::__wasm_contract!(@start $head state $state $(= $ctor)?; $($rest)*);
    };
    (@start [$name:literal $version:literal] state $state:ty $(= $ctor:expr)?; $($rest:tt)*) => {
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
            $crate::__wasm_contract!(@entries [$name $version] stateful $($rest)*);
        };
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
