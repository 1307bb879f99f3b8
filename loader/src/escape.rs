//! Text from plugins and files, made safe to print.
//!
//! A contract name, a library path, a manifest field or a plugin's error
//! message can hold any character: a newline that forges a second log
//! line, an escape sequence that recolours or clears a terminal, a NUL
//! that cuts a C string, a bidi override (U+202E) that reverses what a
//! reader sees. Every error message that shows such text shows it through
//! [`Escaped`], which writes those characters as Rust escapes (`\n`,
//! `\u{1b}`, `\0`, `\u{202e}`) and everything else as it is. The errors
//! keep the raw text in their fields, for a host that wants the bytes.

use core::fmt::{self, Write as _};

/// Displays `T` with every control character, bidi control and other
/// invisible or non-printing character escaped, the way Rust's
/// [`str::escape_debug`] escapes it, but without adding quotes and leaving
/// `\`, `"` and `'` as they are.
///
/// The result holds no C0 or C1 control character (so no newline, escape
/// or NUL), no DEL, and no bidi control: one message is one line, and it
/// cannot drive a terminal. Text made only of printable characters is
/// shown unchanged, so a Windows path or a message already escaped by
/// `{:?}` reads as it did; the error's field keeps the raw text, which
/// tells a literal backslash from an escape.
///
/// ```
/// use std::path::Path;
/// use polyplug_loader::Escaped;
///
/// let message = "line one\nline two \u{1b}[31mred\0 \u{202e}txt.exe";
/// assert_eq!(
///     Escaped(message).to_string(),
///     r"line one\nline two \u{1b}[31mred\0 \u{202e}txt.exe"
/// );
/// assert_eq!(Escaped("C:\\plugins\\\"é\"").to_string(), "C:\\plugins\\\"é\"");
/// assert_eq!(Escaped(Path::new("/b/x\ny").display()).to_string(), r"/b/x\ny");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Escaped<T>(pub T);

impl<T: fmt::Display> fmt::Display for Escaped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(Escaper { out: f }, "{}", self.0)
    }
}

/// Forwards text to `out` with the characters [`Escaped`] escapes
/// escaped.
struct Escaper<'a, 'b> {
    out: &'a mut fmt::Formatter<'b>,
}

impl fmt::Write for Escaper<'_, '_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        // `escape_debug` escapes `\`, `"` and `'` too; those are printable
        // and pass through, so the pieces between them are escaped alone.
        for piece in text.split_inclusive(['\\', '"', '\'']) {
            let (body, kept) = match piece.char_indices().next_back() {
                Some((at, '\\' | '"' | '\'')) => piece.split_at(at),
                _ => (piece, ""),
            };
            write!(self.out, "{}", body.escape_debug())?;
            self.out.write_str(kept)?;
        }
        Ok(())
    }
}

/// Whether `c` is a character that [`Escaped`] must never let through:
/// a C0 or C1 control, DEL, or a bidi control.
///
/// ```
/// use polyplug_loader::is_unsafe_char;
///
/// assert!(is_unsafe_char('\n') && is_unsafe_char('\u{1b}') && is_unsafe_char('\u{202e}'));
/// assert!(!is_unsafe_char('é') && !is_unsafe_char('\\'));
/// ```
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str) -> String {
        Escaped(text).to_string()
    }

    #[test]
    fn controls_become_rust_escapes() {
        assert_eq!(escaped("a\nb\rc\td\0e"), r"a\nb\rc\td\0e");
        assert_eq!(
            escaped("\u{1b}[2J\u{7f}\u{85}\u{9b}"),
            r"\u{1b}[2J\u{7f}\u{85}\u{9b}"
        );
        assert_eq!(
            escaped("\u{202e}\u{2066}\u{200f}\u{2028}"),
            r"\u{202e}\u{2066}\u{200f}\u{2028}"
        );
    }

    #[test]
    fn printable_text_is_unchanged() {
        for text in [
            "",
            "plain",
            r"C:\plugins\lib.dll",
            "quotes \" and ' stay",
            "a trailing backslash \\",
            "\\\\\"'\"",
            "é ß 漢字 🙂",
            r"already escaped: \n \u{1b}",
        ] {
            assert_eq!(escaped(text), text);
        }
    }

    #[test]
    fn no_unsafe_character_survives() {
        let every: String = (0..0x3000u32).filter_map(char::from_u32).collect();
        let shown = escaped(&every);
        assert!(!shown.chars().any(is_unsafe_char), "{shown}");
        assert_eq!(escaped(&shown), shown, "escaping twice changes nothing");
    }

    #[test]
    fn pieces_written_separately_are_escaped_alike() {
        struct Pieces;
        impl fmt::Display for Pieces {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a\\")?;
                f.write_str("\n\"")?;
                fmt::Display::fmt(&'\u{1b}', f)
            }
        }
        assert_eq!(Escaped(Pieces).to_string(), r#"a\\n"\u{1b}"#);
    }
}
