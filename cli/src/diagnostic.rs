//! Errors that read like a compiler's: what is wrong, where, and the
//! manifest line it is about.
//!
//! ```text
//! error: plugins/x/manifest.toml:3:11: field `bundle.version`: expected major.minor.patch, found "1.x"
//!   --> plugins/x/manifest.toml:3:11
//!    |
//!  3 | version = "1.x"
//!    |           ^
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use polyplug_loader::ManifestError;

/// A position in a manifest: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

/// One error, with where it points.
#[derive(Debug)]
pub(crate) struct Diagnostic {
    /// The whole first line after `error: `.
    message: String,
    /// What `-->` points at: a file (with its position) or a directory.
    location: PathBuf,
    position: Option<Position>,
    /// The manifest line shown under the arrow, when there is one.
    source_line: Option<String>,
    notes: Vec<String>,
}

impl Diagnostic {
    /// An error about `location`, a file or directory, with no position.
    pub(crate) fn at(location: &Path, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            location: location.to_owned(),
            position: None,
            source_line: None,
            notes: Vec::new(),
        }
    }

    /// An error about `field` of the manifest at `file`, whose text is
    /// `text`, as `FILE:LINE:COL: field `FIELD`: WHAT`. Without a
    /// position the field still names it.
    pub(crate) fn field(
        file: &Path,
        text: &str,
        field: &str,
        position: Option<Position>,
        what: &str,
    ) -> Diagnostic {
        let message = match position {
            Some(p) => format!(
                "{}:{}:{}: field `{field}`: {what}",
                file.display(),
                p.line,
                p.column
            ),
            None => format!("{}: field `{field}`: {what}", file.display()),
        };
        Diagnostic {
            message,
            location: file.to_owned(),
            position,
            source_line: position.and_then(|p| text.lines().nth(p.line - 1).map(str::to_owned)),
            notes: Vec::new(),
        }
    }

    /// A manifest that does not parse; its own `Display` already names the
    /// file, position and field.
    pub(crate) fn manifest(error: &ManifestError, text: &str) -> Diagnostic {
        let position = Position {
            line: error.line,
            column: error.column,
        };
        match &error.field {
            Some(field) => Diagnostic::field(
                &error.file,
                text,
                field,
                Some(position),
                &error.kind.to_string(),
            ),
            None => Diagnostic {
                message: error.to_string(),
                location: error.file.clone(),
                position: Some(position),
                source_line: text.lines().nth(error.line.max(1) - 1).map(str::to_owned),
                notes: Vec::new(),
            },
        }
    }

    /// An error about script `file`, whose text is `text`: when `message`
    /// names a line of it as `<file name>:<line>:`, as the Lua and
    /// JavaScript engines do (`<file name>:<line>:<column>` too), the
    /// arrow points at that line and shows it.
    pub(crate) fn script(file: &Path, text: &str, message: String) -> Diagnostic {
        let position = file
            .file_name()
            .map(|name| format!("{}:", name.to_string_lossy()))
            .and_then(|prefix| script_position(&message, &prefix));
        Diagnostic {
            message,
            location: file.to_owned(),
            position,
            source_line: position.and_then(|p| text.lines().nth(p.line - 1).map(str::to_owned)),
            notes: Vec::new(),
        }
    }

    /// Adds a `= note:` line.
    pub(crate) fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        match self.position {
            Some(p) => writeln!(
                f,
                "  --> {}:{}:{}",
                self.location.display(),
                p.line,
                p.column
            )?,
            None => writeln!(f, "  --> {}", self.location.display())?,
        }
        if let (Some(p), Some(line)) = (self.position, &self.source_line) {
            let number = p.line.to_string();
            let pad = " ".repeat(number.len());
            writeln!(f, " {pad} |")?;
            writeln!(f, " {number} | {line}")?;
            writeln!(f, " {pad} | {}^", " ".repeat(p.column.saturating_sub(1)))?;
        }
        for note in &self.notes {
            writeln!(f, "  = note: {note}")?;
        }
        Ok(())
    }
}

/// Where `key` of table `[table]` (or of the `index`-th `[[table]]`) is
/// set in a manifest: the position of its value. A plain line scan, good
/// for the manifests polyplug reads (one key per line); `None` when the key
/// is not found.
pub(crate) fn locate(text: &str, table: &str, index: Option<usize>, key: &str) -> Option<Position> {
    let header = match index {
        Some(_) => format!("[[{table}]]"),
        None => format!("[{table}]"),
    };
    let mut seen = 0usize;
    let mut inside = false;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            inside = trimmed == header && index.is_none_or(|i| i == seen);
            if trimmed == header {
                seen += 1;
            }
            continue;
        }
        if !inside {
            continue;
        }
        let Some(rest) = trimmed.strip_prefix(key) else {
            continue;
        };
        let Some(value) = rest.trim_start().strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start();
        let column = line.chars().count() - value.chars().count() + 1;
        return Some(Position {
            line: n + 1,
            column,
        });
    }
    None
}

/// The first position `message` gives after `prefix` (`counter.lua:`):
/// `<line>`, or `<line>:<column>`; column 1 when it gives none.
fn script_position(message: &str, prefix: &str) -> Option<Position> {
    let number = |text: &str| -> (Option<usize>, usize) {
        let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
        (digits.parse().ok().filter(|&n| n > 0), digits.len())
    };
    message.match_indices(prefix).find_map(|(at, _)| {
        let rest = &message[at + prefix.len()..];
        let (line, len) = number(rest);
        let column = rest[len..].strip_prefix(':').and_then(|r| number(r).0);
        line.map(|line| Position {
            line,
            column: column.unwrap_or(1),
        })
    })
}

/// The index of the `[[provides]]` entry whose `name` is `contract`.
pub(crate) fn provides_index(text: &str, contract: &str) -> Option<usize> {
    let quoted = format!("\"{contract}\"");
    (0..64).find(|&i| {
        locate(text, "provides", Some(i), "name").is_some_and(|p| {
            text.lines()
                .nth(p.line - 1)
                .is_some_and(|l| l.contains(&quoted))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[bundle]\nname = \"x\"\nversion = \"1.x\"\n\n[library]\nlinux = \"libx.so\"\n\n[[provides]]\nname = \"a.b\"\nversion = \"1.0.0\"\n\n[[provides]]\nname = \"c.d\"\n";

    #[test]
    fn locate_finds_keys_in_tables_and_arrays_of_tables() {
        assert_eq!(
            locate(TEXT, "bundle", None, "version"),
            Some(Position {
                line: 3,
                column: 11
            })
        );
        assert_eq!(
            locate(TEXT, "library", None, "linux"),
            Some(Position { line: 6, column: 9 })
        );
        assert_eq!(
            locate(TEXT, "provides", Some(1), "name"),
            Some(Position {
                line: 13,
                column: 8
            })
        );
        assert_eq!(locate(TEXT, "library", None, "sha256"), None);
        assert_eq!(provides_index(TEXT, "c.d"), Some(1));
        assert_eq!(provides_index(TEXT, "e.f"), None);
    }

    #[test]
    fn a_script_error_points_at_the_line_it_names() {
        let text = "return {\n  contracts = {\n    ) }\n";
        let message =
            "bundle b: counter.lua: unexpected symbol near ')' (counter.lua:3:)".to_owned();
        let d = Diagnostic::script(Path::new("dir/counter.lua"), text, message);
        assert!(
            d.to_string()
                .ends_with("  --> dir/counter.lua:3:1\n   |\n 3 |     ) }\n   | ^\n"),
            "{d}"
        );
        let d = Diagnostic::script(Path::new("a.js"), text, "a.js: no line".to_owned());
        assert_eq!(d.to_string(), "error: a.js: no line\n  --> a.js\n");
        assert_eq!(
            script_position("x.lua: y x.lua:0: x.lua:12:", "x.lua:"),
            Some(Position {
                line: 12,
                column: 1
            })
        );
        assert_eq!(
            script_position("threw at /d/a.js:3:39", "a.js:"),
            Some(Position {
                line: 3,
                column: 39
            })
        );
    }

    #[test]
    fn a_field_error_shows_the_line_and_a_caret() {
        let p = locate(TEXT, "bundle", None, "version");
        let d = Diagnostic::field(Path::new("m.toml"), TEXT, "bundle.version", p, "expected x");
        assert_eq!(
            d.to_string(),
            "error: m.toml:3:11: field `bundle.version`: expected x\n  --> m.toml:3:11\n   |\n 3 | version = \"1.x\"\n   |           ^\n"
        );
    }
}
