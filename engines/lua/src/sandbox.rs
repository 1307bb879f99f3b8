//! One Lua state of a bundle: the sandboxed standard library, `require`
//! confined to the bundle directory, the memory limit, the instruction
//! meter, the `polyplug` table, and the script run to its returned table.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use mlua::{HookTriggers, Lua, LuaOptions, StdLib, Table, VmState};
use polyplug::loader::{BundleFiles, Contracts, Logger};
use polyplug_abi::{ERR_BUDGET, ERR_INTERNAL, ERR_INVALID, ERR_TRAP};

use crate::budget::Budget;

/// Instructions between two looks of the meter: the budget is counted in
/// steps of this many VM instructions.
///
/// ```
/// assert_eq!(polyplug_lua::FUEL_STEP, 1000);
/// ```
pub const FUEL_STEP: u32 = 1000;

/// Why Lua code failed: an ABI code (`ERR_TRAP`, `ERR_BUDGET`) and what
/// happened, with the script's `file:line` where Lua gives one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) code: u32,
    pub(crate) what: String,
}

impl From<polyplug::loader::Fault> for Failure {
    fn from(fault: polyplug::loader::Fault) -> Failure {
        Failure {
            code: fault.code,
            what: fault.message,
        }
    }
}

/// The instruction meter of one state: the fuel left for the running
/// top-level call, and whether the hook stopped it.
#[derive(Debug, Default)]
pub(crate) struct Meter {
    left: Cell<u64>,
    tripped: Cell<bool>,
    /// Nested calls into this state on this thread (a Lua function that
    /// reached another contract that called back): only the outermost
    /// refuels.
    pub(crate) depth: Cell<u32>,
}

impl Meter {
    /// Refuels for a top-level call.
    pub(crate) fn refuel(&self, fuel: u64) {
        self.left.set(fuel);
        self.tripped.set(false);
    }
}

/// What every state of one load is made from. `Send` and `Sync`: the
/// script is bytes, the rest are handles.
#[derive(Debug)]
pub(crate) struct Recipe {
    pub(crate) bundle: String,
    /// The code file's canonical path.
    pub(crate) file: PathBuf,
    /// The chunk name Lua uses in messages: the file name.
    pub(crate) chunk: String,
    pub(crate) dir: PathBuf,
    /// Every file of the bundle as its signature check read them, when
    /// the runtime requires signed bundles: `require` reads these, never
    /// the directory again.
    pub(crate) files: Option<Arc<BundleFiles>>,
    pub(crate) script: Arc<[u8]>,
    pub(crate) budget: Budget,
    pub(crate) contracts: Contracts,
    pub(crate) logger: Logger,
}

/// The libraries a script gets: no `io`, `os`, `debug`, nor C modules.
fn libraries() -> StdLib {
    StdLib::COROUTINE
        | StdLib::TABLE
        | StdLib::STRING
        | StdLib::UTF8
        | StdLib::MATH
        | StdLib::PACKAGE
}

/// The text of an mlua error, without Lua's traceback: for a raised
/// error, `file:line: message`.
pub(crate) fn describe(error: &mlua::Error) -> String {
    let text = match error {
        mlua::Error::RuntimeError(message) | mlua::Error::MemoryError(message) => message.clone(),
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::CallbackError { cause, .. } => return describe(cause),
        mlua::Error::WithContext { cause, context } => {
            return format!("{context}: {}", describe(cause));
        }
        other => other.to_string(),
    };
    text.lines().next().unwrap_or_default().to_owned()
}

/// An mlua error as a failure: the meter's stop and an allocation over
/// the limit are `ERR_BUDGET`; everything else the script did is
/// `ERR_TRAP`.
pub(crate) fn failure(error: &mlua::Error, meter: &Meter, budget: &Budget) -> Failure {
    if meter.tripped.get() {
        return Failure {
            code: ERR_BUDGET,
            what: format!(
                "{}: out of fuel: more than {} instructions (limits.fuel)",
                describe(error),
                budget.fuel
            ),
        };
    }
    if is_memory(error) {
        return Failure {
            code: ERR_BUDGET,
            what: format!(
                "{}: the state's memory limit of {} pages of 64 KiB (limits.memory_pages)",
                describe(error),
                budget.memory_pages
            ),
        };
    }
    let code = if matches!(error, mlua::Error::SyntaxError { .. }) {
        ERR_INVALID
    } else {
        ERR_TRAP
    };
    Failure {
        code,
        what: describe(error),
    }
}

fn is_memory(error: &mlua::Error) -> bool {
    match error {
        mlua::Error::MemoryError(_) => true,
        mlua::Error::CallbackError { cause, .. } | mlua::Error::WithContext { cause, .. } => {
            is_memory(cause)
        }
        _ => false,
    }
}

fn internal(what: &str, error: &mlua::Error) -> Failure {
    Failure {
        code: ERR_INTERNAL,
        what: format!("{what}: {}", describe(error)),
    }
}

/// `require` finds `name.lua` in the bundle directory only, with no C
/// loaders, and `dofile`, `loadfile` and `package.loadlib` are gone.
fn confine(lua: &Lua, dir: &Path, files: Option<&Arc<BundleFiles>>) -> mlua::Result<()> {
    let globals = lua.globals();
    globals.set("dofile", mlua::Value::Nil)?;
    globals.set("loadfile", mlua::Value::Nil)?;
    let package: Table = globals.get("package")?;
    let dir_path = dir;
    let dir = dir.to_string_lossy();
    package.set("path", format!("{dir}/?.lua;{dir}/?/init.lua"))?;
    package.set("cpath", "")?;
    package.set("loadlib", mlua::Value::Nil)?;
    let searchers: Table = package.get("searchers")?;
    // Keep the preload searcher; replace the Lua-file one by one confined
    // to the directory; drop the C ones.
    let lua_only = lua.create_table()?;
    lua_only.raw_set(1, searchers.raw_get::<mlua::Value>(1)?)?;
    lua_only.raw_set(2, confined_searcher(lua, dir_path, files.cloned())?)?;
    package.set("searchers", lua_only)?;
    Ok(())
}

/// The Lua-file searcher of `require`, confined to `dir`: `name.lua` or
/// `name/init.lua` (dots in `name` as `/`) whose canonical path lies in
/// the canonical `dir`, so a link out of the bundle is refused as the
/// manifest's `[library]` entry is; a file that is not a regular file is
/// refused rather than read.
fn confined_searcher(
    lua: &Lua,
    dir: &Path,
    files: Option<Arc<BundleFiles>>,
) -> mlua::Result<mlua::Function> {
    let root = dir.canonicalize().map_err(mlua::Error::external)?;
    lua.create_function(move |lua, name: String| {
        let relative = name.replace('.', "/");
        for candidate in [format!("{relative}.lua"), format!("{relative}/init.lua")] {
            if let Some(files) = &files {
                // A signed bundle: the checked bytes, or no such file.
                let Some(bytes) = files.get(&candidate) else {
                    continue;
                };
                let loader = lua
                    .load(&**bytes)
                    .set_name(format!("@{candidate}"))
                    .into_function()?;
                return Ok((mlua::Value::Function(loader), candidate));
            }
            let Ok(real) = root.join(&candidate).canonicalize() else {
                continue;
            };
            if !real.starts_with(&root) || !real.is_file() {
                // The `require` call's place: the first frame with a line.
                let at = (1..16)
                    .find_map(|level| {
                        lua.inspect_stack(level, |debug| {
                            let line = debug.current_line()?;
                            let source = debug.source();
                            Some(format!("{}:{line}: ", source.short_src.as_deref()?))
                        })
                        .flatten()
                    })
                    .unwrap_or_default();
                return Err(mlua::Error::runtime(format!(
                    "{at}module '{name}': {candidate} is not a file inside the bundle directory"
                )));
            }
            let bytes = std::fs::read(&real).map_err(mlua::Error::external)?;
            let loader = lua
                .load(bytes)
                .set_name(format!("@{candidate}"))
                .into_function()?;
            return Ok((mlua::Value::Function(loader), candidate));
        }
        Ok((
            mlua::Value::String(lua.create_string(format!(
                "\n\tno file '{relative}.lua' or '{relative}/init.lua' in the bundle directory"
            ))?),
            String::new(),
        ))
    })
}

/// A fresh state of `recipe`: sandboxed, limited, metered, with the
/// `polyplug` table; the script has run and returned `table`.
pub(crate) fn open(recipe: &Recipe) -> Result<(Lua, Rc<Meter>, Table), Failure> {
    let lua = Lua::new_with(libraries(), LuaOptions::default())
        .map_err(|e| internal("opening a Lua state", &e))?;
    confine(&lua, &recipe.dir, recipe.files.as_ref())
        .map_err(|e| internal("confining the Lua state", &e))?;
    crate::host::install(&lua, recipe)
        .map_err(|e| internal("installing the polyplug table", &e))?;
    let meter = Rc::new(Meter::default());
    let hook_meter = Rc::clone(&meter);
    lua.set_hook(
        HookTriggers::new().every_nth_instruction(FUEL_STEP),
        move |_, debug| {
            let left = hook_meter.left.get();
            if left < u64::from(FUEL_STEP) {
                hook_meter.tripped.set(true);
                let source = debug.source();
                let at = source.short_src.as_deref().unwrap_or("?").to_owned();
                let line = debug
                    .current_line()
                    .map_or(String::new(), |l| format!(":{l}"));
                return Err(mlua::Error::runtime(format!(
                    "{at}{line}: instruction budget exhausted"
                )));
            }
            hook_meter.left.set(left - u64::from(FUEL_STEP));
            Ok(VmState::Continue)
        },
    )
    .map_err(|e| internal("setting the instruction hook", &e))?;
    lua.set_memory_limit(recipe.budget.memory_bytes())
        .map_err(|e| internal("setting the memory limit", &e))?;
    meter.refuel(recipe.budget.fuel);
    let returned: mlua::Value = lua
        .load(&*recipe.script)
        .set_name(format!("@{}", recipe.chunk))
        .eval()
        .map_err(|e| failure(&e, &meter, &recipe.budget))?;
    let mlua::Value::Table(table) = returned else {
        return Err(Failure {
            code: ERR_INVALID,
            what: format!(
                "{}: the script returned a {}, not a table {{ contracts = {{ ... }} }}",
                recipe.chunk,
                returned.type_name()
            ),
        });
    };
    Ok((lua, meter, table))
}
