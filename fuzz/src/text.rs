//! Text a plugin or a file supplied, as messages show it: the bytes, read
//! as UTF-8 with replacement, through [`Escaped`]; and the bytes, and the
//! bytes repeated past the limit, as a plugin's error message
//! ([`PluginMessage`]).
//!
//! Properties, for every input:
//!
//! 1. The shown text holds no character for which [`is_unsafe_char`]
//!    holds: no C0 or C1 control, no DEL, no bidi control.
//! 2. Text that holds no such character and that `escape_debug` leaves
//!    alone (printable characters) is shown unchanged.
//! 3. Showing the text in two pieces, split at any character boundary,
//!    holds no unsafe character either.
//! 4. A plugin message of at most [`PluginMessage::MAX_BYTES`] keeps all
//!    of the text and is not marked as cut; a longer one keeps the text of
//!    the first `MAX_BYTES` less at most three bytes (a character the cut
//!    would split), is marked as cut from its length, and says so at the
//!    end of its `Display`, which holds no unsafe character.

use polyplug::PluginMessage;
use polyplug_loader::{Escaped, is_unsafe_char};

/// Shows `bytes` as messages do and checks the properties above.
///
/// ```
/// polyplug_fuzz::text::check(b"plain text");
/// polyplug_fuzz::text::check(b"line\n\x1b[31m\0\xe2\x80\xae\xff");
/// ```
pub fn check(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let shown = Escaped(&*text).to_string();
    assert!(
        !shown.chars().any(is_unsafe_char),
        "{text:?} is shown as {shown:?}"
    );
    let printable = text
        .chars()
        .all(|c| matches!(c, '\\' | '"' | '\'') || c.escape_debug().count() == 1);
    if printable {
        assert_eq!(shown, text, "printable text changed");
    }
    let split = text
        .char_indices()
        .map(|(at, _)| at)
        .nth(usize::from(bytes.first().copied().unwrap_or(0)) % text.len().max(1))
        .unwrap_or(0);
    let (head, tail) = text.split_at(split);
    let pieces = format!("{}{}", Escaped(head), Escaped(tail));
    assert!(
        !pieces.chars().any(is_unsafe_char),
        "{text:?} in two pieces is shown as {pieces:?}"
    );
    check_message(bytes);
    if !bytes.is_empty() {
        check_message(&bytes.repeat(PluginMessage::MAX_BYTES / bytes.len() + 1));
    }
}

/// Property 4 for the message `bytes` make.
fn check_message(bytes: &[u8]) {
    const MAX: usize = PluginMessage::MAX_BYTES;
    let message = PluginMessage::from_bytes(bytes);
    let shown = message.to_string();
    assert!(!shown.chars().any(is_unsafe_char), "{shown:?}");
    if bytes.len() <= MAX {
        assert_eq!(message.as_str(), String::from_utf8_lossy(bytes));
        assert_eq!(message.truncated_from(), None);
        return;
    }
    assert_eq!(message.truncated_from(), Some(bytes.len()));
    let kept =
        (MAX - 3..=MAX).any(|len| String::from_utf8_lossy(&bytes[..len]) == message.as_str());
    assert!(kept, "the kept text is no prefix cut near the limit");
    let note = format!("… (truncated from {} bytes)", bytes.len());
    assert!(shown.ends_with(&note), "no note of the cut");
}
