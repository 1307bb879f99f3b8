//! The `polyplug` global: a script's way to the host, as the wasm
//! engine's host imports are a module's.
//!
//! - `polyplug.find(name, minVersion)`: the best loaded contract `name`
//!   satisfying `minVersion` (`"1.2.0"`, or a major version as a number),
//!   as a `BigInt` handle. Throws when none is loaded.
//! - `polyplug.call(handle, function, signature, ...args)`: calls a typed
//!   function of any loaded contract (native, wasm or JavaScript); the
//!   arguments and result cross as in a call into JavaScript. Throws on a
//!   fault, with its message.
//! - `polyplug.log(level, message)`: a log event of the bundle; `level` is
//!   `"error"`, `"warn"`, `"info"`, `"debug"` or `"trace"`.

use polyplug::LogLevel;
use polyplug::loader::{TypedSignature, Value, ValueType};
use polyplug::{ContractHandle, Version};
use rquickjs::function::Rest;
use rquickjs::{BigInt, Ctx, Exception, Function, Object};

use crate::state::Load;
use crate::values;

/// Defines `polyplug` on the context's global object.
pub(crate) fn install<'js>(ctx: &Ctx<'js>, load: &Load) -> rquickjs::Result<()> {
    let object = Object::new(ctx.clone())?;

    let contracts = load.contracts.clone();
    let find = Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>,
              name: String,
              min: rquickjs::Value<'js>|
              -> rquickjs::Result<BigInt<'js>> {
            let version = if let Some(major) = min.as_number() {
                let major = u32::try_from(values::integral(major).unwrap_or(-1))
                    .map_err(|_| Exception::throw_range(&ctx, "a major version is a u32"))?;
                Version::new(major, 0, 0)
            } else {
                let text: String = min.get()?;
                polyplug_loader::parse_version_req(&text)
                    .map_err(|e| Exception::throw_type(&ctx, &e.to_string()))?
            };
            let handle = contracts
                .find(&name, version)
                .map_err(|fault| Exception::throw_message(&ctx, &fault.message))?;
            BigInt::from_u64(ctx.clone(), handle.to_raw())
        },
    )?;
    object.set("find", find)?;

    let contracts = load.contracts.clone();
    let call = Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>,
              handle: rquickjs::Value<'js>,
              function: String,
              signature: String,
              args: Rest<rquickjs::Value<'js>>|
              -> rquickjs::Result<rquickjs::Value<'js>> {
            let raw = match values::from_js(&handle, Some(ValueType::U64)) {
                Ok(Value::U64(raw)) => Some(raw),
                _ => None,
            };
            let Some(handle) = raw.and_then(ContractHandle::from_raw) else {
                return Err(Exception::throw_type(
                    &ctx,
                    "not a contract handle from polyplug.find",
                ));
            };
            let parsed = TypedSignature::parse(&signature)
                .map_err(|problem| Exception::throw_type(&ctx, &problem))?;
            if parsed.args.len() != args.0.len() {
                return Err(Exception::throw_type(
                    &ctx,
                    &format!(
                        "{function}: the signature {signature} takes {} arguments, given {}",
                        parsed.args.len(),
                        args.0.len()
                    ),
                ));
            }
            // Strings and bytes first, owned, then the values that borrow them.
            let mut texts = Vec::new();
            let mut blobs = Vec::new();
            for (arg, ty) in args.0.iter().zip(&parsed.args) {
                match ty {
                    ValueType::Str => texts.push(arg.get::<String>().map_err(|_| {
                        Exception::throw_type(&ctx, &format!("{function}: a str argument must be a string"))
                    })?),
                    ValueType::Bytes => blobs.push(values::bytes_of(arg).ok_or_else(|| {
                        Exception::throw_type(
                            &ctx,
                            &format!("{function}: a bytes argument must be a Uint8Array or an ArrayBuffer"),
                        )
                    })?),
                    _ => {}
                }
            }
            let (mut next_text, mut next_blob) = (texts.iter(), blobs.iter());
            let mut values = Vec::with_capacity(args.0.len());
            for (arg, ty) in args.0.iter().zip(&parsed.args) {
                values.push(match ty {
                    ValueType::Str => Value::Str(next_text.next().map_or("", String::as_str)),
                    ValueType::Bytes => Value::Bytes(next_blob.next().map_or(&[], Vec::as_slice)),
                    _ => values::from_js(arg, Some(*ty)).map_err(|problem| {
                        Exception::throw_type(&ctx, &format!("{function}: an argument {problem}"))
                    })?,
                });
            }
            let result = contracts
                .call(handle, &function, &signature, &values)
                .map_err(|fault| Exception::throw_message(&ctx, &fault.message))?;
            values::to_js(&ctx, &result)
        },
    )?;
    object.set("call", call)?;

    let logger = load.logger.clone();
    let log = Function::new(ctx.clone(), move |level: String, message: String| {
        let level = match level.as_str() {
            "error" => LogLevel::Error,
            "warn" => LogLevel::Warn,
            "debug" => LogLevel::Debug,
            "trace" => LogLevel::Trace,
            _ => LogLevel::Info,
        };
        logger.log(level, &message);
    })?;
    object.set("log", log)?;

    ctx.globals().set("polyplug", object)
}
