//! Version strings: `major.minor.patch` and minimum-version requirements.
//!
//! Both parsers are pure and total: any string gives a [`Version`] or a
//! [`VersionError`], never a panic.

use polyplug_abi::Version;

/// Which form of version a [`VersionError`] expected; its `Display` is the
/// phrase used in messages.
///
/// ```
/// use polyplug_loader::{VersionError, VersionShape, parse_version_req};
///
/// let err = parse_version_req("1.x").unwrap_err();
/// assert!(matches!(err, VersionError::Shape { expected: VersionShape::Requirement, .. }));
/// assert_eq!(VersionShape::Exact.to_string(), "major.minor.patch");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VersionShape {
    /// Exactly `major.minor.patch` ([`parse_version`]).
    Exact,
    /// A minimum of 1 to 3 parts ([`parse_version_req`]).
    Requirement,
}

impl core::fmt::Display for VersionShape {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            VersionShape::Exact => "major.minor.patch",
            VersionShape::Requirement => "major, major.minor or major.minor.patch",
        })
    }
}

/// A version string that does not parse.
///
/// Every variant holds the whole input and says what was expected, so the
/// error reads on its own: `expected major.minor.patch, found "1.x"`.
///
/// ```
/// use polyplug_loader::{VersionError, parse_version};
///
/// let err = parse_version("01.0.0").unwrap_err();
/// assert!(matches!(err, VersionError::LeadingZero { .. }));
/// assert_eq!(
///     err.to_string(),
///     r#"expected major.minor.patch without leading zeros, found "01.0.0""#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// Wrong number of parts, an empty part, or a character other than a
    /// decimal digit.
    #[error("expected {expected}, found {input:?}")]
    Shape {
        /// The string that was parsed.
        input: String,
        /// The accepted form.
        expected: VersionShape,
    },
    /// A part with a leading zero, such as `01`; only `0` itself may start
    /// with `0`.
    #[error("expected {expected} without leading zeros, found {input:?}")]
    LeadingZero {
        /// The string that was parsed.
        input: String,
        /// The accepted form.
        expected: VersionShape,
    },
    /// A part larger than `u32::MAX`.
    #[error("expected each version part to be at most {max}, found {input:?}", max = u32::MAX)]
    Overflow {
        /// The string that was parsed.
        input: String,
    },
}

/// Why one decimal part failed; the caller adds the input and the shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PartFault {
    /// Empty, or holds a character other than `0`..=`9`.
    NotDecimal,
    /// Starts with `0` and has more digits.
    LeadingZero,
    /// Larger than `u32::MAX`.
    Overflow,
}

/// Parses one decimal `u32` part: ASCII digits only (no sign, no spaces),
/// no leading zero except `0` itself.
pub(crate) fn parse_part(part: &str) -> Result<u32, PartFault> {
    let bytes = part.as_bytes();
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(PartFault::NotDecimal);
    }
    if bytes.len() > 1 && bytes.first() == Some(&b'0') {
        return Err(PartFault::LeadingZero);
    }
    let mut value: u32 = 0;
    for digit in bytes {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u32::from(digit - b'0')))
            .ok_or(PartFault::Overflow)?;
    }
    Ok(value)
}

/// Splits `input` on `.` into 1..=`max_parts` parsed parts; missing parts
/// are 0. `min_parts` is the fewest parts accepted.
fn parse_parts(
    input: &str,
    min_parts: usize,
    max_parts: usize,
    expected: VersionShape,
) -> Result<Version, VersionError> {
    let mut parts = [0u32; 3];
    let mut count = 0;
    let mut first_fault = None;
    for text in input.split('.') {
        if count >= max_parts || count >= parts.len() {
            return Err(VersionError::Shape {
                input: input.to_owned(),
                expected,
            });
        }
        match parse_part(text) {
            Ok(value) => {
                if let Some(slot) = parts.get_mut(count) {
                    *slot = value;
                }
            }
            Err(fault) => {
                first_fault.get_or_insert(fault);
            }
        }
        count += 1;
    }
    let input = input.to_owned();
    match first_fault {
        _ if count < min_parts => Err(VersionError::Shape { input, expected }),
        Some(PartFault::NotDecimal) => Err(VersionError::Shape { input, expected }),
        Some(PartFault::LeadingZero) => Err(VersionError::LeadingZero { input, expected }),
        Some(PartFault::Overflow) => Err(VersionError::Overflow { input }),
        None => Ok(Version::new(parts[0], parts[1], parts[2])),
    }
}

/// Parses an exact version, `major.minor.patch`: three decimal `u32`s
/// without leading zeros (except `0` itself), separated by `.`.
///
/// ```
/// use polyplug_abi::Version;
/// use polyplug_loader::parse_version;
///
/// assert_eq!(parse_version("1.20.0"), Ok(Version::new(1, 20, 0)));
/// assert!(parse_version("1.2").is_err());
/// assert!(parse_version("1.2.3.4").is_err());
/// assert!(parse_version("4294967296.0.0").is_err());
/// ```
pub fn parse_version(input: &str) -> Result<Version, VersionError> {
    parse_parts(input, 3, 3, VersionShape::Exact)
}

/// Parses a minimum version: `major`, `major.minor` or
/// `major.minor.patch`, with missing parts 0. The parts follow the rules
/// of [`parse_version`].
///
/// ```
/// use polyplug_abi::Version;
/// use polyplug_loader::parse_version_req;
///
/// assert_eq!(parse_version_req("1"), Ok(Version::new(1, 0, 0)));
/// assert_eq!(parse_version_req("1.2"), Ok(Version::new(1, 2, 0)));
/// assert_eq!(parse_version_req("1.2.3"), Ok(Version::new(1, 2, 3)));
/// assert!(parse_version_req("").is_err());
/// ```
pub fn parse_version_req(input: &str) -> Result<Version, VersionError> {
    parse_parts(input, 1, 3, VersionShape::Requirement)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_accept_plain_decimals() {
        assert_eq!(parse_part("0"), Ok(0));
        assert_eq!(parse_part("7"), Ok(7));
        assert_eq!(parse_part("4294967295"), Ok(u32::MAX));
    }

    #[test]
    fn parts_refuse_everything_else() {
        assert_eq!(parse_part(""), Err(PartFault::NotDecimal));
        assert_eq!(parse_part("+1"), Err(PartFault::NotDecimal));
        assert_eq!(parse_part("-1"), Err(PartFault::NotDecimal));
        assert_eq!(parse_part(" 1"), Err(PartFault::NotDecimal));
        assert_eq!(parse_part("1x"), Err(PartFault::NotDecimal));
        assert_eq!(parse_part("\u{0661}"), Err(PartFault::NotDecimal));
        assert_eq!(parse_part("00"), Err(PartFault::LeadingZero));
        assert_eq!(parse_part("01"), Err(PartFault::LeadingZero));
        assert_eq!(parse_part("4294967296"), Err(PartFault::Overflow));
        assert_eq!(
            parse_part("99999999999999999999999"),
            Err(PartFault::Overflow)
        );
    }

    #[test]
    fn a_shape_error_wins_over_a_part_error() {
        // Four parts: the count is wrong whatever the parts hold.
        assert!(matches!(
            parse_version("01.0.0.0"),
            Err(VersionError::Shape { .. })
        ));
        assert!(matches!(
            parse_version("01.0"),
            Err(VersionError::Shape { .. })
        ));
    }

    #[test]
    fn the_first_bad_part_decides_the_error() {
        assert!(matches!(
            parse_version("01.x.0"),
            Err(VersionError::LeadingZero { .. })
        ));
        assert!(matches!(
            parse_version("4294967296.01.0"),
            Err(VersionError::Overflow { .. })
        ));
    }
}
