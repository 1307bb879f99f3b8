//! Where in a manifest an error is: line, column and dotted field path.
//!
//! toml reports errors and [`Spanned`](toml::Spanned) values as byte
//! ranges. This module turns a byte offset into a 1-based line and column
//! (columns count characters, as compilers do) and finds the dotted path of
//! the key or value at that offset (`bundle.version`, `provides[1].name`).
//! Both functions are pure and total.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The 1-based line and column of byte `offset` in `bytes`.
///
/// Lines are separated by `\n`. The column counts the characters from the
/// start of the line to `offset`, plus one; bytes that continue a UTF-8
/// sequence are not counted, so the prefix may even be invalid UTF-8. An
/// offset past the end is clamped to the end.
pub(crate) fn line_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let prefix = bytes.get(..offset).unwrap_or(bytes);
    let line_start = prefix
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |newline| newline + 1);
    let line = 1 + prefix.iter().filter(|&&b| b == b'\n').count();
    let column = 1 + prefix
        .get(line_start..)
        .unwrap_or_default()
        .iter()
        .filter(|&&b| b & 0xc0 != 0x80)
        .count();
    (line, column)
}

/// The dotted path of the innermost key or value of the TOML document
/// `text` whose span holds byte `offset`, or `None` when the document does
/// not parse or nothing there holds the offset.
///
/// Array elements are written `name[index]` with 0-based indices; keys that
/// are not bare keys are quoted.
pub(crate) fn field_at(text: &str, offset: usize) -> Option<String> {
    let document = DeTable::parse(text).ok()?;
    let mut best = None;
    walk_table(document.get_ref(), "", offset, &mut best);
    best.map(|(_, path)| path)
}

/// The best match so far: the span length and the path.
type Best = Option<(usize, String)>;

fn walk_table(table: &DeTable<'_>, prefix: &str, offset: usize, best: &mut Best) {
    for (key, value) in table.iter() {
        let key_text = key.get_ref().as_ref();
        let path = if prefix.is_empty() {
            quote_key(key_text)
        } else {
            format!("{prefix}.{}", quote_key(key_text))
        };
        consider(key.span(), &path, offset, best);
        walk_value(value, &path, offset, best);
    }
}

fn walk_value(value: &Spanned<DeValue<'_>>, path: &str, offset: usize, best: &mut Best) {
    consider(value.span(), path, offset, best);
    match value.get_ref() {
        DeValue::Table(table) => walk_table(table, path, offset, best),
        DeValue::Array(array) => {
            for (index, item) in array.iter().enumerate() {
                walk_value(item, &format!("{path}[{index}]"), offset, best);
            }
        }
        DeValue::String(_)
        | DeValue::Integer(_)
        | DeValue::Float(_)
        | DeValue::Boolean(_)
        | DeValue::Datetime(_) => {}
    }
}

/// Keeps `path` when its span holds `offset` and is no longer than the best
/// so far (on a tie the later, deeper path wins).
fn consider(span: core::ops::Range<usize>, path: &str, offset: usize, best: &mut Best) {
    let holds = span.contains(&offset) || (span.is_empty() && span.start == offset);
    if !holds {
        return;
    }
    let len = span.len();
    if best.as_ref().is_none_or(|(best_len, _)| len <= *best_len) {
        *best = Some((len, path.to_owned()));
    }
}

/// A key as written in a dotted path: bare when it can be, else quoted.
fn quote_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based() {
        let text = b"ab\ncd\n\xc3\xa9x";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 1), (1, 2));
        assert_eq!(line_column(text, 2), (1, 3));
        assert_eq!(line_column(text, 3), (2, 1));
        assert_eq!(line_column(text, 6), (3, 1));
        // `é` is two bytes and one column.
        assert_eq!(line_column(text, 8), (3, 2));
        assert_eq!(line_column(text, 1000), (3, 3));
        assert_eq!(line_column(b"", 5), (1, 1));
    }

    #[test]
    fn paths_name_the_innermost_key() {
        let text = "[bundle]\nname = \"x\"\n[[provides]]\nname = \"a\"\n[[provides]]\nname = \"b\"\n\"odd key\" = 1\n";
        let at = |needle: &str| text.find(needle).unwrap();
        assert_eq!(field_at(text, at("\"x\"")).as_deref(), Some("bundle.name"));
        assert_eq!(
            field_at(text, at("\"b\"")).as_deref(),
            Some("provides[1].name")
        );
        assert_eq!(
            field_at(text, at("\"odd key\"")).as_deref(),
            Some("provides[1].\"odd key\"")
        );
        assert_eq!(field_at("a = [1, [2, 3]]", 9).as_deref(), Some("a[1][0]"));
        assert_eq!(field_at("[bundle", 0), None);
    }

    #[test]
    fn paths_reach_into_inline_and_dotted_tables() {
        let text = "library = { linux = 1 }\nbundle.name = \"x\"\n";
        let at = |needle: &str| text.find(needle).unwrap();
        assert_eq!(field_at(text, at("1")).as_deref(), Some("library.linux"));
        assert_eq!(
            field_at(text, at("linux")).as_deref(),
            Some("library.linux")
        );
        assert_eq!(field_at(text, at("{")).as_deref(), Some("library"));
        assert_eq!(field_at(text, at("\"x\"")).as_deref(), Some("bundle.name"));
        // Between entries nothing holds the offset.
        assert_eq!(field_at("a = 1\n\nb = 2\n", 6), None);
    }

    #[test]
    fn the_smaller_span_wins() {
        let mut best = None;
        consider(0..10, "outer", 3, &mut best);
        consider(2..5, "inner", 3, &mut best);
        consider(0..20, "wider", 3, &mut best);
        consider(4..6, "elsewhere", 3, &mut best);
        assert_eq!(best, Some((3, "inner".to_owned())));
    }
}
