//! A cache of compiled modules, keyed by a hash of the module's bytes and
//! the budget it is compiled under, for hosts that reload the same module
//! often (a reload of unchanged bytes, or builds alternating v1 ↔ v2).
//!
//! It is a [`Backend`] around the loader's own: a hit hands back the
//! compiled module of an earlier load, after comparing the bytes byte for
//! byte, so a hash collision can never give another module. Each load
//! still makes its own wasm instances, runs the start function and
//! `polyplug_init`, and registers its contracts: only compiling is saved.
//! The cache keeps the last `capacity` modules alive (least recently used
//! out first); loads keep theirs as long as they live.

use std::collections::VecDeque;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};

use crate::backend::{Backend, Compiled, Failure};
use crate::budget::Budget;
use crate::loader::WasmLoader;

/// One compiled module and what it was compiled from.
struct Entry {
    hash: u64,
    bytes: Arc<[u8]>,
    budget: Budget,
    compiled: Arc<dyn Compiled>,
}

/// A [`Backend`] that reuses what `inner` compiled for the same bytes and
/// budget.
struct Cached {
    inner: Arc<dyn Backend>,
    capacity: usize,
    /// Most recently used last.
    entries: Mutex<VecDeque<Entry>>,
}

fn hash(bytes: &[u8], budget: &Budget) -> u64 {
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    (
        budget.memory_pages,
        budget.fuel,
        budget.recursion_depth,
        budget.table_elements,
        budget.instances,
    )
        .hash(&mut hasher);
    hasher.finish()
}

impl Backend for Cached {
    fn compile(&self, bytes: &Arc<[u8]>, budget: &Budget) -> Result<Arc<dyn Compiled>, Failure> {
        let key = hash(bytes, budget);
        {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            let found = entries
                .iter()
                .position(|e| e.hash == key && e.budget == *budget && *e.bytes == **bytes);
            if let Some(entry) = found.and_then(|at| entries.remove(at)) {
                let compiled = Arc::clone(&entry.compiled);
                entries.push_back(entry);
                return Ok(compiled);
            }
        }
        // Compiled outside the lock: another thread may compile the same
        // module meanwhile; both results are correct, the later is kept.
        let compiled = self.inner.compile(bytes, budget)?;
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.push_back(Entry {
            hash: key,
            bytes: Arc::clone(bytes),
            budget: *budget,
            compiled: Arc::clone(&compiled),
        });
        while entries.len() > self.capacity {
            entries.pop_front();
        }
        Ok(compiled)
    }
}

impl WasmLoader {
    /// This loader, keeping the last `capacity` compiled modules to reuse
    /// when the same bytes load again under the same budget (0 turns the
    /// cache off). A load that hits the cache skips compiling; it still
    /// instantiates, runs the start function and `polyplug_init`, and
    /// registers. [`WasmStats::modules_compiled`](crate::WasmStats) counts
    /// loads either way. The cache holds the modules' bytes and compiled
    /// code until they fall out of it or the loader is dropped.
    ///
    /// ```
    /// use polyplug_wasm::{WasmConfig, WasmLoader};
    ///
    /// let loader = WasmLoader::new(WasmConfig::default()).module_cache(8);
    /// let runtime = polyplug::Runtime::builder().loader(loader).build()?;
    /// # let _ = runtime;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use]
    pub fn module_cache(mut self, capacity: usize) -> WasmLoader {
        if capacity > 0 {
            self.backend = Arc::new(Cached {
                inner: Arc::clone(&self.backend),
                capacity,
                entries: Mutex::new(VecDeque::with_capacity(capacity)),
            });
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::backend::{AddTyped, Item, Running};
    use crate::guest::WasmType;

    struct Module;
    impl Compiled for Module {
        fn imports(&self) -> Vec<(String, String, Item)> {
            Vec::new()
        }
        fn exports(&self) -> Vec<(String, Item)> {
            Vec::new()
        }
        fn instantiate(
            &self,
            _: &[String],
            _: &polyplug::loader::Logger,
            _: &polyplug::loader::Contracts,
        ) -> Result<Box<dyn Running>, Failure> {
            Err(Failure {
                code: 0,
                what: String::new(),
            })
        }
        fn typed(
            &self,
            _: &[WasmType],
            _: &[WasmType],
            _: &[polyplug::loader::ValueType],
            _: Option<polyplug::loader::ValueType>,
        ) -> Option<AddTyped> {
            None
        }
    }

    /// Counts compiles.
    struct Counting(AtomicUsize);
    impl Backend for Counting {
        fn compile(&self, _: &Arc<[u8]>, _: &Budget) -> Result<Arc<dyn Compiled>, Failure> {
            // Relaxed: a count read after the calls, on this thread.
            self.0.fetch_add(1, Ordering::Relaxed);
            Ok(Arc::new(Module))
        }
    }

    #[test]
    fn same_bytes_and_budget_compile_once_and_the_oldest_falls_out() {
        let inner = Arc::new(Counting(AtomicUsize::new(0)));
        let cached = Cached {
            inner: Arc::clone(&inner) as Arc<dyn Backend>,
            capacity: 2,
            entries: Mutex::new(VecDeque::new()),
        };
        let budget = Budget::DEFAULT;
        let small = Budget {
            fuel: 1,
            ..Budget::DEFAULT
        };
        let compiles = || inner.0.load(Ordering::Relaxed);
        let (a_bytes, b_bytes): (Arc<[u8]>, Arc<[u8]>) =
            (Arc::from(&b"a"[..]), Arc::from(&b"b"[..]));
        let a = cached
            .compile(&a_bytes, &budget)
            .ok()
            .map(|m| Arc::as_ptr(&m));
        let again = cached
            .compile(&a_bytes, &budget)
            .ok()
            .map(|m| Arc::as_ptr(&m));
        assert_eq!((compiles(), a == again), (1, true));
        let _ = cached.compile(&a_bytes, &small);
        assert_eq!(compiles(), 2, "another budget compiles anew");
        let _ = cached.compile(&b_bytes, &budget);
        assert_eq!(compiles(), 3);
        // Capacity 2: `a` under the default budget fell out.
        let _ = cached.compile(&a_bytes, &budget);
        assert_eq!(compiles(), 4);
    }
}
