//! Plugin `{{name}}`: contract `{{name}}` 1.0.0, made by `polyplug new`.
//!
//! | function | kind | behaviour |
//! |---|---|---|
//! | `add` | native `AddArgs -> u32` | `a + b`, wrapping |
//! | `add` | typed `u32(u32,u32)` | `a + b`, wrapping |
//! | `version` | typed `u32()` | 1 |

use polyplug_guest::Error;

/// The arguments of the native function `add`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct AddArgs {
    /// First operand.
    pub a: u32,
    /// Second operand.
    pub b: u32,
}

fn add(args: &AddArgs) -> Result<u32, Error> {
    Ok(args.a.wrapping_add(args.b))
}

fn add_typed(a: u32, b: u32) -> u32 {
    a.wrapping_add(b)
}

fn version() -> u32 {
    1
}

polyplug_guest::plugin! {
    contract "{{name}}" "1.0.0" {
        native add(AddArgs) -> u32 = add;
        typed add(a: u32, b: u32) -> u32 = add_typed;
        typed version() -> u32 = version;
    }
}
