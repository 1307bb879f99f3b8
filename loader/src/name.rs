//! Validated names: bundle names, contract names and `name@major` keys.
//!
//! A name is checked once, when it is parsed; after that the type says it
//! is valid. The parsers are pure and total.

use core::fmt;

use crate::version::{PartFault, parse_part};

/// Longest bundle name, in characters.
///
/// ```
/// use polyplug_loader::{BundleName, MAX_BUNDLE_NAME};
///
/// assert!(BundleName::parse(&"a".repeat(MAX_BUNDLE_NAME)).is_ok());
/// let err = BundleName::parse(&"a".repeat(MAX_BUNDLE_NAME + 1)).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "expected a bundle name of 1 to 64 characters, found 65 characters"
/// );
/// ```
pub const MAX_BUNDLE_NAME: usize = 64;
/// Longest contract name, in characters.
///
/// ```
/// use polyplug_loader::{ContractName, MAX_CONTRACT_NAME};
///
/// assert!(ContractName::parse(&"a".repeat(MAX_CONTRACT_NAME)).is_ok());
/// let err = ContractName::parse(&"a".repeat(MAX_CONTRACT_NAME + 1)).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "expected a contract name of 1 to 128 characters, found 129 characters"
/// );
/// ```
pub const MAX_CONTRACT_NAME: usize = 128;

/// Which kind of name a [`NameError`] is about; its `Display` is the
/// phrase used in messages (`bundle name`, `contract name`).
///
/// ```
/// use polyplug_loader::NameKind;
///
/// assert_eq!(NameKind::Contract.to_string(), "contract name");
/// assert_eq!(NameKind::Bundle.max_len(), 64);
/// assert_eq!(NameKind::Bundle.allowed(), "[a-z0-9_-]");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NameKind {
    /// A [`BundleName`]: `[a-z0-9_-]`, at most [`MAX_BUNDLE_NAME`].
    Bundle,
    /// A [`ContractName`]: `[a-z0-9_.-]`, at most [`MAX_CONTRACT_NAME`].
    Contract,
}

impl NameKind {
    /// The longest accepted name of this kind, in characters.
    ///
    /// ```
    /// use polyplug_loader::{MAX_CONTRACT_NAME, NameKind};
    ///
    /// assert_eq!(NameKind::Contract.max_len(), MAX_CONTRACT_NAME);
    /// ```
    pub const fn max_len(self) -> usize {
        match self {
            NameKind::Bundle => MAX_BUNDLE_NAME,
            NameKind::Contract => MAX_CONTRACT_NAME,
        }
    }

    /// The allowed characters, as a character class: `[a-z0-9_-]` or
    /// `[a-z0-9_.-]`.
    ///
    /// ```
    /// use polyplug_loader::NameKind;
    ///
    /// // Only contract names may hold dots.
    /// assert_eq!(NameKind::Bundle.allowed(), "[a-z0-9_-]");
    /// assert_eq!(NameKind::Contract.allowed(), "[a-z0-9_.-]");
    /// ```
    pub const fn allowed(self) -> &'static str {
        match self {
            NameKind::Bundle => "[a-z0-9_-]",
            NameKind::Contract => "[a-z0-9_.-]",
        }
    }

    /// Punctuation allowed after the first letter.
    const fn punctuation(self) -> &'static [u8] {
        match self {
            NameKind::Bundle => b"_-",
            NameKind::Contract => b"_.-",
        }
    }

    /// Checks `input`: a lowercase letter first, then only allowed
    /// characters, then the length (all ASCII by then, so bytes and
    /// characters agree).
    fn check(self, input: &str) -> Result<(), NameError> {
        let Some(first) = input.chars().next() else {
            return Err(NameError::Length { kind: self, len: 0 });
        };
        if !first.is_ascii_lowercase() {
            return Err(NameError::Start {
                kind: self,
                input: input.to_owned(),
            });
        }
        let allowed = |c: char| {
            c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || u8::try_from(c).is_ok_and(|byte| self.punctuation().contains(&byte))
        };
        if let Some(found) = input.chars().find(|&c| !allowed(c)) {
            return Err(NameError::Char {
                kind: self,
                found,
                input: input.to_owned(),
            });
        }
        if input.len() > self.max_len() {
            return Err(NameError::Length {
                kind: self,
                len: input.len(),
            });
        }
        Ok(())
    }
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::Bundle => "bundle name",
            NameKind::Contract => "contract name",
        })
    }
}

/// A name that does not parse.
///
/// ```
/// use polyplug_loader::{BundleName, NameError, NameKind};
///
/// let err = BundleName::parse("Test").unwrap_err();
/// assert!(matches!(err, NameError::Start { kind: NameKind::Bundle, .. }));
/// assert_eq!(
///     err.to_string(),
///     r#"expected a bundle name starting with a letter a-z, found "Test""#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Empty, or longer than the limit.
    #[error("expected a {kind} of 1 to {max} characters, found {len} characters", max = kind.max_len())]
    Length {
        /// Which kind of name.
        kind: NameKind,
        /// The length found, in characters.
        len: usize,
    },
    /// The first character is not a lowercase ASCII letter.
    #[error("expected a {kind} starting with a letter a-z, found {input:?}")]
    Start {
        /// Which kind of name.
        kind: NameKind,
        /// The name that was parsed.
        input: String,
    },
    /// A character outside the allowed set.
    #[error("expected a {kind} of the characters {allowed}, found {found:?} in {input:?}", allowed = kind.allowed())]
    Char {
        /// Which kind of name.
        kind: NameKind,
        /// The first character that is not allowed.
        found: char,
        /// The name that was parsed.
        input: String,
    },
}

/// Implements the shared accessors of a validated name newtype, with the
/// docs (and examples) of `parse` and `as_str` given per type.
macro_rules! name_type {
    (
        $name:ident, $rule:expr;
        $(#[$parse_doc:meta])* fn parse;
        $(#[$as_str_doc:meta])* fn as_str;
    ) => {
        impl $name {
            $(#[$parse_doc])*
            pub fn parse(input: &str) -> Result<$name, NameError> {
                $rule.check(input)?;
                Ok($name(input.to_owned()))
            }

            $(#[$as_str_doc])*
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl core::str::FromStr for $name {
            type Err = NameError;

            fn from_str(input: &str) -> Result<$name, NameError> {
                $name::parse(input)
            }
        }
    };
}

/// A bundle name: 1 to 64 characters of `[a-z0-9_-]`, starting with a
/// letter.
///
/// ```
/// use polyplug_loader::BundleName;
///
/// let name = BundleName::parse("test-add")?;
/// assert_eq!(name.as_str(), "test-add");
/// assert!(BundleName::parse("test.add").is_err()); // no dots in bundle names
/// assert!(BundleName::parse("1test").is_err());
/// # Ok::<(), polyplug_loader::NameError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BundleName(String);

name_type! {
    BundleName, NameKind::Bundle;
    /// Parses and validates a bundle name; see the type's docs for the
    /// rules.
    ///
    /// ```
    /// use polyplug_loader::BundleName;
    ///
    /// assert_eq!(BundleName::parse("test-add")?.as_str(), "test-add");
    /// let err = BundleName::parse("test.add").unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     r#"expected a bundle name of the characters [a-z0-9_-], found '.' in "test.add""#
    /// );
    /// # Ok::<(), polyplug_loader::NameError>(())
    /// ```
    fn parse;
    /// The name as text.
    ///
    /// ```
    /// use polyplug_loader::BundleName;
    ///
    /// let name: BundleName = "reload-test".parse()?;
    /// assert_eq!(name.as_str(), "reload-test");
    /// # Ok::<(), polyplug_loader::NameError>(())
    /// ```
    fn as_str;
}

/// A contract name: 1 to 128 characters of `[a-z0-9_.-]`, starting with a
/// letter.
///
/// ```
/// use polyplug_loader::ContractName;
///
/// let name = ContractName::parse("test.add")?;
/// assert_eq!(name.to_string(), "test.add");
/// assert!(ContractName::parse("test add").is_err());
/// # Ok::<(), polyplug_loader::NameError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContractName(String);

name_type! {
    ContractName, NameKind::Contract;
    /// Parses and validates a contract name; see the type's docs for the
    /// rules.
    ///
    /// ```
    /// use polyplug_loader::ContractName;
    ///
    /// assert_eq!(ContractName::parse("test.add")?.as_str(), "test.add");
    /// let err = ContractName::parse("").unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "expected a contract name of 1 to 128 characters, found 0 characters"
    /// );
    /// # Ok::<(), polyplug_loader::NameError>(())
    /// ```
    fn parse;
    /// The name as text.
    ///
    /// ```
    /// use polyplug_loader::ContractName;
    ///
    /// let name = ContractName::parse("reload.test")?;
    /// assert_eq!(name.as_str(), "reload.test");
    /// # Ok::<(), polyplug_loader::NameError>(())
    /// ```
    fn as_str;
}

/// A `name@major` key that does not parse.
///
/// ```
/// use polyplug_loader::{ContractKeyError, parse_contract_key};
///
/// let err = parse_contract_key("x@01").unwrap_err();
/// assert!(matches!(err, ContractKeyError::Major { .. }));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ContractKeyError {
    /// No `@` in the key.
    #[error("expected a contract key name@major, found {input:?}")]
    NoSeparator {
        /// The key that was parsed.
        input: String,
    },
    /// The part before `@` is not a contract name.
    #[error("in contract key {input:?}: {source}")]
    Name {
        /// The key that was parsed.
        input: String,
        /// Why the name is refused.
        source: NameError,
    },
    /// The part after `@` is not a decimal `u32` without leading zeros.
    #[error(
        "expected a contract key name@major with major a decimal number from 0 to {max} \
         without leading zeros, found {input:?}",
        max = u32::MAX
    )]
    Major {
        /// The key that was parsed.
        input: String,
    },
}

/// Parses a contract key `name@major`, the text that
/// [`ContractId`](polyplug_abi::ContractId) hashes.
///
/// ```
/// use polyplug_loader::parse_contract_key;
///
/// let (name, major) = parse_contract_key("test.add@1")?;
/// assert_eq!((name.as_str(), major), ("test.add", 1));
/// assert!(parse_contract_key("a@").is_err());
/// assert!(parse_contract_key("@1").is_err());
/// # Ok::<(), polyplug_loader::ContractKeyError>(())
/// ```
pub fn parse_contract_key(input: &str) -> Result<(ContractName, u32), ContractKeyError> {
    let Some((name, major)) = input.split_once('@') else {
        return Err(ContractKeyError::NoSeparator {
            input: input.to_owned(),
        });
    };
    let name = ContractName::parse(name).map_err(|source| ContractKeyError::Name {
        input: input.to_owned(),
        source,
    })?;
    let major = parse_part(major).map_err(|_: PartFault| ContractKeyError::Major {
        input: input.to_owned(),
    })?;
    Ok((name, major))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_inclusive() {
        let longest = format!("a{}", "b".repeat(MAX_BUNDLE_NAME - 1));
        assert!(BundleName::parse(&longest).is_ok());
        let too_long = format!("{longest}c");
        assert_eq!(
            BundleName::parse(&too_long),
            Err(NameError::Length {
                kind: NameKind::Bundle,
                len: MAX_BUNDLE_NAME + 1,
            })
        );
        let longest = format!("a{}", ".".repeat(MAX_CONTRACT_NAME - 1));
        assert!(ContractName::parse(&longest).is_ok());
        assert!(ContractName::parse(&format!("{longest}x")).is_err());
    }

    #[test]
    fn non_ascii_is_a_character_error() {
        assert_eq!(
            BundleName::parse("caf\u{e9}"),
            Err(NameError::Char {
                kind: NameKind::Bundle,
                found: '\u{e9}',
                input: "caf\u{e9}".to_owned(),
            })
        );
        assert!(matches!(
            BundleName::parse("\u{e9}"),
            Err(NameError::Start { .. })
        ));
    }

    #[test]
    fn names_keep_their_text() {
        let name = ContractName::parse("a_b-c.d9").unwrap();
        assert_eq!(name.as_str(), "a_b-c.d9");
        assert_eq!(name.as_ref(), "a_b-c.d9");
        assert_eq!("a_b-c.d9".parse::<ContractName>(), Ok(name));
    }

    #[test]
    fn keys_split_on_the_first_at() {
        assert!(matches!(
            parse_contract_key("a@b@1"),
            Err(ContractKeyError::Major { .. })
        ));
        assert_eq!(
            parse_contract_key("a@4294967295").map(|(_, major)| major),
            Ok(u32::MAX)
        );
    }
}
