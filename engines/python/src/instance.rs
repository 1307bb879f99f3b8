//! Instances of stateful contracts: Python objects, held by the instance
//! itself.
//!
//! Unlike a Lua state or a QuickJS runtime, the interpreter is one for
//! the process and a Python object may be used from any thread that holds
//! the GIL: a [`PyInstance`] carries its object, and is called and dropped
//! on any thread. Dropping it takes the GIL to free the object at once.
//! What every engine shares (the count against `limits.instances`, the
//! load that made the instance, unusable after a failure) is polyplug's
//! [`instances`](polyplug::loader::instances).

use polyplug::loader::Fault;
use polyplug::loader::instances::{ObjectCount, Standing};
use pyo3::prelude::*;

use crate::threads;

/// An instance's object and its place in its load's tally: the object
/// goes first, then the place.
struct Held {
    object: Py<PyAny>,
    _count: ObjectCount,
}

/// An instance of a stateful Python contract, as the runtime holds it.
pub(crate) struct PyInstance {
    /// `None` once a failure freed the object.
    held: Option<Held>,
    standing: Standing,
}

impl PyInstance {
    pub(crate) fn new(object: Py<PyAny>, count: ObjectCount, generation: u64) -> PyInstance {
        PyInstance {
            held: Some(Held {
                object,
                _count: count,
            }),
            standing: Standing::new(generation),
        }
    }

    /// Whether a call of load `generation` may run on the instance.
    pub(crate) fn check(&self, generation: u64) -> Result<(), Fault> {
        self.standing.check(generation)
    }

    /// The instance's object, while it has one.
    pub(crate) fn object<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        self.held.as_ref().map(|held| held.object.bind(py).clone())
    }

    /// A call on the instance failed, `why`: its object may be
    /// half-updated, so it is freed now (`py` holds the GIL) and the
    /// instance is unusable.
    pub(crate) fn fail(&mut self, _py: Python<'_>, why: String) {
        self.standing.poison(why);
        drop(self.held.take());
    }
}

impl Drop for PyInstance {
    fn drop(&mut self) {
        if let Some(held) = self.held.take() {
            // The object's reference is given back holding the GIL, so it
            // is freed now (its `__del__` run), not left to pyo3's pool.
            threads::with_pin(|| Python::attach(|_py| drop(held)));
        }
    }
}
