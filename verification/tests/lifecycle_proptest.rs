//! Handle lifecycles as a state machine, against the reference model.
//!
//! Each case is a random sequence of `insert`, `get`, `replace`, `remove`,
//! `find` and `find_all`, run on a real `Store` and on
//! [`Reference`](polyplug_verification::reference::Reference) side by side.
//! Every result must be identical, handle for handle and error for error.
//! The handles the operations use are the ones the store issued earlier
//! (live and stale), forged raw words, and issued handles with the right
//! index but a wrong generation.
//!
//! The `Tiny` config has 8 slots of 3 generations each, so within a few
//! dozen operations slots are reused, generations run out and slots are
//! retired, and the store fills up. The same machine also runs at
//! `DefaultConfig`.
//!
//! Case count: `PROPTEST_CASES` (proptest's default, 256, when unset).
#![cfg(not(any(loom, shuttle)))]

use std::marker::PhantomData;

use polyplug_store::{
    Config, DefaultConfig, Generation, GetError, Handle, Index, Refused, Store, WriteError,
};
use polyplug_verification::reference::Reference;
use proptest::prelude::*;
use proptest::strategy::{Union, ValueTree};
use proptest::test_runner::TestRunner;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};

type Key = u8;
type Value = u32;

/// Keys are drawn from `0..KEYS`, so several values share a key.
const KEYS: Key = 4;

polyplug_store::config! {
    /// 8 slots, generations 1 to 3, a first segment of one slot.
    Tiny { index: 3, generation: 2, first_segment: 0 }
}

/// One operation.
#[derive(Debug, Clone)]
enum Op<C: Config> {
    Insert {
        key: Key,
        value: Value,
    },
    Get(Handle<C>),
    Replace(Handle<C>, Value),
    Remove(Handle<C>),
    /// `find(key, predicate)`; the predicate accepts every value when
    /// `parity` is `None`, else values whose low bit equals `parity`.
    Find {
        key: Key,
        parity: Option<bool>,
    },
    FindAll(Key),
}

fn accepts(parity: Option<bool>, value: Value) -> bool {
    parity.is_none_or(|odd| (value & 1 == 1) == odd)
}

/// The result of one operation, in a form both sides produce.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome<C: Config> {
    Insert(Result<Handle<C>, Refused<Value, C>>),
    Get(Result<Value, GetError<C>>),
    Replace(Result<(), Refused<Value, C>>),
    Remove(Result<(), Refused<Value, C>>),
    Find(Option<(Handle<C>, Value)>),
    FindAll(Vec<(Handle<C>, Value)>),
}

/// The reference state: the model, every handle issued so far, and the
/// model's answer to the last operation (which the store must match).
#[derive(Debug, Clone)]
struct State<C: Config> {
    model: Reference<Value, Key, C>,
    issued: Vec<Handle<C>>,
    last: Option<Outcome<C>>,
}

struct Machine<C>(PhantomData<C>);

/// Strategy for the handle an operation targets.
fn target<C: Config>(state: &State<C>) -> BoxedStrategy<Handle<C>> {
    let max_generation = Reference::<Value, Key, C>::MAX_GENERATION;
    let used = C::INDEX_BITS + C::GENERATION_BITS;
    let mask = if used >= 64 {
        u64::MAX
    } else {
        (1u64 << used) - 1
    };
    // Forged raw words within the handle bits (generation 0 is rejected by
    // `from_raw`, which `handle_proptest` covers; here we need a handle).
    let forged = any::<u64>()
        .prop_filter_map("generation 0 is no handle", move |raw| {
            Handle::<C>::from_raw(raw & mask)
        })
        .boxed();
    let mut arms: Vec<(u32, BoxedStrategy<Handle<C>>)> = vec![(1, forged)];
    if !state.issued.is_empty() {
        let issued = state.issued.clone();
        arms.push((8, proptest::sample::select(issued.clone()).boxed()));
        // An issued handle's index with another generation: a near one
        // (the previous or next value of that slot) or any at all.
        let generation = prop_oneof![
            (-2i64..=2).prop_map(|delta| (true, delta)),
            (1..=i64::from(max_generation)).prop_map(|g| (false, g)),
        ];
        let wrong = (proptest::sample::select(issued), generation)
            .prop_filter_map("generation out of range", |(h, (relative, g))| {
                let g = if relative {
                    i64::from(h.generation().get()) + g
                } else {
                    g
                };
                let g = u32::try_from(g).ok()?;
                Handle::new(h.index(), Generation::new(g))
            })
            .boxed();
        arms.push((2, wrong));
    }
    let len = state.model.len();
    if len > 0 {
        // Any used index with any generation.
        let used_slot = (0..len, 1..=max_generation)
            .prop_filter_map("in range", |(i, g)| {
                Handle::new(Index::new(i), Generation::new(g))
            })
            .boxed();
        arms.push((1, used_slot));
    }
    Union::new_weighted(arms).boxed()
}

impl<C: Config> ReferenceStateMachine for Machine<C> {
    type State = State<C>;
    type Transition = Op<C>;

    fn init_state() -> BoxedStrategy<Self::State> {
        Just(State {
            model: Reference::new(),
            issued: Vec::new(),
            last: None,
        })
        .boxed()
    }

    fn transitions(state: &Self::State) -> BoxedStrategy<Self::Transition> {
        let key = 0..KEYS;
        prop_oneof![
            5 => (key.clone(), any::<Value>()).prop_map(|(key, value)| Op::Insert { key, value }),
            3 => target(state).prop_map(Op::Get),
            3 => (target(state), any::<Value>()).prop_map(|(h, v)| Op::Replace(h, v)),
            3 => target(state).prop_map(Op::Remove),
            2 => (key.clone(), proptest::option::of(any::<bool>()))
                .prop_map(|(key, parity)| Op::Find { key, parity }),
            1 => key.prop_map(Op::FindAll),
        ]
        .boxed()
    }

    fn apply(mut state: Self::State, op: &Self::Transition) -> Self::State {
        let model = &mut state.model;
        let outcome = match *op {
            Op::Insert { key, value } => {
                let result = model.insert(key, value);
                if let Ok(h) = result {
                    state.issued.push(h);
                }
                Outcome::Insert(result)
            }
            Op::Get(h) => Outcome::Get(model.get(h).copied()),
            Op::Replace(h, v) => Outcome::Replace(model.replace(h, v)),
            Op::Remove(h) => Outcome::Remove(model.remove(h)),
            Op::Find { key, parity } => Outcome::Find(
                model
                    .find(&key, |v| accepts(parity, *v))
                    .map(|(h, v)| (h, *v)),
            ),
            Op::FindAll(key) => Outcome::FindAll(
                model
                    .find_all(&key)
                    .into_iter()
                    .map(|(h, v)| (h, *v))
                    .collect(),
            ),
        };
        state.last = Some(outcome);
        state
    }
}

/// The store under test against [`Machine`].
struct StoreTest<C>(PhantomData<C>);

impl<C: Config> StateMachineTest for StoreTest<C> {
    type SystemUnderTest = Store<Value, Key, C>;
    type Reference = Machine<C>;

    fn init_test(_state: &State<C>) -> Self::SystemUnderTest {
        Store::new()
    }

    fn apply(store: Self::SystemUnderTest, state: &State<C>, op: Op<C>) -> Self::SystemUnderTest {
        let outcome = match op {
            Op::Insert { key, value } => Outcome::Insert(store.insert(key, value)),
            Op::Get(h) => Outcome::Get(store.reader().pin().get(h).copied()),
            Op::Replace(h, v) => Outcome::Replace(store.replace(h, v).map(drop)),
            Op::Remove(h) => Outcome::Remove(store.remove(h).map(drop)),
            Op::Find { key, parity } => {
                let reader = store.reader();
                let guard = reader.pin();
                Outcome::Find(
                    guard
                        .find(&key, |v| accepts(parity, *v))
                        .map(|(h, v)| (h, *v)),
                )
            }
            Op::FindAll(key) => {
                let reader = store.reader();
                let guard = reader.pin();
                Outcome::FindAll(guard.find_all(&key).map(|(h, v)| (h, *v)).collect())
            }
        };
        assert_eq!(
            Some(&outcome),
            state.last.as_ref(),
            "store (left) and model (right) disagree on {op:?}"
        );
        store
    }

    fn check_invariants(store: &Self::SystemUnderTest, state: &State<C>) {
        let model = &state.model;
        {
            let reader = store.reader();
            let guard = reader.pin();
            // Every live handle resolves to the model's value.
            for (h, _, v) in model.live() {
                assert_eq!(guard.get(h), Ok(v), "live handle {h:?}");
            }
            // Every handle ever issued gets the same answer, live or not.
            for &h in &state.issued {
                assert_eq!(guard.get(h), model.get(h), "issued handle {h:?}");
            }
            // The first never-used index is out of range.
            if let Some(h) = Handle::<C>::new(Index::new(model.len()), Generation::FIRST) {
                assert_eq!(guard.get(h), Err(GetError::OutOfRange { handle: h }));
            }
            // The key index agrees for every key.
            for key in 0..KEYS {
                let store_all: Vec<_> = guard.find_all(&key).map(|(h, v)| (h, *v)).collect();
                let model_all: Vec<_> = model
                    .find_all(&key)
                    .into_iter()
                    .map(|(h, v)| (h, *v))
                    .collect();
                assert_eq!(store_all, model_all, "find_all({key})");
                assert_eq!(
                    guard.find(&key, |_| true).map(|(h, v)| (h, *v)),
                    model_all.first().copied(),
                    "find({key})"
                );
            }
        }
        // One revision per successful write.
        assert_eq!(store.revision().0, model.revision(), "revision");
        // No reader is pinned between operations, so every retired value
        // has already been destroyed by the write that retired it.
        assert_eq!(store.pending(), 0, "pending");
        assert!(store.is_drained(store.drain_ticket()));
    }
}

prop_state_machine! {
    #[test]
    fn lifecycle_tiny(sequential 1..96 => StoreTest<Tiny>);

    #[test]
    fn lifecycle_default(sequential 1..96 => StoreTest<DefaultConfig>);
}

/// What happened at least once across the sampled sequences.
#[derive(Debug, Default)]
struct Seen {
    reuse: bool,
    full: bool,
    retired: bool,
    stale: bool,
    removed: bool,
    out_of_range: bool,
    write_refused: bool,
    find_filtered: bool,
}

/// The generator reaches every interesting outcome at the tiny config: a
/// machine that never filled the store or retired a slot would pass
/// vacuously.
#[test]
fn tiny_transitions_reach_every_outcome() {
    let strategy = Machine::<Tiny>::sequential_strategy(1..96);
    let mut runner = TestRunner::deterministic();
    let mut seen = Seen::default();
    for _ in 0..256 {
        let (mut state, ops, _) = strategy.new_tree(&mut runner).unwrap().current();
        for op in &ops {
            state = Machine::<Tiny>::apply(state, op);
            match state.last.as_ref().unwrap() {
                Outcome::Insert(Ok(h)) if h.generation() > Generation::FIRST => seen.reuse = true,
                Outcome::Insert(Err(Refused {
                    error: WriteError::Full { .. },
                    ..
                })) => seen.full = true,
                Outcome::Get(Err(e))
                | Outcome::Replace(Err(Refused {
                    error: WriteError::Handle(e),
                    ..
                }))
                | Outcome::Remove(Err(Refused {
                    error: WriteError::Handle(e),
                    ..
                })) => {
                    seen.write_refused |= !matches!(state.last, Some(Outcome::Get(_)));
                    match e {
                        GetError::Stale { .. } => seen.stale = true,
                        GetError::Removed { .. } => seen.removed = true,
                        GetError::OutOfRange { .. } => seen.out_of_range = true,
                        GetError::ForeignGuard { .. } => {}
                    }
                }
                Outcome::Find(None) => {
                    if let Op::Find { key, .. } = op {
                        seen.find_filtered |= state.model.find(key, |_| true).is_some();
                    }
                }
                _ => {}
            }
            seen.retired |= (0..state.model.len()).any(|i| state.model.is_retired(Index::new(i)));
        }
    }
    assert!(
        seen.reuse
            && seen.full
            && seen.retired
            && seen.stale
            && seen.removed
            && seen.out_of_range
            && seen.write_refused
            && seen.find_filtered,
        "{seen:?}"
    );
}
