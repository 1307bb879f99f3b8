//! The `polyplug` table a script sees: find and call any loaded contract
//! of any language, and log, as a WebAssembly guest does through its host
//! imports.
//!
//! ```lua
//! local add = polyplug.find("test.add", "1.0.0")   -- a handle (an integer); raises if none
//! local sum = polyplug.call(add, "add", "u32(u32,u32)", 2, 3)
//! polyplug.log("info", "sum is " .. sum)
//! ```

use mlua::{Lua, MultiValue, Value as LuaValue, Variadic};
use polyplug::loader::{TypedSignature, Value, ValueType};
use polyplug::{ContractHandle, LogLevel, Version};

use crate::convert::{from_lua, to_lua};
use crate::sandbox::Recipe;

/// A version from Lua: `"1.2.0"`, or a major number `1` meaning `1.0.0`.
fn version(value: &LuaValue) -> mlua::Result<Version> {
    match value {
        LuaValue::Integer(major) => u32::try_from(*major)
            .map(|m| Version::new(m, 0, 0))
            .map_err(|_| mlua::Error::runtime(format!("polyplug.find: bad major version {major}"))),
        LuaValue::String(text) => {
            let text = text.to_str()?.to_owned();
            let parts: Vec<Option<u32>> = text.split('.').map(|p| p.parse().ok()).collect();
            match parts.as_slice() {
                [Some(a), Some(b), Some(c)] => Ok(Version::new(*a, *b, *c)),
                _ => Err(mlua::Error::runtime(format!(
                    "polyplug.find: bad version {text:?}, expected major.minor.patch"
                ))),
            }
        }
        other => Err(mlua::Error::runtime(format!(
            "polyplug.find: expected a version string or a major number, got a {}",
            other.type_name()
        ))),
    }
}

/// Installs the `polyplug` global in `lua`.
pub(crate) fn install(lua: &Lua, recipe: &Recipe) -> mlua::Result<()> {
    let table = lua.create_table()?;
    let contracts = recipe.contracts.clone();
    table.set(
        "find",
        lua.create_function(move |_, (name, min): (String, LuaValue)| {
            let handle = contracts.find(&name, version(&min)?).map_err(|fault| {
                mlua::Error::runtime(format!("polyplug.find {name}: {}", fault.message))
            })?;
            Ok(handle.to_raw().cast_signed())
        })?,
    )?;
    let contracts = recipe.contracts.clone();
    table.set(
        "call",
        lua.create_function(
            move |lua, (handle, function, spelling, args): (i64, String, String, Variadic<LuaValue>)| {
                let fail = |problem: String| mlua::Error::runtime(format!("polyplug.call {function}: {problem}"));
                let handle = ContractHandle::from_raw(handle.cast_unsigned())
                    .ok_or_else(|| fail("not a contract handle".to_owned()))?;
                let signature = TypedSignature::parse(&spelling).map_err(&fail)?;
                if args.len() != signature.args.len() {
                    return Err(fail(format!(
                        "{} arguments for {signature}, which takes {}",
                        args.len(),
                        signature.args.len()
                    )));
                }
                let owned: Vec<Value<'static>> = args
                    .iter()
                    .zip(&signature.args)
                    .map(|(arg, ty)| from_lua(arg, Some(*ty)))
                    .collect::<Result<_, _>>()
                    .map_err(&fail)?;
                let borrowed: Vec<Value<'_>> = owned
                    .iter()
                    .zip(&signature.args)
                    .map(|(value, ty)| match (value, ty) {
                        (Value::String(text), ValueType::Str) => Value::Str(text),
                        (Value::Buf(bytes), ValueType::Bytes) => Value::Bytes(bytes),
                        (other, _) => other.clone(),
                    })
                    .collect();
                let result = contracts
                    .call(handle, &function, &spelling, &borrowed)
                    .map_err(|fault| fail(fault.message))?;
                let mut out = MultiValue::new();
                if result != Value::Void {
                    out.push_back(to_lua(lua, &result).map_err(&fail)?);
                }
                Ok(out)
            },
        )?,
    )?;
    let logger = recipe.logger.clone();
    table.set(
        "log",
        lua.create_function(move |_, (level, message): (String, String)| {
            let level = match level.as_str() {
                "error" => LogLevel::Error,
                "warn" => LogLevel::Warn,
                "debug" => LogLevel::Debug,
                "trace" => LogLevel::Trace,
                _ => LogLevel::Info,
            };
            logger.log(level, &message);
            Ok(())
        })?,
    )?;
    lua.globals().set("polyplug", table)
}
