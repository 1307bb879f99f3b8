//! State-handover checks that the Lua and JavaScript loaders' tests share:
//! both fixtures' `handover.counter` fails a save the same ways, by its
//! `arm` mode. Included by path from `engines/lua/tests/lua.rs` and
//! `engines/js/tests/js.rs`.

use polyplug::{CallError, HandoverError, HandoverStep, Instance, Reader};
use polyplug_abi::{ERR_BUDGET, ERR_TRAP};

/// The plugin's error of `err`, asserting that it failed at `step`.
#[expect(clippy::panic, reason = "test support: another error fails the test")]
pub(crate) fn failure(err: &HandoverError, step: HandoverStep) -> &CallError {
    let HandoverError::Failed {
        step: failed,
        source,
        ..
    } = err
    else {
        panic!("expected HandoverError::Failed, got {err:?}");
    };
    assert_eq!(*failed, step, "{err}");
    source
}

/// Asserts `err` failed at `step` with the plugin code `code`, in a message
/// that contains `words`.
pub(crate) fn failed(err: HandoverError, step: HandoverStep, code: u32, words: &str) {
    let source = failure(&err, step);
    assert_eq!(source.code, code, "{err}");
    assert!(source.message.as_str().contains(words), "{err}");
}

/// Arms `counter`'s save to loop past the fuel (mode 1), to return what
/// is not a state (mode 3; the engine says `not_a_state`), and to ask for
/// more memory than the bundle may have (mode 4). Each upgrade fails at
/// save, and the old instance counts on from `count`; its count after the
/// last is returned.
pub(crate) fn save_failures(
    counter: &mut Instance,
    reader: &Reader<'_>,
    count: u32,
    not_a_state: &str,
) -> u32 {
    let mut count = count;
    for (arm, code, words) in [
        (1, ERR_BUDGET, "limits.fuel"),
        (3, ERR_TRAP, not_a_state),
        (4, ERR_BUDGET, "limits.memory_pages"),
    ] {
        counter
            .typed::<extern "C" fn(u32) -> u32>("arm")
            .unwrap()
            .call(arm)
            .unwrap();
        failed(
            counter.upgrade(&reader.pin()).unwrap_err(),
            HandoverStep::Save,
            code,
            words,
        );
        count += 1;
        let stepped = counter
            .typed::<extern "C" fn() -> u32>("step")
            .unwrap()
            .call()
            .unwrap();
        assert_eq!(stepped, count, "the old instance counts on after {words}");
    }
    count
}
