//! Calling typed functions whose contract the command does not know.
//!
//! A typed function is a plain C function pointer with a signature string
//! (`u32(u32,u32)`); the runtime hands it out only as the Rust type that
//! signature names (\[R6\] in SAFETY.md), so calling it is safe for any
//! argument values. `polyplug stress` calls every typed function whose
//! signature is in [`CALLERS`]: integers in and out, up to two arguments.
//! Native functions take argument structs that only their contract
//! documents, so nothing here calls them.

use polyplug::{ContractRef, FindError};

/// Resolves typed function `name` of a contract as one fixed signature and
/// calls it with arguments made from `seed`.
pub(crate) type Caller = fn(&ContractRef<'_>, &str, u64) -> Result<(), FindError>;

/// An integer argument from `seed`: `seed % 100`, which fits every integer
/// type.
fn arg<T: TryFrom<u64> + Default>(seed: u64) -> T {
    T::try_from(seed % 100).unwrap_or_default()
}

macro_rules! callers {
    ($($t:ty),* $(,)?) => {
        &[
            ("void()", |c: &ContractRef<'_>, name: &str, _seed: u64| {
                c.typed::<extern "C" fn()>(name)?.call();
                Ok(())
            }),
            $(
                (concat!(stringify!($t), "()"), |c: &ContractRef<'_>, name: &str, _seed: u64| {
                    std::hint::black_box(c.typed::<extern "C" fn() -> $t>(name)?.call());
                    Ok(())
                }),
                (concat!(stringify!($t), "(", stringify!($t), ")"),
                 |c: &ContractRef<'_>, name: &str, seed: u64| {
                    std::hint::black_box(
                        c.typed::<extern "C" fn($t) -> $t>(name)?.call(arg(seed)),
                    );
                    Ok(())
                }),
                (concat!(stringify!($t), "(", stringify!($t), ",", stringify!($t), ")"),
                 |c: &ContractRef<'_>, name: &str, seed: u64| {
                    std::hint::black_box(
                        c.typed::<extern "C" fn($t, $t) -> $t>(name)?
                            .call(arg(seed), arg(seed / 100)),
                    );
                    Ok(())
                }),
                (concat!("void(", stringify!($t), ")"),
                 |c: &ContractRef<'_>, name: &str, seed: u64| {
                    c.typed::<extern "C" fn($t)>(name)?.call(arg(seed));
                    Ok(())
                }),
            )*
        ]
    };
}

/// Every signature `stress` can call, by its spelling: `void()`, and for
/// each integer type `T`: `T()`, `T(T)`, `T(T,T)`, `void(T)`.
pub(crate) const CALLERS: &[(&str, Caller)] =
    callers!(u8, u16, u32, u64, i8, i16, i32, i64, usize, isize);

/// The caller for a registered signature, if it is one `stress` can call.
pub(crate) fn caller_for(signature: &str) -> Option<Caller> {
    CALLERS
        .iter()
        .find(|(spelling, _)| *spelling == signature)
        .map(|(_, caller)| *caller)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_signatures_have_callers() {
        for spelling in [
            "void()",
            "u32()",
            "u32(u32)",
            "u32(u32,u32)",
            "void(u64)",
            "isize(isize,isize)",
        ] {
            assert!(caller_for(spelling).is_some(), "{spelling}");
        }
        for spelling in ["f64(f64)", "u32(u32,u64)", "u32(u32,u32,u32)"] {
            assert!(caller_for(spelling).is_none(), "{spelling}");
        }
        assert_eq!(CALLERS.len(), 41);
        assert_eq!(arg::<u8>(12_345), 45);
    }
}
