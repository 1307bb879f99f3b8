//! Contract versions and the compatibility rule.

use core::fmt;

/// A contract version, `major.minor.patch`.
///
/// **Compatibility rule:** a provided version satisfies a required one when
/// the majors are equal and the provided minor is at least the required
/// minor. The patch never matters. A major is part of a contract's identity
/// ([`ContractId`](crate::ContractId) hashes `name@major`), so two majors
/// of one contract are two contracts.
///
/// ```
/// use polyplug_abi::Version;
///
/// let provided = Version::new(1, 3, 7);
/// assert!(provided.satisfies(Version::new(1, 3, 0)));
/// assert!(provided.satisfies(Version::new(1, 0, 9)));
/// assert!(!provided.satisfies(Version::new(1, 4, 0)));
/// assert!(!provided.satisfies(Version::new(2, 0, 0)));
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Breaking changes.
    pub major: u32,
    /// Additions that keep every older caller working.
    pub minor: u32,
    /// Fixes.
    pub patch: u32,
}

impl Version {
    /// `major.minor.patch`.
    ///
    /// ```
    /// use polyplug_abi::Version;
    ///
    /// const V: Version = Version::new(1, 2, 3);
    /// assert_eq!(V.to_string(), "1.2.3");
    /// assert!(Version::new(1, 10, 0) > Version::new(1, 9, 9)); // ordered by number
    /// ```
    pub const fn new(major: u32, minor: u32, patch: u32) -> Version {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// Whether a contract at version `self` serves a caller that requires
    /// `required`: same major, and a minor at least the required one.
    ///
    /// ```
    /// use polyplug_abi::Version;
    ///
    /// let required = Version::new(1, 2, 0);
    /// assert!(Version::new(1, 2, 0).satisfies(required));
    /// assert!(Version::new(1, 5, 1).satisfies(required)); // a newer minor serves older callers
    /// assert!(!Version::new(1, 1, 9).satisfies(required)); // too old
    /// assert!(!Version::new(2, 2, 0).satisfies(required)); // another major, another contract
    /// ```
    pub const fn satisfies(self, required: Version) -> bool {
        self.major == required.major && self.minor >= required.minor
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}
