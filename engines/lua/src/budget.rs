//! Budgets: what one Lua bundle may use, from its manifest's `[limits]`,
//! the loader's defaults, and the host's ceilings. The same fields as the
//! WebAssembly engine's, read the Lua way.

use polyplug::loader::CodeSource;

/// The unit of `limits.memory_pages`, in bytes: 64 KiB, as for
/// WebAssembly, so one manifest field means one amount for every engine.
pub(crate) const PAGE_BYTES: u64 = 64 * 1024;

/// What one Lua bundle may use. Every field is finite.
///
/// `limits.recursion_depth` and `limits.table_elements` do not apply to
/// Lua: a runaway recursion ends at Lua's own stack limit (a `stack
/// overflow` error, or the memory limit first), and tables are memory.
///
/// ```
/// use polyplug_lua::Budget;
///
/// let defaults = Budget::DEFAULT;
/// assert_eq!(defaults.memory_pages, 256); // 16 MiB per Lua state
/// assert!(defaults.fuel > 0 && defaults.instances > 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Memory of one Lua state, in 64 KiB pages (`limits.memory_pages`):
    /// the state's allocator refuses more (`Lua::set_memory_limit`).
    pub memory_pages: u64,
    /// Lua VM instructions per call (`limits.fuel`), counted by an
    /// instruction hook in steps of [`FUEL_STEP`](crate::FUEL_STEP). Running
    /// the script when a state is made gets the same budget.
    pub fuel: u64,
    /// Live Lua states of one load: one per calling thread
    /// (`limits.instances`); and, counted apart, live instances of its
    /// stateful contracts.
    pub instances: u64,
}

impl Budget {
    /// The loader's defaults, for limits a manifest leaves out.
    ///
    /// ```
    /// assert_eq!(polyplug_lua::Budget::DEFAULT.instances, 256);
    /// ```
    pub const DEFAULT: Budget = Budget {
        memory_pages: 256,
        fuel: 10_000_000,
        instances: 256,
    };

    /// The budget of a bundle: its manifest's limits where it gives them,
    /// else `defaults`, each capped by `ceiling`.
    pub(crate) fn of(code: &CodeSource<'_>, defaults: &Budget, ceiling: &Budget) -> Budget {
        let limits = &code.manifest().limits;
        let pick = |asked: Option<u64>, default: u64, cap: u64| asked.unwrap_or(default).min(cap);
        Budget {
            memory_pages: pick(
                limits.memory_pages,
                defaults.memory_pages,
                ceiling.memory_pages,
            ),
            fuel: pick(limits.fuel, defaults.fuel, ceiling.fuel),
            instances: pick(limits.instances, defaults.instances, ceiling.instances),
        }
    }

    /// The memory limit of one state, in bytes.
    pub(crate) fn memory_bytes(&self) -> usize {
        usize::try_from(self.memory_pages.saturating_mul(PAGE_BYTES)).unwrap_or(usize::MAX)
    }
}

/// The host's settings of a [`LuaLoader`](crate::LuaLoader): the defaults
/// for limits a manifest leaves out, and the ceilings no manifest can
/// raise.
///
/// ```
/// use polyplug_lua::{Budget, LuaConfig};
///
/// let config = LuaConfig::default().ceiling(Budget { fuel: 1_000_000, ..Budget::DEFAULT });
/// assert_eq!(config.ceiling.fuel, 1_000_000); // a manifest asking for more gets this
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LuaConfig {
    /// Used where a manifest gives no limit.
    pub defaults: Budget,
    /// The most a manifest may ask for; the host tightens budgets here.
    pub ceiling: Budget,
}

impl Default for LuaConfig {
    fn default() -> LuaConfig {
        LuaConfig {
            defaults: Budget::DEFAULT,
            ceiling: Budget {
                memory_pages: 65_536,
                fuel: 10_000_000_000,
                instances: 4096,
            },
        }
    }
}

impl LuaConfig {
    /// These defaults.
    ///
    /// ```
    /// use polyplug_lua::{Budget, LuaConfig};
    ///
    /// let config = LuaConfig::default().defaults(Budget { memory_pages: 16, ..Budget::DEFAULT });
    /// assert_eq!(config.defaults.memory_pages, 16);
    /// ```
    #[must_use]
    pub fn defaults(mut self, defaults: Budget) -> LuaConfig {
        self.defaults = defaults;
        self
    }

    /// These ceilings.
    ///
    /// ```
    /// use polyplug_lua::{Budget, LuaConfig};
    ///
    /// let config = LuaConfig::default().ceiling(Budget::DEFAULT);
    /// assert_eq!(config.ceiling, Budget::DEFAULT);
    /// ```
    #[must_use]
    pub fn ceiling(mut self, ceiling: Budget) -> LuaConfig {
        self.ceiling = ceiling;
        self
    }
}
