//! The definition file: its TOML shape, its checks, its errors.

use std::collections::BTreeSet;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use polyplug_abi::Version;
use polyplug_loader::{ContractName, parse_version};
use serde::Deserialize;
use toml::Spanned;

use crate::signature::TypedSignature;

/// Largest definition file read, in bytes.
pub const MAX_DEFINITION_BYTES: u64 = 1 << 20;

/// Most functions one contract defines.
const MAX_FUNCTIONS: usize = 1024;

/// Words a function or argument name may not be: keywords of the languages
/// generated code is written in (Rust, C, C++), which would not compile
/// as names.
const RESERVED: &[&str] = &[
    "as",
    "async",
    "auto",
    "await",
    "bool",
    "box",
    "break",
    "case",
    "catch",
    "char",
    "class",
    "const",
    "continue",
    "crate",
    "default",
    "delete",
    "do",
    "double",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "float",
    "fn",
    "for",
    "goto",
    "if",
    "impl",
    "in",
    "inline",
    "int",
    "let",
    "long",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "namespace",
    "new",
    "operator",
    "private",
    "protected",
    "pub",
    "public",
    "ref",
    "register",
    "return",
    "self",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "super",
    "switch",
    "template",
    "this",
    "throw",
    "trait",
    "true",
    "try",
    "type",
    "typedef",
    "typename",
    "union",
    "unsafe",
    "unsigned",
    "use",
    "using",
    "virtual",
    "void",
    "volatile",
    "where",
    "while",
    "yield",
];

/// A contract, defined once: name, version, doc, state, and its typed
/// functions in the order the file lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    /// The file it was read from, as given.
    pub file: PathBuf,
    /// The contract's name (`demo.counter`).
    pub name: String,
    /// The contract's version.
    pub version: Version,
    /// What the contract is for; may be empty.
    pub doc: String,
    /// Whether the contract has instances (per-caller state).
    pub stateful: bool,
    /// The functions, in file order.
    pub functions: Vec<Function>,
}

/// One typed function of a [`Definition`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// The function's name: an identifier, not a keyword of Rust, C or C++.
    pub name: String,
    /// Its typed signature.
    pub signature: TypedSignature,
    /// Its argument names, one per argument (`a0`, `a1`, ... when the
    /// file names none).
    pub args: Vec<String>,
    /// What it does; may be empty.
    pub doc: String,
}

/// Why a definition file was refused: the file, the 1-based line and
/// column of the offending value, and what is wrong with it.
///
/// ```
/// let err = polyplug_contract::Definition::parse("[contract]\nname = 3\n", "c.toml").unwrap_err();
/// assert!(err.to_string().starts_with("c.toml:2:8: "), "{err}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {problem}", file.display())]
pub struct DefinitionError {
    /// The definition file.
    pub file: PathBuf,
    /// 1-based line; 0 when the file could not be read.
    pub line: usize,
    /// 1-based column, in characters; 0 when the file could not be read.
    pub column: usize,
    /// What is wrong, naming the field or function.
    pub problem: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    contract: Spanned<RawContract>,
    #[serde(default)]
    function: Vec<Spanned<RawFunction>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContract {
    name: Spanned<String>,
    version: Spanned<String>,
    #[serde(default)]
    doc: String,
    #[serde(default)]
    stateful: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFunction {
    name: Spanned<String>,
    sig: Spanned<String>,
    args: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    doc: String,
}

impl Definition {
    /// Reads and parses the definition at `path` (at most
    /// [`MAX_DEFINITION_BYTES`]).
    ///
    /// # Errors
    ///
    /// The file cannot be read, is too large or not UTF-8 (line and column
    /// 0), or [`Definition::parse`] refuses it.
    pub fn load(path: &Path) -> Result<Definition, DefinitionError> {
        let unreadable = |problem: String| DefinitionError {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            problem,
        };
        let file =
            std::fs::File::open(path).map_err(|e| unreadable(format!("cannot open: {e}")))?;
        let mut bytes = Vec::new();
        file.take(MAX_DEFINITION_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| unreadable(format!("cannot read: {e}")))?;
        if bytes.len() as u64 > MAX_DEFINITION_BYTES {
            return Err(unreadable(format!(
                "larger than {MAX_DEFINITION_BYTES} bytes"
            )));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            unreadable(format!("not UTF-8 at byte {at}"))
        })?;
        Definition::parse(&text, path)
    }

    /// Parses a definition from `text`; `file` names it in errors.
    ///
    /// # Errors
    ///
    /// A [`DefinitionError`] at the offending value: TOML syntax, an
    /// unknown or missing field, a bad contract name or version, a function
    /// name that is not an identifier or is a keyword, a duplicate
    /// function, a signature the grammar refuses, argument names that do
    /// not match the signature.
    pub fn parse(text: &str, file: impl AsRef<Path>) -> Result<Definition, DefinitionError> {
        let file = file.as_ref();
        let at = |offset: usize, problem: String| {
            let (line, column) = line_column(text, offset);
            DefinitionError {
                file: file.to_path_buf(),
                line,
                column,
                problem,
            }
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |span| span.start);
            at(offset, e.message().trim_end().to_owned())
        })?;
        let contract = raw.contract.into_inner();
        let name = contract.name.get_ref();
        ContractName::parse(name)
            .map_err(|e| at(contract.name.span().start, format!("contract.name: {e}")))?;
        let version = parse_version(contract.version.get_ref()).map_err(|e| {
            at(
                contract.version.span().start,
                format!("contract.version: {e}"),
            )
        })?;
        if raw.function.len() > MAX_FUNCTIONS {
            return Err(at(
                raw.function[MAX_FUNCTIONS].span().start,
                format!("more than {MAX_FUNCTIONS} functions"),
            ));
        }
        let mut seen = BTreeSet::new();
        let mut functions = Vec::with_capacity(raw.function.len());
        for raw_fn in raw.function {
            let raw_fn = raw_fn.into_inner();
            let fname = raw_fn.name.get_ref();
            check_identifier(fname)
                .map_err(|p| at(raw_fn.name.span().start, format!("function name: {p}")))?;
            if !seen.insert(fname.clone()) {
                return Err(at(
                    raw_fn.name.span().start,
                    format!("function {fname:?} is defined twice"),
                ));
            }
            let signature = TypedSignature::parse(raw_fn.sig.get_ref())
                .map_err(|p| at(raw_fn.sig.span().start, format!("function {fname:?}: {p}")))?;
            let args = match raw_fn.args {
                None => (0..signature.args.len()).map(|i| format!("a{i}")).collect(),
                Some(list) => {
                    if list.get_ref().len() != signature.args.len() {
                        return Err(at(
                            list.span().start,
                            format!(
                                "function {fname:?}: {} argument names for the {} arguments of {}",
                                list.get_ref().len(),
                                signature.args.len(),
                                signature
                            ),
                        ));
                    }
                    let mut names = Vec::with_capacity(signature.args.len());
                    for arg in list.into_inner() {
                        check_identifier(arg.get_ref()).map_err(|p| {
                            at(
                                arg.span().start,
                                format!("function {fname:?}: argument name: {p}"),
                            )
                        })?;
                        if names.contains(arg.get_ref()) {
                            return Err(at(
                                arg.span().start,
                                format!(
                                    "function {fname:?}: argument {:?} is named twice",
                                    arg.get_ref()
                                ),
                            ));
                        }
                        names.push(arg.into_inner());
                    }
                    names
                }
            };
            functions.push(Function {
                name: raw_fn.name.into_inner(),
                signature,
                args,
                doc: raw_fn.doc,
            });
        }
        Ok(Definition {
            file: file.to_path_buf(),
            name: contract.name.into_inner(),
            version,
            doc: contract.doc,
            stateful: contract.stateful,
            functions,
        })
    }

    /// The function named `name`, if the contract defines one.
    ///
    /// ```
    /// let d = polyplug_contract::Definition::parse(
    ///     "[contract]\nname = \"a.b\"\nversion = \"1.0.0\"\n[[function]]\nname = \"f\"\nsig = \"void()\"\n",
    ///     "a.toml",
    /// )?;
    /// assert!(d.function("f").is_some() && d.function("g").is_none());
    /// # Ok::<(), polyplug_contract::DefinitionError>(())
    /// ```
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.name == name)
    }
}

impl fmt::Display for Function {
    /// `name: signature`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.signature)
    }
}

/// An ASCII identifier (`[A-Za-z_][A-Za-z0-9_]*`, at most 64 characters)
/// that is no keyword of the generated languages.
fn check_identifier(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || name.len() > 64 || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "{name:?} is not an identifier (a letter or `_`, then letters, digits or `_`, at most 64)"
        ));
    }
    if RESERVED.contains(&name) {
        return Err(format!(
            "{name:?} is a keyword in Rust, C or C++, which generated code is written in"
        ));
    }
    Ok(())
}

/// The 1-based line and character column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}
