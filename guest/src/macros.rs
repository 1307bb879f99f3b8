//! [`plugin!`](crate::plugin): one declaration that exports a whole plugin.

/// Declares a plugin: exports `polyplug_abi_version` and `polyplug_entry`
/// and builds one static [`ContractInterface`](crate::abi::ContractInterface)
/// per contract. Use it once per library crate (`crate-type = ["cdylib"]`).
///
/// # Grammar
///
/// ```text
/// plugin! {
///     init = <expr>;                        // optional: an InitFn
///     contract <name> <version> {           // any number of these
///         state <Type> = <expr>;            // optional: makes the contract stateful
///         state <Type>;                     //   (this form uses Type::default())
///         save = <expr>; restore = <expr>;  // optional, after `state`: the state handover
///         native <ident>(<Args>) -> <Out> = <expr>;
///         stateless native <ident>(<Args>) -> <Out> = <expr>;
///         typed <ident>(<arg>: <T>, ...) -> <R> = <expr>;
///         typed <ident>(<arg>: <T>, ...) = <expr>;    // returns void
///         instance typed <ident>(<arg>: <T>, ...) -> <R> = <expr>;  // WebAssembly only
///     }
/// }
/// ```
///
/// - `<name>` and `<version>` are string literals or constants:
///   `"test.add" "1.0.0"`. The version is parsed at compile time; the
///   contract id is `ContractId::of(name, major)`.
/// - The `state` line, if any, comes first. Entries follow in any order;
///   native functions get indices in declaration order, and so do typed
///   ones.
/// - A **native** function is a Rust fn `fn(&Args) -> Result<Out, Error>`,
///   or, in a stateful contract, `fn(&mut State, &Args) -> Result<Out,
///   Error>`. `Args` and `Out` are `Copy`, `#[repr(C)]` plain data. The SDK
///   checks the pointers (null → `ERR_BAD_ARGUMENT`), copies the arguments
///   in, catches panics (→ `ERR_PANIC` with the panic message) and writes
///   `Err(e)` into the caller's `AbiError`.
/// - In a stateful contract, `native` functions need an instance (null →
///   `ERR_BAD_ARGUMENT`); `stateless native` ones take `fn(&Args)` and
///   accept any instance, null included.
/// - The state constructor is `fn(&Host) -> Result<State, Error>`;
///   `create_instance` boxes its result and `destroy_instance` drops it.
/// - `save = ..; restore = ..;` right after the `state` line opts the
///   contract into the state handover of `Instance::upgrade`: `save` is
///   `fn(&State) -> Result<Vec<u8>, Error>`, `restore` is `fn(&Host,
///   &[u8]) -> Result<State, Error>`. A host that reloads the plugin moves
///   a live instance to the new version: the old version's `save` writes
///   the bytes, the new version's `restore` reads them. The bytes are the
///   plugin's own format (polyplug never reads them), so the new version
///   may be written in another language, as long as it reads that format.
///   An error from either leaves the old instance serving.
/// - A **typed** function is a plain Rust fn with the declared arguments;
///   the SDK exports an `extern "C"` wrapper with the signature string
///   derived from the types (`u32(u32,u32)`, `string(str)`). The types
///   ([`TypedArg`](crate::TypedArg), [`TypedRet`](crate::TypedRet)):
///   the numbers `u8` … `f64`; arguments `&str` (`str`) and `&[u8]`
///   (`bytes`), views the caller lends for the call; results `String`
///   (`string`) and `Vec<u8>` (`buf`), copied into memory from the host's
///   `alloc(len, 1)` and handed over to the caller, and `()` (`void`).
///   Called plainly (the `extern "C"` pointer, as a host's `Typed` call
///   does), a typed function cannot report errors: a panic is logged at
///   `LOG_ERROR` (naming contract and function) and the wrapper returns the
///   type's default (0, or the empty string or buffer `{NULL, 0}`). Called
///   packed (`TypedEntry::packed`, as the runtime's `Contracts::call`
///   does), it has an error channel: a panic is `ERR_PANIC` with the panic
///   message, and nothing is written to the result.
/// - A `str` view that is **not UTF-8** (a C host may pass any bytes; a
///   Rust host's typed API only passes `&str`), or a null view with a
///   length, is refused the same way: the function is not called, and the
///   refusal, naming the argument, is logged with the default returned, or
///   is `ERR_BAD_ARGUMENT` on a packed call. A result the host cannot
///   allocate is the empty one, or `ERR_OUT_OF_MEMORY` on a packed call.
///   Nothing is read outside the view and no `&str` is ever made from
///   bytes that are not UTF-8. A function that must see any bytes takes
///   `&[u8]` (`bytes`). An empty view reads nothing, whatever its pointer.
/// - **In a WebAssembly build** (`target_family = "wasm"`) the same
///   declaration exports what the wasm loader reads (`docs/wasm-plugins.md`):
///   `polyplug_init` (the panic hook, then `init`), each typed function as
///   `<name>@<version>/<fn>:<signature>`, and `<name>@<version>/+instance`
///   for a stateful contract, whose state lives in the instance's own wasm
///   memory. `native` functions are not exported. `instance typed`
///   functions, `fn(&mut State, args..) -> R`, run on that state; without
///   an instance they trap. The name and version must be string literals,
///   and typed functions' types `&str`, `&[u8]`, `String`, `Vec<u8>`,
///   `u32`, `i32`, `u64`, `i64`, `f32` or `f64` written as such; both are
///   checked at compile time. A `str` or `bytes` argument is the
///   `(i32 ptr, i32 len)` of bytes the host copied in; a `String` or
///   `Vec<u8>` result is handed out as one `i64` `ptr | (len << 32)`; a
///   `str` argument that is not UTF-8 is logged and traps. A native build
///   refuses `instance typed` with a compile error.
///
/// # Example
///
/// ```
/// use polyplug_guest::{Error, Host};
/// use polyplug_guest::abi::{ERR_INVALID, LOG_INFO};
///
/// #[repr(C)]
/// #[derive(Clone, Copy)]
/// pub struct AddArgs {
///     pub a: u32,
///     pub b: u32,
/// }
///
/// fn add(args: &AddArgs) -> Result<u32, Error> {
///     Ok(args.a.wrapping_add(args.b))
/// }
///
/// fn add_typed(a: u32, b: u32) -> u32 {
///     a.wrapping_add(b)
/// }
///
/// #[derive(Default)]
/// pub struct Counter {
///     calls: u32,
/// }
///
/// fn bump(counter: &mut Counter, _args: &AddArgs) -> Result<u32, Error> {
///     counter.calls += 1;
///     Ok(counter.calls)
/// }
///
/// // The state handover: bytes in this plugin's own format.
/// fn save(counter: &Counter) -> Result<Vec<u8>, Error> {
///     Ok(counter.calls.to_le_bytes().to_vec())
/// }
///
/// fn restore(_host: &Host, bytes: &[u8]) -> Result<Counter, Error> {
///     let calls = bytes.try_into().map(u32::from_le_bytes);
///     let calls = calls.map_err(|_| Error::new(ERR_INVALID, format!("{} bytes, not 4", bytes.len())))?;
///     Ok(Counter { calls })
/// }
///
/// fn init(host: &Host) -> Result<(), Error> {
///     host.log(LOG_INFO, "example plugin loaded");
///     Ok(())
/// }
///
/// polyplug_guest::plugin! {
///     init = init;
///     contract "test.add" "1.0.0" {
///         native add(AddArgs) -> u32 = add;
///         typed add(a: u32, b: u32) -> u32 = add_typed;
///         typed inc(x: u32) -> u32 = |x: u32| x.wrapping_add(1);
///         typed shout(text: &str) -> String = |text: &str| text.to_uppercase();
///         typed sum(bytes: &[u8]) -> u64 = |b: &[u8]| b.iter().map(|&x| u64::from(x)).sum();
///         typed reversed(bytes: &[u8]) -> Vec<u8> = |b: &[u8]| b.iter().rev().copied().collect();
///     }
///     contract "test.counter" "1.2.0" {
///         state Counter;
///         save = save; // optional, both or neither: Instance::upgrade
///         restore = restore;
///         native bump(AddArgs) -> u32 = bump;
///         stateless native add(AddArgs) -> u32 = add;
///     }
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! plugin {
    ($($declaration:tt)*) => {
        #[cfg(not(target_family = "wasm"))]
        $crate::__native_plugin! { $($declaration)* }
        #[cfg(target_family = "wasm")]
        $crate::__wasm_plugin! { $($declaration)* }
    };
}

/// [`plugin!`] in a native build: the ABI version, the entry point and the
/// static tables.
#[doc(hidden)]
#[macro_export]
macro_rules! __native_plugin {
    (
        $(init = $init:expr;)?
        $(contract $name:tt $version:tt { $($body:tt)* })*
    ) => {
        /// The ABI version this plugin was built for. The host reads it
        /// before it calls anything else.
        #[unsafe(no_mangle)]
        pub static polyplug_abi_version: u32 = $crate::abi::ABI_VERSION;

        /// The plugin's entry point: stores the host table, runs the init
        /// function, then registers every contract.
        ///
        /// # Safety
        ///
        /// Only the host calls it, as the ABI's `EntryFn` describes.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn polyplug_entry(
            host: *const $crate::abi::HostApi,
            bundle: *const $crate::abi::BundleContext,
            err: *mut $crate::abi::AbiError,
        ) -> u32 {
            static __POLYPLUG_CONTRACTS: &[&$crate::StaticTable<$crate::abi::ContractInterface>] = &[
                $($crate::__contract!(@start [$name $version] $($body)*),)*
            ];
            const __POLYPLUG_INIT: ::core::option::Option<$crate::InitFn> =
                $crate::__init!($($init)?);
            // SAFETY: [G1][G2] the arguments are the host's, passed on
            // unchanged; the tables are static ([G6]).
            unsafe {
                $crate::__private::entry(host, bundle, err, __POLYPLUG_INIT, __POLYPLUG_CONTRACTS)
            }
        }
    };
}

/// `Some(init)` or `None`.
#[doc(hidden)]
#[macro_export]
macro_rules! __init {
    () => {
        ::core::option::Option::None
    };
    ($init:expr) => {
        ::core::option::Option::Some($init as $crate::InitFn)
    };
}

/// Counts token trees.
#[doc(hidden)]
#[macro_export]
macro_rules! __count {
    () => {
        0usize
    };
    ($head:tt $($tail:tt)*) => {
        1usize + $crate::__count!($($tail)*)
    };
}

/// The state constructor: the given one, or `Default`.
#[doc(hidden)]
#[macro_export]
macro_rules! __state_ctor {
    ($state:ty,) => {
        $crate::__private::default_state::<$state>
    };
    ($state:ty, $ctor:expr) => {
        $ctor
    };
}

/// One contract: parses its body into state, native and typed entries,
/// then expands to a block that declares the statics and evaluates to a
/// reference to the interface.
#[doc(hidden)]
#[macro_export]
macro_rules! __contract {
    (@start $head:tt state $state:ty $(= $ctor:expr)?;
        save = $save:expr; restore = $restore:expr; $($rest:tt)*) => {
        $crate::__contract!(@parse $head [stateful [$state] [$($ctor)?] [$save, $restore]] [] [] $($rest)*)
    };
    (@start $head:tt state $state:ty $(= $ctor:expr)?; $($rest:tt)*) => {
        $crate::__contract!(@parse $head [stateful [$state] [$($ctor)?] []] [] [] $($rest)*)
    };
    (@start $head:tt $($rest:tt)*) => {
        $crate::__contract!(@parse $head [stateless] [] [] $($rest)*)
    };

    (@parse $head:tt $st:tt [$($nat:tt)*] [$($typ:tt)*]
        native $fname:ident ($args:ty) -> $out:ty = $f:expr; $($rest:tt)*) => {
        $crate::__contract!(@parse $head $st
            [$($nat)* [instance $fname [$args] [$out] [$f]]] [$($typ)*] $($rest)*)
    };
    (@parse $head:tt $st:tt [$($nat:tt)*] [$($typ:tt)*]
        stateless native $fname:ident ($args:ty) -> $out:ty = $f:expr; $($rest:tt)*) => {
        $crate::__contract!(@parse $head $st
            [$($nat)* [free $fname [$args] [$out] [$f]]] [$($typ)*] $($rest)*)
    };
    (@parse $head:tt $st:tt [$($nat:tt)*] [$($typ:tt)*]
        instance typed $fname:ident $($rest:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "plugin!: `instance typed ",
            ::core::stringify!($fname),
            "` exists in WebAssembly builds only; a native plugin works on its instances with `native` functions"
        ))
    };
    (@parse $head:tt $st:tt [$($nat:tt)*] [$($typ:tt)*]
        typed $fname:ident ($($arg:ident : $aty:ty),* $(,)?) $(-> $ret:ty)? = $f:expr;
        $($rest:tt)*) => {
        $crate::__contract!(@parse $head $st
            [$($nat)*] [$($typ)* [$fname [$([$arg] [$aty])*] [$($ret)?] [$f]]] $($rest)*)
    };

    (@parse [$name:tt $version:tt] $st:tt [$($nat:tt)*] [$($typ:tt)*]) => {{
        const __POLYPLUG_NAME: &str = $name;
        const __POLYPLUG_VERSION: $crate::abi::Version = $crate::__private::parse_version($version);
        const __POLYPLUG_NATIVE_COUNT: usize = $crate::__count!($($nat)*);
        const __POLYPLUG_TYPED_COUNT: usize = $crate::__count!($($typ)*);
        $crate::__contract!(@state $st);
        static __POLYPLUG_NATIVE: $crate::StaticTable<
            [$crate::abi::NativeEntry; __POLYPLUG_NATIVE_COUNT],
        > = $crate::StaticTable::new([$($crate::__contract!(@native $st $nat),)*]);
        static __POLYPLUG_TYPED: $crate::StaticTable<
            [$crate::abi::TypedEntry; __POLYPLUG_TYPED_COUNT],
        > = $crate::StaticTable::new([$($crate::__contract!(@typed $typ),)*]);
        static __POLYPLUG_INTERFACE: $crate::StaticTable<$crate::abi::ContractInterface> =
            $crate::StaticTable::new($crate::abi::ContractInterface {
                id: $crate::abi::ContractId::of(__POLYPLUG_NAME, __POLYPLUG_VERSION.major),
                name: $crate::abi::StrView::from_static(__POLYPLUG_NAME),
                version: __POLYPLUG_VERSION,
                native_count: $crate::__private::count_u32(__POLYPLUG_NATIVE_COUNT),
                native: __POLYPLUG_NATIVE.as_ptr(),
                typed_count: $crate::__private::count_u32(__POLYPLUG_TYPED_COUNT),
                typed: __POLYPLUG_TYPED.as_ptr(),
                create_instance: __POLYPLUG_CREATE,
                destroy_instance: __POLYPLUG_DESTROY,
                context_count: 0,
                context: ::core::ptr::null(),
                instance_ctx: ::core::ptr::null_mut(),
                create_context_instance: ::core::option::Option::None,
                destroy_context_instance: ::core::option::Option::None,
                save_instance: __POLYPLUG_SAVE,
                restore_instance: __POLYPLUG_RESTORE,
                save_context_instance: ::core::option::Option::None,
                restore_context_instance: ::core::option::Option::None,
            });
        &__POLYPLUG_INTERFACE
    }};

    (@state [stateless]) => {
        const __POLYPLUG_CREATE: ::core::option::Option<$crate::abi::CreateInstanceFn> =
            ::core::option::Option::None;
        const __POLYPLUG_DESTROY: ::core::option::Option<$crate::abi::DestroyInstanceFn> =
            ::core::option::Option::None;
        $crate::__contract!(@handover []);
    };
    (@state [stateful [$state:ty] [$($ctor:expr)?] [$($handover:tt)*]]) => {
        type __PolyplugState = $state;
        struct __PolyplugStateImpl;
        impl $crate::__private::StateImpl for __PolyplugStateImpl {
            type State = __PolyplugState;
            const CONTRACT: &'static str = __POLYPLUG_NAME;
            fn create(
                host: &$crate::Host,
            ) -> ::core::result::Result<__PolyplugState, $crate::Error> {
                ($crate::__state_ctor!(__PolyplugState, $($ctor)?))(host)
            }
        }
        const __POLYPLUG_CREATE: ::core::option::Option<$crate::abi::CreateInstanceFn> =
            ::core::option::Option::Some(
                $crate::__private::create_instance::<__PolyplugStateImpl>
                    as $crate::abi::CreateInstanceFn,
            );
        const __POLYPLUG_DESTROY: ::core::option::Option<$crate::abi::DestroyInstanceFn> =
            ::core::option::Option::Some(
                $crate::__private::destroy_instance::<__PolyplugStateImpl>
                    as $crate::abi::DestroyInstanceFn,
            );
        $crate::__contract!(@handover [$($handover)*]);
    };

    // The state handover: none, or `save = ..; restore = ..;`.
    (@handover []) => {
        const __POLYPLUG_SAVE: ::core::option::Option<$crate::abi::SaveInstanceFn> =
            ::core::option::Option::None;
        const __POLYPLUG_RESTORE: ::core::option::Option<$crate::abi::RestoreInstanceFn> =
            ::core::option::Option::None;
    };
    (@handover [$save:expr, $restore:expr]) => {
        impl $crate::__private::HandoverImpl for __PolyplugStateImpl {
            fn save(
                state: &__PolyplugState,
            ) -> ::core::result::Result<::std::vec::Vec<u8>, $crate::Error> {
                ($save)(state)
            }
            fn restore(
                host: &$crate::Host,
                bytes: &[u8],
            ) -> ::core::result::Result<__PolyplugState, $crate::Error> {
                ($restore)(host, bytes)
            }
        }
        const __POLYPLUG_SAVE: ::core::option::Option<$crate::abi::SaveInstanceFn> =
            ::core::option::Option::Some(
                $crate::__private::save_instance::<__PolyplugStateImpl>
                    as $crate::abi::SaveInstanceFn,
            );
        const __POLYPLUG_RESTORE: ::core::option::Option<$crate::abi::RestoreInstanceFn> =
            ::core::option::Option::Some(
                $crate::__private::restore_instance::<__PolyplugStateImpl>
                    as $crate::abi::RestoreInstanceFn,
            );
    };

    // `native` in a stateless contract, and `stateless native` anywhere.
    (@native [stateless] [instance $($entry:tt)*]) => {
        $crate::__contract!(@native_free $($entry)*)
    };
    (@native $st:tt [free $($entry:tt)*]) => {
        $crate::__contract!(@native_free $($entry)*)
    };
    (@native [stateful $($st:tt)*] [instance $($entry:tt)*]) => {
        $crate::__contract!(@native_stateful $($entry)*)
    };

    (@native_free $fname:ident [$args:ty] [$out:ty] [$f:expr]) => {{
        struct __PolyplugNative;
        impl $crate::__private::FreeNative for __PolyplugNative {
            type Args = $args;
            type Out = $out;
            const CONTRACT: &'static str = __POLYPLUG_NAME;
            const NAME: &'static str = ::core::stringify!($fname);
            fn call(args: &$args) -> ::core::result::Result<$out, $crate::Error> {
                ($f)(args)
            }
        }
        $crate::abi::NativeEntry {
            name: $crate::abi::StrView::from_static(::core::stringify!($fname)),
            func: ::core::option::Option::Some(
                $crate::__private::native_free::<__PolyplugNative> as $crate::abi::NativeFn,
            ),
        }
    }};
    (@native_stateful $fname:ident [$args:ty] [$out:ty] [$f:expr]) => {{
        struct __PolyplugNative;
        impl $crate::__private::StatefulNative for __PolyplugNative {
            type State = __PolyplugState;
            type Args = $args;
            type Out = $out;
            const CONTRACT: &'static str = __POLYPLUG_NAME;
            const NAME: &'static str = ::core::stringify!($fname);
            fn call(
                state: &mut __PolyplugState,
                args: &$args,
            ) -> ::core::result::Result<$out, $crate::Error> {
                ($f)(state, args)
            }
        }
        $crate::abi::NativeEntry {
            name: $crate::abi::StrView::from_static(::core::stringify!($fname)),
            func: ::core::option::Option::Some(
                $crate::__private::native_stateful::<__PolyplugNative> as $crate::abi::NativeFn,
            ),
        }
    }};

    (@typed [$fname:ident [$([$arg:ident] [$aty:ty])*] [$($ret:ty)?] [$f:expr]]) => {{
        /// The function's body: the arguments as the ABI passes them,
        /// converted, then the plugin's function; its result handed over.
        fn __polyplug_body(
            $($arg: <$aty as $crate::TypedArg>::Abi),*
        ) -> ::core::result::Result<
            <$crate::__ret!($($ret)?) as $crate::TypedRet>::Abi,
            $crate::Error,
        > {
            $crate::__private::typed_result::<$crate::__ret!($($ret)?)>(
                __POLYPLUG_NAME,
                ::core::stringify!($fname),
                move || {
                    $(
                        // SAFETY: [G11] the caller lends a view argument
                        // for this call, which the closure does not outlive.
                        let $arg: $aty = match unsafe { <$aty as $crate::TypedArg>::from_abi($arg) } {
                            ::core::result::Result::Ok(value) => value,
                            ::core::result::Result::Err(why) => {
                                return ::core::result::Result::Err(
                                    $crate::__private::Refusal::Arg(::core::stringify!($arg), why),
                                );
                            }
                        };
                    )*
                    ::core::result::Result::Ok(($f)($($arg),*))
                },
            )
        }
        extern "C" fn __polyplug_typed(
            $($arg: <$aty as $crate::TypedArg>::Abi),*
        ) -> <$crate::__ret!($($ret)?) as $crate::TypedRet>::Abi {
            $crate::__private::typed_or_fallback::<$crate::__ret!($($ret)?)>(
                __polyplug_body($($arg),*),
            )
        }
        unsafe extern "C" fn __polyplug_packed(
            _ctx: *mut ::core::ffi::c_void,
            _instance: *mut ::core::ffi::c_void,
            args: *const ::core::ffi::c_void,
            out: *mut ::core::ffi::c_void,
            err: *mut $crate::abi::AbiError,
        ) -> u32 {
            // SAFETY: [G9][G11] the host passes this entry's packed
            // arguments, lent for the call, one writable result and a null
            // or writable `err`.
            unsafe {
                $crate::__private::packed_call::<
                    extern "C" fn($(<$aty as $crate::TypedArg>::Abi),*)
                        -> <$crate::__ret!($($ret)?) as $crate::TypedRet>::Abi,
                >(args, out, err, |($($arg,)*)| __polyplug_body($($arg),*))
            }
        }
        const __POLYPLUG_RET: &str = <$crate::__ret!($($ret)?) as $crate::TypedRet>::C_NAME;
        const __POLYPLUG_ARGS: &[&str] = &[$(<$aty as $crate::TypedArg>::C_NAME),*];
        const __POLYPLUG_LEN: usize =
            $crate::__private::signature_len(__POLYPLUG_RET, __POLYPLUG_ARGS);
        const __POLYPLUG_BYTES: [u8; __POLYPLUG_LEN] =
            $crate::__private::signature_bytes::<__POLYPLUG_LEN>(__POLYPLUG_RET, __POLYPLUG_ARGS);
        $crate::abi::TypedEntry {
            name: $crate::abi::StrView::from_static(::core::stringify!($fname)),
            signature: $crate::abi::StrView::from_static(
                $crate::__private::signature_str(&__POLYPLUG_BYTES),
            ),
            func: ::core::option::Option::Some($crate::__private::erase_packed(
                __polyplug_typed
                    as extern "C" fn($(<$aty as $crate::TypedArg>::Abi),*)
                        -> <$crate::__ret!($($ret)?) as $crate::TypedRet>::Abi,
            )),
            packed: ::core::option::Option::Some(__polyplug_packed as $crate::abi::ContextFn),
        }
    }};
}
