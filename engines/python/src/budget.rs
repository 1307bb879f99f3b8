//! Budgets: what one Python bundle may use, from its manifest's
//! `[limits]`, the loader's defaults and the host's ceilings; and the
//! limits CPython cannot enforce, refused by name.

use polyplug::loader::CodeSource;

/// Fuel per millisecond: `limits.fuel` is read as time, at about the
/// bytecode instructions CPython 3.11 runs in a millisecond, so one
/// manifest field means roughly one amount of work for every engine.
pub const FUEL_PER_MS: u64 = 50_000;

/// What one Python bundle may use. Every field is finite.
///
/// ```
/// use polyplug_python::Budget;
///
/// let defaults = Budget::DEFAULT;
/// assert_eq!(defaults.time_ms, 1_000); // a call may run a second
/// assert_eq!(defaults.instances, 256); // live instances of one load
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Wall time one call may run, in milliseconds: `limits.fuel` divided
    /// by [`FUEL_PER_MS`]. Loading the script gets the same time.
    pub time_ms: u64,
    /// Live instances of stateful contracts of one load at once
    /// (`limits.instances`).
    pub instances: u64,
}

impl Budget {
    /// The loader's defaults, for limits a manifest leaves out.
    ///
    /// ```
    /// assert_eq!(polyplug_python::Budget::DEFAULT.time_ms, 1_000);
    /// ```
    pub const DEFAULT: Budget = Budget {
        time_ms: 1_000,
        instances: 256,
    };

    /// The budget of a bundle: its manifest's limits where it gives them,
    /// else `defaults`, each capped by `ceiling`.
    ///
    /// # Errors
    ///
    /// The name of a `[limits]` field CPython cannot enforce, and why.
    pub(crate) fn of(
        code: &CodeSource<'_>,
        defaults: &Budget,
        ceiling: &Budget,
    ) -> Result<Budget, (&'static str, &'static str)> {
        let limits = &code.manifest().limits;
        if limits.memory_pages.is_some() {
            return Err((
                "limits.memory_pages",
                "CPython cannot bound one plugin's memory: all Python plugins share one interpreter and its allocator",
            ));
        }
        if limits.recursion_depth.is_some() {
            return Err((
                "limits.recursion_depth",
                "CPython's recursion limit is one for the whole interpreter; the host sets it (PythonConfig::recursion_limit)",
            ));
        }
        if limits.table_elements.is_some() {
            return Err(("limits.table_elements", "Python has no tables to bound"));
        }
        if limits.instances == Some(0) {
            return Err((
                "limits.instances",
                "a Python load is one module: it needs at least 1",
            ));
        }
        let time_ms = limits
            .fuel
            .map_or(defaults.time_ms, |fuel| fuel.div_ceil(FUEL_PER_MS).max(1));
        Ok(Budget {
            time_ms: time_ms.min(ceiling.time_ms),
            instances: limits
                .instances
                .unwrap_or(defaults.instances)
                .min(ceiling.instances),
        })
    }
}

/// The host's settings of a [`PythonLoader`](crate::PythonLoader): the
/// defaults for limits a manifest leaves out, the ceilings no manifest can
/// raise, and the interpreter's recursion limit.
///
/// ```
/// use polyplug_python::{Budget, PythonConfig};
///
/// let config = PythonConfig::default().ceiling(Budget { time_ms: 50, instances: 8 });
/// assert_eq!(config.ceiling.time_ms, 50); // a manifest asking for more gets this
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PythonConfig {
    /// Used where a manifest gives no limit.
    pub defaults: Budget,
    /// The most a manifest may ask for.
    pub ceiling: Budget,
    /// `sys.setrecursionlimit` of the interpreter, set at each load: one
    /// for every Python plugin of the process. A deeper recursion is a
    /// `RecursionError`, an `ERR_BUDGET` fault.
    pub recursion_limit: u32,
}

impl Default for PythonConfig {
    fn default() -> PythonConfig {
        PythonConfig {
            defaults: Budget::DEFAULT,
            ceiling: Budget {
                time_ms: 60_000,
                instances: 4096,
            },
            recursion_limit: 1000,
        }
    }
}

impl PythonConfig {
    /// These defaults.
    ///
    /// ```
    /// use polyplug_python::{Budget, PythonConfig};
    ///
    /// let config = PythonConfig::default().defaults(Budget { time_ms: 10, ..Budget::DEFAULT });
    /// assert_eq!(config.defaults.time_ms, 10);
    /// ```
    #[must_use]
    pub fn defaults(mut self, defaults: Budget) -> PythonConfig {
        self.defaults = defaults;
        self
    }

    /// These ceilings.
    ///
    /// ```
    /// use polyplug_python::{Budget, PythonConfig};
    ///
    /// let config = PythonConfig::default().ceiling(Budget::DEFAULT);
    /// assert_eq!(config.ceiling, Budget::DEFAULT);
    /// ```
    #[must_use]
    pub fn ceiling(mut self, ceiling: Budget) -> PythonConfig {
        self.ceiling = ceiling;
        self
    }
}
