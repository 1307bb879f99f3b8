//! The message of a plugin's error: bounded, cut at a character, and
//! saying when it was cut.
//!
//! A plugin reports an error as an [`AbiError`](polyplug_abi::AbiError)
//! whose `message` view may be as long as the plugin likes. The host reads
//! at most [`PluginMessage::MAX_BYTES`] of it, so a wrong length cannot make
//! it read (or copy) without bound. A longer message is cut there, at the
//! last whole UTF-8 character, and the cut shows in its `Display`.

use core::fmt;

use polyplug_loader::Escaped;

/// A plugin's error message, as the host keeps it: the text the plugin
/// wrote (raw, any characters, invalid UTF-8 replaced by U+FFFD), at most
/// [`MAX_BYTES`](PluginMessage::MAX_BYTES) of it.
///
/// `Display` shows the text through [`Escaped`], so it is one line of
/// printable characters, and ends with `… (truncated from N bytes)` when
/// the plugin's message was longer than the limit. [`as_str`](PluginMessage::as_str)
/// gives the raw text.
///
/// ```
/// use polyplug::PluginMessage;
///
/// let short = PluginMessage::from_bytes(b"bad input\n\x1b[31m");
/// assert_eq!(short.as_str(), "bad input\n\u{1b}[31m");
/// assert_eq!(short.to_string(), r"bad input\n\u{1b}[31m");
/// assert_eq!(short.truncated_from(), None);
///
/// let long = PluginMessage::from_bytes(&[b'x'; 100_000]);
/// assert_eq!(long.as_str().len(), PluginMessage::MAX_BYTES);
/// assert_eq!(long.truncated_from(), Some(100_000));
/// assert!(long.to_string().ends_with("x… (truncated from 100000 bytes)"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PluginMessage {
    text: String,
    /// The plugin's length in bytes, when the text was cut.
    truncated_from: Option<usize>,
}

impl PluginMessage {
    /// The longest message the host reads, in bytes: 64 KiB.
    ///
    /// ```
    /// assert_eq!(polyplug::PluginMessage::MAX_BYTES, 65_536);
    /// ```
    pub const MAX_BYTES: usize = 64 * 1024;

    /// The message `bytes` make: all of them when there are at most
    /// [`MAX_BYTES`](PluginMessage::MAX_BYTES), else the first
    /// `MAX_BYTES` less a UTF-8 character the cut would split, marked as
    /// truncated.
    ///
    /// ```
    /// use polyplug::PluginMessage;
    ///
    /// // `é` is two bytes; the limit falls between them, so it goes whole.
    /// let mut bytes = vec![b'a'; PluginMessage::MAX_BYTES - 1];
    /// bytes.extend_from_slice("é and more".as_bytes());
    /// let message = PluginMessage::from_bytes(&bytes);
    /// assert_eq!(message.as_str(), "a".repeat(PluginMessage::MAX_BYTES - 1));
    /// assert_eq!(message.truncated_from(), Some(bytes.len()));
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> PluginMessage {
        let read = bytes.get(..PluginMessage::MAX_BYTES).unwrap_or(bytes);
        PluginMessage::from_prefix(read, bytes.len())
    }

    /// The message whose first bytes are `prefix` (at most
    /// [`MAX_BYTES`](PluginMessage::MAX_BYTES) of them) and whose whole
    /// length is `len` bytes.
    pub(crate) fn from_prefix(prefix: &[u8], len: usize) -> PluginMessage {
        let prefix = prefix.get(..PluginMessage::MAX_BYTES).unwrap_or(prefix);
        let cut = len > prefix.len();
        let kept = if cut {
            whole_characters(prefix)
        } else {
            prefix
        };
        PluginMessage {
            text: String::from_utf8_lossy(kept).into_owned(),
            truncated_from: cut.then_some(len),
        }
    }

    /// The text, raw: it may hold any character, control characters too.
    ///
    /// ```
    /// let message = polyplug::PluginMessage::from("two\nlines");
    /// assert_eq!(message.as_str(), "two\nlines");
    /// assert_eq!(message.to_string(), r"two\nlines");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The length of the plugin's message in bytes when it was longer than
    /// [`MAX_BYTES`](PluginMessage::MAX_BYTES) and so was cut, else `None`.
    ///
    /// ```
    /// use polyplug::PluginMessage;
    ///
    /// assert_eq!(PluginMessage::from("short").truncated_from(), None);
    /// ```
    pub fn truncated_from(&self) -> Option<usize> {
        self.truncated_from
    }
}

/// `bytes` without a UTF-8 sequence that was cut short at their end (at
/// most three bytes go). Invalid bytes are left for the lossy conversion.
fn whole_characters(bytes: &[u8]) -> &[u8] {
    let tail = bytes.len().saturating_sub(3);
    for (at, &byte) in bytes.iter().enumerate().skip(tail).rev() {
        if byte & 0xc0 == 0x80 {
            continue; // a continuation byte: look further back
        }
        let width = match byte {
            0xf0..=0xf7 => 4,
            0xe0..=0xef => 3,
            0xc0..=0xdf => 2,
            _ => 1,
        };
        return if at + width > bytes.len() {
            bytes.get(..at).unwrap_or(bytes)
        } else {
            bytes
        };
    }
    bytes
}

impl fmt::Display for PluginMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Escaped(&self.text))?;
        if let Some(len) = self.truncated_from {
            write!(f, "… (truncated from {len} bytes)")?;
        }
        Ok(())
    }
}

impl From<String> for PluginMessage {
    fn from(text: String) -> PluginMessage {
        PluginMessage {
            text,
            truncated_from: None,
        }
    }
}

impl From<&str> for PluginMessage {
    fn from(text: &str) -> PluginMessage {
        PluginMessage::from(text.to_owned())
    }
}

impl PartialEq<str> for PluginMessage {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl PartialEq<&str> for PluginMessage {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl PartialEq<String> for PluginMessage {
    fn eq(&self, other: &String) -> bool {
        self.text == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = PluginMessage::MAX_BYTES;

    /// `MAX - 1` bytes of `a`, then `tail`.
    fn straddling(tail: &str) -> Vec<u8> {
        let mut bytes = vec![b'a'; MAX - 1];
        bytes.extend_from_slice(tail.as_bytes());
        bytes
    }

    #[test]
    fn a_message_at_the_limit_is_whole() {
        let message = PluginMessage::from_bytes(&[b'a'; MAX]);
        assert_eq!(message.as_str().len(), MAX);
        assert_eq!(message.truncated_from(), None);
        assert!(!message.to_string().contains("truncated"));
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        for (tail, kept) in [
            ("é", MAX - 1),   // 2 bytes, 1 fits
            ("漢", MAX - 1),  // 3 bytes, 1 fits
            ("🙂", MAX - 1),  // 4 bytes, 1 fits
            ("ab", MAX),      // cut between whole characters
            ("\u{7f}x", MAX), // one-byte character at the cut
        ] {
            let mut bytes = straddling(tail);
            bytes.push(b'z');
            let message = PluginMessage::from_bytes(&bytes);
            assert_eq!(message.as_str().len(), kept, "{tail:?}");
            assert!(!message.as_str().contains('\u{fffd}'), "{tail:?}");
            assert_eq!(message.truncated_from(), Some(bytes.len()));
        }
        // Three bytes of a four-byte character before the cut.
        let mut bytes = vec![b'a'; MAX - 3];
        bytes.extend_from_slice("🙂🙂".as_bytes());
        let message = PluginMessage::from_bytes(&bytes);
        assert_eq!(message.as_str(), "a".repeat(MAX - 3));
    }

    #[test]
    fn invalid_bytes_are_replaced_not_dropped() {
        let mut bytes = vec![b'a'; MAX - 1];
        bytes.extend_from_slice(b"\xff\xff");
        let message = PluginMessage::from_bytes(&bytes);
        assert!(message.as_str().ends_with("a\u{fffd}"));
        assert_eq!(PluginMessage::from_bytes(b"x\xffy").as_str(), "x\u{fffd}y");
    }

    #[test]
    fn display_escapes_and_says_where_it_was_cut() {
        let mut bytes = vec![b'\n'; MAX];
        bytes.push(b'!');
        let shown = PluginMessage::from_bytes(&bytes).to_string();
        assert!(shown.starts_with(r"\n\n"));
        assert!(shown.ends_with(&format!(r"\n… (truncated from {} bytes)", MAX + 1)));
        assert!(!shown.contains('\n'));
    }
}
