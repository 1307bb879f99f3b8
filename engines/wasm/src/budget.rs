//! Budgets: what one bundle's guest code may use, from its manifest's
//! `[limits]`, the loader's defaults, and the host's ceilings.

use polyplug::loader::CodeSource;

/// The size of a WebAssembly page, in bytes.
pub(crate) const PAGE_BYTES: u64 = 64 * 1024;

/// What one bundle may use. Every field is finite.
///
/// ```
/// use polyplug_wasm::Budget;
///
/// let defaults = Budget::DEFAULT;
/// assert_eq!(defaults.memory_pages, 256); // 16 MiB of linear memory per instance
/// assert!(defaults.fuel > 0 && defaults.recursion_depth > 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Linear memory per instance, in 64 KiB pages (`limits.memory_pages`).
    pub memory_pages: u64,
    /// Fuel per call, about one unit per instruction (`limits.fuel`). An
    /// instance's start function and `polyplug_init` get the same budget.
    pub fuel: u64,
    /// Nested guest calls (`limits.recursion_depth`).
    pub recursion_depth: u64,
    /// Table elements per instance (`limits.table_elements`).
    pub table_elements: u64,
    /// Live wasm instances of one load: one per calling thread and one per
    /// stateful instance (`limits.instances`).
    pub instances: u64,
}

impl Budget {
    /// The loader's defaults, for limits a manifest leaves out.
    ///
    /// ```
    /// assert_eq!(polyplug_wasm::Budget::DEFAULT.instances, 256);
    /// ```
    pub const DEFAULT: Budget = Budget {
        memory_pages: 256,
        fuel: 10_000_000,
        recursion_depth: 1024,
        table_elements: 10_000,
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
            recursion_depth: pick(
                limits.recursion_depth,
                defaults.recursion_depth,
                ceiling.recursion_depth,
            ),
            table_elements: pick(
                limits.table_elements,
                defaults.table_elements,
                ceiling.table_elements,
            ),
            instances: pick(limits.instances, defaults.instances, ceiling.instances),
        }
    }
}

/// The host's settings of a [`WasmLoader`](crate::WasmLoader): the
/// defaults for limits a manifest leaves out, and the ceilings no manifest
/// can raise.
///
/// ```
/// use polyplug_wasm::{Budget, WasmConfig};
///
/// let config = WasmConfig::default().ceiling(Budget { fuel: 1_000_000, ..Budget::DEFAULT });
/// assert_eq!(config.ceiling.fuel, 1_000_000); // a manifest asking for more gets this
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WasmConfig {
    /// Used where a manifest gives no limit.
    pub defaults: Budget,
    /// The most a manifest may ask for; the host tightens budgets here.
    pub ceiling: Budget,
}

impl Default for WasmConfig {
    fn default() -> WasmConfig {
        WasmConfig {
            defaults: Budget::DEFAULT,
            ceiling: Budget {
                memory_pages: 65_536,
                fuel: 10_000_000_000,
                recursion_depth: 100_000,
                table_elements: 10_000_000,
                instances: 4096,
            },
        }
    }
}

impl WasmConfig {
    /// These defaults.
    ///
    /// ```
    /// use polyplug_wasm::{Budget, WasmConfig};
    ///
    /// let config = WasmConfig::default().defaults(Budget { memory_pages: 16, ..Budget::DEFAULT });
    /// assert_eq!(config.defaults.memory_pages, 16);
    /// ```
    #[must_use]
    pub fn defaults(mut self, defaults: Budget) -> WasmConfig {
        self.defaults = defaults;
        self
    }

    /// These ceilings.
    ///
    /// ```
    /// use polyplug_wasm::{Budget, WasmConfig};
    ///
    /// let config = WasmConfig::default().ceiling(Budget::DEFAULT);
    /// assert_eq!(config.ceiling, Budget::DEFAULT);
    /// ```
    #[must_use]
    pub fn ceiling(mut self, ceiling: Budget) -> WasmConfig {
        self.ceiling = ceiling;
        self
    }
}
