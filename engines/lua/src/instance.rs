//! Instances of stateful contracts: Lua objects kept in the state of the
//! thread that made them.
//!
//! A Lua state is `!Send`, so an instance cannot carry its object. The
//! [`LuaInstance`] the runtime holds is plain data: the owning thread, the
//! load's generation, and a key into that state's [`Objects`]. A call on
//! another thread finds the owner wrong and fails with a typed fault. A
//! drop on another thread cannot touch the state either: it leaves the key
//! in the state's graves and counts the instance *pending*; the owner
//! frees it at its next call into a Lua load, or when the state goes. The
//! machinery is polyplug's [`instances`](polyplug::loader::instances);
//! what is Lua's own is where the state is found.

use std::sync::Arc;

use mlua::Table;
use polyplug::loader::instances::{Graves, ThreadHome, ThreadInstance};

/// The instance objects of one thread's state of one load, by key.
pub(crate) type Objects = polyplug::loader::instances::Objects<Table>;

/// An instance of a stateful Lua contract, as the runtime holds it.
pub(crate) type LuaInstance = ThreadInstance<LuaHome>;

/// Lua's thread states, where instances live.
pub(crate) struct LuaHome;

impl ThreadHome for LuaHome {
    const LANGUAGE: &'static str = "Lua";
    const STATE: &'static str = "Lua state";

    fn free(generation: u64, graves: &Arc<Graves>, key: u64) -> bool {
        crate::threads::free_instance(generation, graves, key)
    }
}
