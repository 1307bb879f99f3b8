//! A lock-free slot store with generational handles, hot swap in place, and
//! epoch reclamation that never runs on a reader.
//!
//! # The problem
//!
//! A plugin runtime hands out function tables that many threads call through
//! while a writer reloads (swaps a table for a new version) or unloads
//! (removes it). A reader must never see a half-written table, never call
//! into a table whose library was closed, and never wait for the writer. The
//! old table, and later the library it points into, may be destroyed only
//! when no reader can still hold it, and never on a reader's thread.
//!
//! # The concepts
//!
//! - A [`Store`] holds values of type `T` in slots. Each value has a
//!   [`Handle`]: slot index plus generation, packed in a `u64`.
//! - A [`Reader`] registers a thread; [`Reader::pin`] gives a [`Guard`].
//!   Every `&T` borrows its guard, so it cannot outlive it.
//! - [`Store::replace`] swaps a value in place (the handle stays valid);
//!   [`Store::remove`] empties the slot. A [`WriteTxn`] groups writes so that
//!   they become visible to [`Guard::find`] at once.
//! - Each value is indexed under a key; [`Guard::find`] and
//!   [`Guard::find_all`] look keys up without locking.
//! - The [`Revision`] changes after every write: one load tells a caching
//!   caller whether anything changed.
//! - Retired values pass through epoch deferral into a reclaim queue and are
//!   destroyed on the writer side: on the next write, on
//!   [`Store::reclaim`], or on drop. A [`DrainTicket`] tells when the values
//!   retired up to a point are gone.
//!
//! # Guarantees
//!
//! Each is an invariant of `SAFETY.md`, checked by the models and tests
//! listed there.
//!
//! - Reads ([`Guard::get`], [`Guard::find`], [`Guard::find_all`],
//!   [`Store::revision`]) never lock, allocate, or run a destructor of a
//!   stored value; a `get` is two Acquire loads and a compare (\[S1\], \[S2\]).
//!   A reader's outermost pin may, once every 128 pins, help
//!   crossbeam-epoch free its own bookkeeping; nested pins and a held guard
//!   never do.
//! - A reader sees a whole old value or a whole new one, never a mix (\[S2\]).
//! - In the store that issued it, a handle never resolves to a value other
//!   than the one it was issued for: generations are checked, bumped on
//!   reuse, and never wrap (\[S3\], \[S4\]).
//! - No value is destroyed while a guard that could reach it lives, and
//!   destructors run only on the writer side (\[S5\], \[S6\]).
//! - A transaction's inserts become findable all at once (\[S8\]).
//!
//! # Example
//!
//! ```
//! # if polyplug_store::sync::MODEL_BUILD { return; }
//! use polyplug_store::Store;
//!
//! // A table of one function, keyed by a contract id.
//! type Table = extern "C" fn(u32) -> u32;
//! extern "C" fn v1(x: u32) -> u32 { x + 1 }
//! extern "C" fn v2(x: u32) -> u32 { x + 2 }
//!
//! let store: Store<Table> = Store::new();
//! let h = store.insert(0xC0FFEE, v1).unwrap();
//!
//! std::thread::scope(|s| {
//!     s.spawn(|| {
//!         let reader = store.reader();
//!         for _ in 0..1_000 {
//!             let guard = reader.pin();
//!             let f = guard.get(h).unwrap();
//!             let r = f(1);
//!             assert!(r == 2 || r == 3); // old or new, never anything else
//!         }
//!     });
//!     store.replace(h, v2).unwrap(); // hot reload while the reader calls
//! });
//!
//! let reader = store.reader();
//! let guard = reader.pin();
//! let (found, f) = guard.find(&0xC0FFEE, |_| true).unwrap();
//! assert_eq!((found, f(1)), (h, 3));
//! ```

#![deny(unsafe_op_in_unsafe_fn)]

mod config;
mod error;
mod guard;
mod handle;
mod index;
mod lend;
mod planted;
mod reclaim;
mod session;
mod store;
mod swap;
#[doc(hidden)]
pub mod sync;
mod table;

pub use config::{Config, DefaultConfig};
pub use error::{DrainTimeout, GetError, Refused, WriteError};
pub use guard::{FindAll, Guard, PinnedSlot, Reader, SlotRef};
pub use handle::{Generation, Handle, Index};
#[doc(hidden)]
pub use planted::Bug;
pub use session::{QUIESCENT_EVERY, Session};
pub use store::{DrainTicket, Revision, Store};
pub use swap::WriteTxn;
