//! Differential fuzzing of [`Store`] against the
//! [`Reference`] model of `polyplug-verification`.
//!
//! A [`Script`] is a sequence of operations: inserts, replaces and removes,
//! alone or inside a transaction that is committed or aborted; `get`
//! through live, stale, removed, forged and foreign handles; `find` and
//! `find_all`; a guard pinned across writes; `reclaim`, `revision` and
//! drain tickets. Each operation runs on the store and on the model, and
//! the results must be identical, handle for handle and error for error.
//!
//! The model applies every write at once; a transaction is modelled on top
//! of it the way `WriteTxn` documents it: an insert takes its slot at once
//! but is findable only after commit; replaces and removes are checked at
//! once (a handle staged twice is [`WriteError::AlreadyStaged`]) and
//! applied, in order, at commit; an abort empties the inserted slots, in
//! order; a commit that changed anything bumps the revision once.
//!
//! Reclamation has its own properties: a value retired while a guard is
//! pinned is not destroyed before the guard goes (its drain ticket is not
//! drained, `pending` counts it); with no guard, `reclaim` leaves nothing
//! pending and returns what it destroyed; and once the store is dropped,
//! every value ever made has been destroyed exactly once.

use std::cell::Cell;

use arbitrary::Arbitrary;
use polyplug_store::{
    Config, DefaultConfig, DrainTicket, Generation, GetError, Guard, Handle, Index, Refused, Store,
    WriteError, WriteTxn,
};
use polyplug_verification::reference::Reference;

polyplug_store::config! {
    /// 8 slots, generations 1 to 3: within a few dozen operations slots are
    /// reused, retired, and the store fills up.
    pub Tiny { index: 3, generation: 2, first_segment: 0 }
}

type Key = u8;

/// Keys are `0..KEYS`, so several values share a key.
const KEYS: Key = 4;

thread_local! {
    /// Values made on this thread.
    static MADE: Cell<u64> = const { Cell::new(0) };
    /// Values destroyed on this thread.
    static DROPPED: Cell<u64> = const { Cell::new(0) };
}

fn made() -> u64 {
    MADE.with(Cell::get)
}

fn dropped() -> u64 {
    DROPPED.with(Cell::get)
}

/// A stored value that counts how often it is made and destroyed. All of
/// it happens on the fuzzing thread: the store destroys values only on the
/// writer side, which is this thread.
#[derive(Debug)]
struct Tracked(u32);

impl Tracked {
    fn new(value: u32) -> Tracked {
        MADE.with(|made| made.set(made.get() + 1));
        Tracked(value)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        DROPPED.with(|dropped| dropped.set(dropped.get() + 1));
    }
}

/// Which handle an operation targets.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Target {
    /// A handle the store issued earlier (live or not).
    Issued(u8),
    /// An issued handle's slot with its generation moved by `delta`.
    Near {
        /// Which issued handle.
        issued: u8,
        /// Added to its generation.
        delta: i8,
    },
    /// Any slot at or below the high-water mark, any generation.
    Slot {
        /// The slot, modulo the high-water mark plus one.
        index: u32,
        /// The generation.
        generation: u32,
    },
    /// A forged raw word, masked to the handle's bits.
    Raw(u64),
}

/// One operation.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Op {
    /// `insert(key % KEYS, value)`, in the open transaction if any.
    Insert {
        /// The key.
        key: u8,
        /// The value.
        value: u32,
    },
    /// `replace`, in the open transaction if any.
    Replace(Target, u32),
    /// `remove`, in the open transaction if any.
    Remove(Target),
    /// `Guard::get` and `Store::get`.
    Get(Target),
    /// `Store::get` on another store with this store's guard.
    GetForeign(Target),
    /// `find(key % KEYS)`, accepting every value (`None`) or values of one
    /// parity.
    Find {
        /// The key.
        key: u8,
        /// The predicate.
        parity: Option<bool>,
    },
    /// `find_all(key % KEYS)`.
    FindAll(u8),
    /// Opens a transaction (if none is open).
    Begin,
    /// Commits the open transaction.
    Commit,
    /// Drops the open transaction.
    Abort,
    /// Pins a guard and holds it across the next operations.
    Pin,
    /// Drops the held guard.
    Unpin,
    /// `reclaim` (outside a transaction, which holds the writer lock).
    Reclaim,
    /// `revision`.
    Revision,
    /// `is_drained` on a ticket from an earlier write (outside a
    /// transaction).
    Drained(u8),
}

/// One fuzz input.
#[derive(Arbitrary, Debug, Clone)]
pub struct Script {
    /// Run at [`Tiny`] (else at [`DefaultConfig`]).
    pub tiny: bool,
    /// The operations, in order.
    pub ops: Vec<Op>,
}

/// Runs `script` on a store and on the model and checks the properties
/// above.
///
/// ```
/// use polyplug_fuzz::store_ops::{Op, Script, Target, check};
///
/// check(&Script {
///     tiny: true,
///     ops: vec![
///         Op::Insert { key: 1, value: 7 },
///         Op::Pin,
///         Op::Replace(Target::Issued(0), 8),
///         Op::Reclaim,
///         Op::Unpin,
///         Op::Reclaim,
///         Op::Get(Target::Issued(0)),
///     ],
/// });
/// ```
pub fn check(script: &Script) {
    let (made_before, dropped_before) = (made(), dropped());
    if script.tiny {
        run::<Tiny>(&script.ops);
    } else {
        run::<DefaultConfig>(&script.ops);
    }
    assert_eq!(
        made() - made_before,
        dropped() - dropped_before,
        "values made and values destroyed differ once the store is gone"
    );
}

/// What the model knows of the open transaction.
struct TxnModel<C: Config> {
    /// Handles it inserted, in order.
    inserted: Vec<Handle<C>>,
    /// Replaces (`Some(value)`) and removes (`None`), in order.
    staged: Vec<(Handle<C>, Option<u32>)>,
}

/// A write's result with the store's value type replaced by the model's.
type Plain<T, C> = Result<T, (WriteError<C>, Option<u32>)>;

fn plain<T, U, C: Config>(
    result: Result<T, Refused<U, C>>,
    value: impl Fn(U) -> u32,
) -> Plain<T, C> {
    result.map_err(|refused| (refused.error, refused.value.map(value)))
}

fn accepts(parity: Option<bool>, value: u32) -> bool {
    parity.is_none_or(|odd| (value & 1 == 1) == odd)
}

/// The handle `target` stands for, if it is one at config `C`.
fn resolve<C: Config>(
    target: Target,
    issued: &[Handle<C>],
    model: &Reference<u32, Key, C>,
) -> Option<Handle<C>> {
    let pick = |i: u8| {
        let len = issued.len();
        (len > 0).then(|| issued.get(usize::from(i) % len).copied())?
    };
    match target {
        Target::Issued(i) => pick(i),
        Target::Near { issued, delta } => {
            let h = pick(issued)?;
            let generation = i64::from(h.generation().get()) + i64::from(delta);
            Handle::new(h.index(), Generation::new(u32::try_from(generation).ok()?))
        }
        Target::Slot { index, generation } => {
            let max = Reference::<u32, Key, C>::MAX_GENERATION;
            let index = index % model.len().saturating_add(1);
            let generation = generation % max.saturating_add(1).max(1);
            Handle::new(Index::new(index), Generation::new(generation))
        }
        Target::Raw(raw) => {
            let used = C::INDEX_BITS + C::GENERATION_BITS;
            let mask = 1u64.checked_shl(used).map_or(u64::MAX, |bit| bit - 1);
            Handle::from_raw(raw & mask)
        }
    }
}

fn run<C: Config>(ops: &[Op]) {
    let store: Store<Tracked, Key, C> = Store::new();
    let other: Store<Tracked, Key, C> = Store::new();
    let reader = store.reader();
    let mut guard: Option<Guard<'_, Tracked, Key, C>> = None;
    let mut txn: Option<WriteTxn<'_, Tracked, Key, C>> = None;
    let mut model: Reference<u32, Key, C> = Reference::new();
    let mut txn_model: Option<TxnModel<C>> = None;
    let mut issued: Vec<Handle<C>> = Vec::new();
    let mut revision = 0u64;
    let mut tickets: Vec<DrainTicket> = Vec::new();
    // While a guard is held: values retired since it was pinned, and the
    // tickets of the writes that retired them.
    let mut retired_while_pinned = 0usize;
    let mut pinned_tickets: Vec<DrainTicket> = Vec::new();

    for &op in ops {
        match op {
            Op::Insert { key, value } => {
                let key = key % KEYS;
                let expected = plain(model.insert(key, value), |v| v);
                let got = match &mut txn {
                    Some(txn) => txn.insert(key, Tracked::new(value)),
                    None => store.insert(key, Tracked::new(value)),
                };
                let got = plain(got, |t| t.0);
                assert_eq!(got, expected, "{op:?}");
                if let Ok(handle) = got {
                    issued.push(handle);
                    match &mut txn_model {
                        Some(t) => t.inserted.push(handle),
                        None => revision += 1,
                    }
                }
            }
            Op::Replace(target, _) | Op::Remove(target) => {
                let Some(handle) = resolve(target, &issued, &model) else {
                    continue;
                };
                let replace = matches!(op, Op::Replace(..)).then_some(value_of(op));
                match (&mut txn, &mut txn_model) {
                    (Some(txn), Some(t)) => {
                        let expected = match model.get(handle) {
                            Err(e) => Err((WriteError::Handle(e), replace)),
                            Ok(_) if t.staged.iter().any(|(h, _)| *h == handle) => {
                                Err((WriteError::AlreadyStaged { handle }, replace))
                            }
                            Ok(_) => Ok(()),
                        };
                        let got = match replace {
                            Some(v) => plain(txn.replace(handle, Tracked::new(v)), |t| t.0),
                            None => plain(txn.remove(handle), |t| t.0),
                        };
                        assert_eq!(got, expected, "{op:?} in a transaction");
                        if got.is_ok() {
                            t.staged.push((handle, replace));
                        }
                    }
                    _ => {
                        let (got, expected) = match replace {
                            Some(v) => (
                                plain(store.replace(handle, Tracked::new(v)), |t| t.0),
                                plain(model.replace(handle, v), |v| v),
                            ),
                            None => (
                                plain(store.remove(handle), |t| t.0),
                                plain(model.remove(handle), |v| v),
                            ),
                        };
                        assert_eq!(
                            got.is_ok(),
                            expected.is_ok(),
                            "{op:?}: {got:?} {expected:?}"
                        );
                        assert_eq!(got.as_ref().err(), expected.as_ref().err(), "{op:?}");
                        if let Ok(ticket) = got {
                            revision += 1;
                            tickets.push(ticket);
                            if guard.is_some() {
                                retired_while_pinned += 1;
                                pinned_tickets.push(ticket);
                            }
                        }
                    }
                }
            }
            Op::Get(target) | Op::GetForeign(target) => {
                let Some(handle) = resolve(target, &issued, &model) else {
                    continue;
                };
                let fresh;
                let g = match &guard {
                    Some(g) => g,
                    None => {
                        fresh = reader.pin();
                        &fresh
                    }
                };
                let expected = model.get(handle).copied();
                if matches!(op, Op::GetForeign(_)) {
                    assert_eq!(
                        other.get(handle, g).map(|t| t.0),
                        Err(GetError::ForeignGuard { handle })
                    );
                    assert_eq!(store.get(handle, g).map(|t| t.0), expected, "{op:?}");
                } else {
                    assert_eq!(g.get(handle).map(|t| t.0), expected, "{op:?}");
                }
            }
            Op::Find { key, parity } => {
                let key = key % KEYS;
                let fresh;
                let g = match &guard {
                    Some(g) => g,
                    None => {
                        fresh = reader.pin();
                        &fresh
                    }
                };
                let got = g
                    .find(&key, |t| accepts(parity, t.0))
                    .map(|(h, t)| (h, t.0));
                let expected = findable(&model, txn_model.as_ref(), key)
                    .into_iter()
                    .find(|(_, v)| accepts(parity, *v));
                assert_eq!(got, expected, "{op:?}");
            }
            Op::FindAll(key) => {
                let key = key % KEYS;
                let fresh;
                let g = match &guard {
                    Some(g) => g,
                    None => {
                        fresh = reader.pin();
                        &fresh
                    }
                };
                let got: Vec<_> = g.find_all(&key).map(|(h, t)| (h, t.0)).collect();
                assert_eq!(got, findable(&model, txn_model.as_ref(), key), "{op:?}");
            }
            Op::Begin => {
                if txn.is_none() {
                    txn = Some(store.write());
                    txn_model = Some(TxnModel {
                        inserted: Vec::new(),
                        staged: Vec::new(),
                    });
                }
            }
            Op::Commit => {
                let (Some(open), Some(t)) = (txn.take(), txn_model.take()) else {
                    continue;
                };
                let ticket = open.commit();
                for &(handle, value) in &t.staged {
                    let applied = match value {
                        Some(v) => model.replace(handle, v),
                        None => model.remove(handle),
                    };
                    assert!(applied.is_ok(), "a staged {handle:?} was live when staged");
                }
                if !t.inserted.is_empty() || !t.staged.is_empty() {
                    revision += 1;
                }
                if !t.staged.is_empty() {
                    tickets.push(ticket);
                    if guard.is_some() {
                        retired_while_pinned += t.staged.len();
                        pinned_tickets.push(ticket);
                    }
                }
            }
            Op::Abort => {
                let (Some(open), Some(t)) = (txn.take(), txn_model.take()) else {
                    continue;
                };
                drop(open);
                for &handle in &t.inserted {
                    assert!(model.remove(handle).is_ok(), "{handle:?} was inserted");
                }
                if guard.is_some() {
                    retired_while_pinned += t.inserted.len();
                }
            }
            Op::Pin => {
                if guard.is_none() {
                    guard = Some(reader.pin());
                    retired_while_pinned = 0;
                    pinned_tickets.clear();
                }
            }
            Op::Unpin => guard = None,
            Op::Reclaim => {
                if txn.is_some() {
                    continue;
                }
                let before = store.pending();
                let destroyed = store.reclaim();
                let after = store.pending();
                assert_eq!(before.checked_sub(destroyed), Some(after), "reclaim");
                if guard.is_some() {
                    assert!(
                        after >= retired_while_pinned,
                        "{after} pending, but {retired_while_pinned} retired under a live guard"
                    );
                } else {
                    assert_eq!(after, 0, "pending with no guard after reclaim");
                }
            }
            Op::Revision => {
                assert_eq!(store.revision().0, revision, "revision");
                if let Some(g) = &guard {
                    assert_eq!(g.revision().0, revision, "guard revision");
                }
            }
            Op::Drained(i) => {
                if txn.is_some() || tickets.is_empty() {
                    continue;
                }
                let ticket = tickets[usize::from(i) % tickets.len()];
                let drained = store.is_drained(ticket);
                if guard.is_none() {
                    assert!(drained, "{ticket:?} not drained with no guard");
                } else if pinned_tickets.contains(&ticket) {
                    assert!(!drained, "{ticket:?} drained under the guard it outlives");
                }
            }
        }
    }

    // Everything agrees at the end, transaction or not.
    let g = reader.pin();
    for &handle in &issued {
        assert_eq!(
            g.get(handle).map(|t| t.0),
            model.get(handle).copied(),
            "{handle:?}"
        );
    }
    for key in 0..KEYS {
        let got: Vec<_> = g.find_all(&key).map(|(h, t)| (h, t.0)).collect();
        assert_eq!(
            got,
            findable(&model, txn_model.as_ref(), key),
            "find_all({key})"
        );
    }
    if let Some(h) = Handle::<C>::new(Index::new(model.len()), Generation::FIRST) {
        assert_eq!(
            g.get(h).map(|t| t.0),
            Err(GetError::OutOfRange { handle: h })
        );
    }
    assert_eq!(store.revision().0, revision, "revision");
}

/// The value a `Replace` carries (0 for other operations).
fn value_of(op: Op) -> u32 {
    match op {
        Op::Replace(_, value) => value,
        _ => 0,
    }
}

/// What `find_all(key)` should yield: the model's live values under `key`,
/// oldest first, without the open transaction's inserts (indexed only at
/// commit).
fn findable<C: Config>(
    model: &Reference<u32, Key, C>,
    txn: Option<&TxnModel<C>>,
    key: Key,
) -> Vec<(Handle<C>, u32)> {
    model
        .find_all(&key)
        .into_iter()
        .filter(|(h, _)| txn.is_none_or(|t| !t.inserted.contains(h)))
        .map(|(h, v)| (h, *v))
        .collect()
}
