//! Instances of stateful contracts: JavaScript objects kept in the
//! QuickJS state of the thread that made them.
//!
//! A QuickJS runtime is single-threaded, so an instance cannot carry its
//! object. The [`JsInstance`] the runtime holds is plain data: the owning
//! thread, the load's generation, and a key into that state's
//! [`Objects`]. A call on another thread finds the owner wrong and fails
//! with a typed fault. A drop on another thread cannot touch the state
//! either: it leaves the key in the state's graves and counts the
//! instance *pending*; the owner frees it at its next call into the
//! engine, or when the state goes. The machinery is polyplug's
//! [`instances`](polyplug::loader::instances); what is JavaScript's own
//! is where the state is found.

use std::sync::Arc;

use polyplug::loader::instances::{Graves, ThreadHome, ThreadInstance};
use rquickjs::{Object, Persistent};

/// The instance objects of one thread's state of one load, by key.
pub(crate) type Objects = polyplug::loader::instances::Objects<Persistent<Object<'static>>>;

/// An instance of a stateful JavaScript contract, as the runtime holds it.
pub(crate) type JsInstance = ThreadInstance<JsHome>;

/// The QuickJS states of each thread, where instances live.
pub(crate) struct JsHome;

impl ThreadHome for JsHome {
    const LANGUAGE: &'static str = "JavaScript";
    const STATE: &'static str = "QuickJS state";

    fn free(generation: u64, graves: &Arc<Graves>, key: u64) -> bool {
        crate::state::free_instance(generation, graves, key)
    }
}
