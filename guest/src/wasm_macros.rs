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
//! | `typed f(s: &str, b: &[u8]) -> String = g;` | `c@1.0.0/f:string(str,bytes)`: each view an `(i32 ptr, i32 len)` pair, the result one `i64` `ptr \| (len << 32)` the host gives back to `polyplug_free(ptr, len, 1)` |
//! | `instance typed f(x: u32) -> u32 = g;` | `c@1.0.0/f:u32(u32)`, `g(&mut S, x)` on the instance's state |
//! | `native ..;`, `stateless native ..;` | none: native functions take C structs by pointer |
//!
//! The contract name and version must be string literals, since they are
//! spelled into symbol names, and typed functions' types plain `&str`,
//! `&[u8]`, `String`, `Vec<u8>`, `u32`, `i32`, `u64`, `i64`, `f32` or
//! `f64`; both are checked at compile time. `&str` and `&[u8]`, `String`
//! and `Vec<u8>` are recognised by their tokens (`@typed`, `@params`), so
//! each view argument becomes two parameters of the export.

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

/// Signature names joined by commas, as a literal for `concat!`.
#[doc(hidden)]
#[macro_export]
macro_rules! __wasm_join {
    () => {
        ""
    };
    ($arg:expr) => {
        $arg
    };
    ($arg:expr, $($rest:expr),+) => {
        ::core::concat!($arg, ",", $crate::__wasm_join!($($rest),+))
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
    // A typed function: its result's spelling and type, then its
    // arguments one by one (`@params`), since `&str` and `&[u8]` are known
    // by their tokens and each becomes two parameters.
    (@entries $head:tt $st:ident instance typed $($rest:tt)*) => {
        $crate::__wasm_contract!(@typed $head $st [instance] $($rest)*);
    };
    (@entries $head:tt $st:ident typed $($rest:tt)*) => {
        $crate::__wasm_contract!(@typed $head $st [] $($rest)*);
    };
    (@typed $head:tt $st:ident $inst:tt
        $fname:ident $params:tt -> String = $f:expr; $($rest:tt)*) => {
        $crate::__wasm_contract!(@kind $head $st $inst $fname $params ["string"] [String] [$f]);
        $crate::__wasm_contract!(@entries $head $st $($rest)*);
    };
    (@typed $head:tt $st:ident $inst:tt
        $fname:ident $params:tt -> Vec<u8> = $f:expr; $($rest:tt)*) => {
        $crate::__wasm_contract!(@kind $head $st $inst $fname $params ["buf"] [Vec<u8>] [$f]);
        $crate::__wasm_contract!(@entries $head $st $($rest)*);
    };
    (@typed $head:tt $st:ident $inst:tt
        $fname:ident $params:tt -> $ret:ty = $f:expr; $($rest:tt)*) => {
        const _: () = $crate::__private::wasm::number::<$ret>(::core::stringify!($ret));
        $crate::__wasm_contract!(@kind $head $st $inst $fname $params [::core::stringify!($ret)] [$ret] [$f]);
        $crate::__wasm_contract!(@entries $head $st $($rest)*);
    };
    (@typed $head:tt $st:ident $inst:tt
        $fname:ident $params:tt = $f:expr; $($rest:tt)*) => {
        $crate::__wasm_contract!(@kind $head $st $inst $fname $params ["void"] [()] [$f]);
        $crate::__wasm_contract!(@entries $head $st $($rest)*);
    };
    (@kind $head:tt stateless [instance] $fname:ident $($rest:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "plugin!: `instance typed ",
            ::core::stringify!($fname),
            "` needs a stateful contract: begin it with a `state` line"
        ));
    };
    (@kind $head:tt $st:ident [$($inst:ident)?] $fname:ident ($($params:tt)*) $spell:tt $ret:tt $f:tt) => {
        $crate::__wasm_contract!(@params [$head [$($inst)?] $fname $spell $ret $f] [] [] [] [] $($params)*);
    };

    // `@params [what] [signature names] [parameters] [conversions] [call
    // arguments] rest`: a `&str` or `&[u8]` is an `(i32 ptr, i32 len)`
    // pair, made a view of the bytes the host copied in; a number is
    // itself, its spelling checked.
    (@params $what:tt [$($sig:expr,)*] [$($p:tt)*] [$($conv:tt)*] [$($call:ident,)*]
        $arg:ident : &str $(, $($rest:tt)*)?) => {
        $crate::__wasm_contract!(@params $what
            [$($sig,)* "str",]
            [$($p)* $arg: *const u8, __len: usize,]
            [$($conv)*
                // SAFETY: [G12] the host copied `__len` bytes to `$arg`,
                // memory from `polyplug_alloc`, and frees them only after
                // this call, which the view does not outlive.
                let $arg = unsafe {
                    $crate::__private::wasm::str_arg(
                        __POLYPLUG_NAME, __POLYPLUG_FN, ::core::stringify!($arg), $arg, __len,
                    )
                };
            ]
            [$($call,)* $arg,]
            $($($rest)*)?);
    };
    (@params $what:tt [$($sig:expr,)*] [$($p:tt)*] [$($conv:tt)*] [$($call:ident,)*]
        $arg:ident : &[u8] $(, $($rest:tt)*)?) => {
        $crate::__wasm_contract!(@params $what
            [$($sig,)* "bytes",]
            [$($p)* $arg: *const u8, __len: usize,]
            [$($conv)*
                // SAFETY: [G12] the host copied `__len` bytes to `$arg`,
                // memory from `polyplug_alloc`, and frees them only after
                // this call, which the view does not outlive.
                let $arg = unsafe {
                    $crate::__private::wasm::bytes_arg(
                        __POLYPLUG_NAME, __POLYPLUG_FN, ::core::stringify!($arg), $arg, __len,
                    )
                };
            ]
            [$($call,)* $arg,]
            $($($rest)*)?);
    };
    (@params $what:tt [$($sig:expr,)*] [$($p:tt)*] [$($conv:tt)*] [$($call:ident,)*]
        $arg:ident : $aty:ty $(, $($rest:tt)*)?) => {
        $crate::__wasm_contract!(@params $what
            [$($sig,)* ::core::stringify!($aty),]
            [$($p)* $arg: $aty,]
            [$($conv)*
                const _: () = $crate::__private::wasm::number::<$aty>(::core::stringify!($aty));
            ]
            [$($call,)* $arg,]
            $($($rest)*)?);
    };
    (@params [[$name:literal $version:literal] [$($inst:ident)?] $fname:ident [$spell:expr] [$ret:ty] [$f:expr]]
        [$($sig:expr,)*] [$($p:tt)*] [$($conv:tt)*] [$($call:ident,)*]) => {
        const _: () = {
            const _: () = $crate::__private::wasm::ret::<$ret>();
            #[unsafe(export_name = ::core::concat!(
                $name, "@", $version, "/", ::core::stringify!($fname), ":",
                $spell, "(", $crate::__wasm_join!($($sig),*), ")"
            ))]
            extern "C" fn __polyplug_typed($($p)*) -> <$ret as $crate::__private::wasm::WasmRet>::Abi {
                const __POLYPLUG_FN: &str = ::core::stringify!($fname);
                $($conv)*
                $crate::__wasm_contract!(@call [$($inst)?] [$ret] [$f] $($call),*)
            }
        };
    };
    (@call [] [$ret:ty] [$f:expr] $($call:ident),*) => {
        $crate::__private::wasm::typed_call(
            __POLYPLUG_NAME,
            __POLYPLUG_FN,
            move || -> $ret { ($f)($($call),*) },
        )
    };
    (@call [instance] [$ret:ty] [$f:expr] $($call:ident),*) => {
        $crate::__private::wasm::instance_call(
            &__POLYPLUG_STATE,
            __POLYPLUG_NAME,
            __POLYPLUG_FN,
            move |state: &mut __PolyplugState| -> $ret { ($f)(state, $($call),*) },
        )
    };
}
