//! Budgets: what one bundle's script may use, from its manifest's
//! `[limits]`, the loader's defaults, and the host's ceilings.

use polyplug::loader::CodeSource;

/// Bytes of QuickJS stack per unit of `limits.recursion_depth`: QuickJS
/// bounds its stack in bytes, and an ordinary JavaScript frame takes a few
/// hundred of them.
pub const STACK_BYTES_PER_FRAME: u64 = 256;

/// Operations the interpreter runs between two checks of the fuel: the
/// interrupt counter of QuickJS, decremented at calls and loop edges.
pub const OPS_PER_CHECK: u64 = 10_000;

/// What one bundle may use, per JavaScript state (one per calling thread).
/// Every field is finite.
///
/// ```
/// use polyplug_js::Budget;
///
/// let defaults = Budget::DEFAULT;
/// assert_eq!(defaults.memory_pages, 256); // 16 MiB of heap per state
/// assert!(defaults.fuel > 0 && defaults.recursion_depth > 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Heap per state, in 64 KiB pages (`limits.memory_pages`): the
    /// QuickJS runtime's memory limit.
    pub memory_pages: u64,
    /// Fuel per call (`limits.fuel`), about one unit per operation; checked
    /// every [`OPS_PER_CHECK`] operations by the interrupt handler. Module
    /// evaluation gets the same budget.
    pub fuel: u64,
    /// Nesting (`limits.recursion_depth`): the QuickJS stack limit is this
    /// times [`STACK_BYTES_PER_FRAME`].
    pub recursion_depth: u64,
    /// Live JavaScript states of one load, one per calling thread
    /// (`limits.instances`); and, counted apart, live instances of its
    /// stateful contracts.
    pub instances: u64,
}

impl Budget {
    /// The loader's defaults, for limits a manifest leaves out.
    ///
    /// ```
    /// assert_eq!(polyplug_js::Budget::DEFAULT.instances, 256);
    /// ```
    pub const DEFAULT: Budget = Budget {
        memory_pages: 256,
        fuel: 100_000_000,
        recursion_depth: 1024,
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
            instances: pick(limits.instances, defaults.instances, ceiling.instances),
        }
    }

    /// The QuickJS memory limit, in bytes (at least 1 MiB: QuickJS needs
    /// about that to make a context).
    pub(crate) fn memory_bytes(&self) -> usize {
        usize::try_from(self.memory_pages.saturating_mul(64 * 1024).max(1 << 20))
            .unwrap_or(usize::MAX)
    }

    /// The QuickJS stack limit, in bytes (at least 32 KiB).
    pub(crate) fn stack_bytes(&self) -> usize {
        usize::try_from(
            self.recursion_depth
                .saturating_mul(STACK_BYTES_PER_FRAME)
                .max(32 * 1024),
        )
        .unwrap_or(usize::MAX)
    }

    /// Interrupt checks one call may take before it is stopped.
    pub(crate) fn checks(&self) -> u64 {
        self.fuel.div_ceil(OPS_PER_CHECK).max(1)
    }
}

/// The host's settings of a [`JsLoader`](crate::JsLoader): the defaults
/// for limits a manifest leaves out, and the ceilings no manifest can
/// raise.
///
/// ```
/// use polyplug_js::{Budget, JsConfig};
///
/// let config = JsConfig::default().ceiling(Budget { fuel: 1_000_000, ..Budget::DEFAULT });
/// assert_eq!(config.ceiling.fuel, 1_000_000); // a manifest asking for more gets this
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsConfig {
    /// Used where a manifest gives no limit.
    pub defaults: Budget,
    /// The most a manifest may ask for; the host tightens budgets here.
    pub ceiling: Budget,
}

impl Default for JsConfig {
    fn default() -> JsConfig {
        JsConfig {
            defaults: Budget::DEFAULT,
            ceiling: Budget {
                memory_pages: 16_384,
                fuel: 10_000_000_000,
                // 1 MiB of QuickJS stack: half of a spawned thread's stack.
                recursion_depth: 4096,
                instances: 4096,
            },
        }
    }
}

impl JsConfig {
    /// These defaults.
    ///
    /// ```
    /// use polyplug_js::{Budget, JsConfig};
    ///
    /// let config = JsConfig::default().defaults(Budget { memory_pages: 64, ..Budget::DEFAULT });
    /// assert_eq!(config.defaults.memory_pages, 64);
    /// ```
    #[must_use]
    pub fn defaults(mut self, defaults: Budget) -> JsConfig {
        self.defaults = defaults;
        self
    }

    /// These ceilings.
    ///
    /// ```
    /// use polyplug_js::{Budget, JsConfig};
    ///
    /// let config = JsConfig::default().ceiling(Budget::DEFAULT);
    /// assert_eq!(config.ceiling, Budget::DEFAULT);
    /// ```
    #[must_use]
    pub fn ceiling(mut self, ceiling: Budget) -> JsConfig {
        self.ceiling = ceiling;
        self
    }
}
