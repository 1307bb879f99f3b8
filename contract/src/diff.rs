//! Semver between two definitions of one contract.
//!
//! Within a major, a newer version serves every caller of an older one
//! ([`Version::satisfies`]): so a minor bump may add functions, and no bump
//! short of a major may change or remove one, or make a stateless contract
//! stateful or the reverse. A patch bump changes no function at all.

use std::fmt;

use polyplug_abi::Version;

use crate::Definition;

/// One difference between two definitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A function only the new definition has: `(name, signature)`.
    Added(String, String),
    /// A function only the old definition has: `(name, signature)`.
    Removed(String, String),
    /// A function whose signature changed.
    Changed {
        /// The function.
        name: String,
        /// Its old signature.
        old: String,
        /// Its new signature.
        new: String,
    },
    /// The contract became stateful, or stopped being.
    Stateful {
        /// Whether the old one is stateful.
        old: bool,
    },
}

impl Change {
    /// Whether the change breaks a caller of the old definition.
    pub fn breaks(&self) -> bool {
        !matches!(self, Change::Added(..))
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Added(name, sig) => write!(f, "adds {name}: {sig}"),
            Change::Removed(name, sig) => write!(f, "removes {name}: {sig}"),
            Change::Changed { name, old, new } => write!(f, "changes {name}: {old} -> {new}"),
            Change::Stateful { old: true } => write!(f, "makes the contract stateless"),
            Change::Stateful { old: false } => write!(f, "makes the contract stateful"),
        }
    }
}

/// What changed from one definition to the next, and whether their
/// versions say so.
///
/// ```
/// use polyplug_contract::{Definition, Diff};
///
/// let head = "[[function]]\nname = \"step\"\nsig = \"u32(u32)\"\n";
/// let old = Definition::parse(&format!("[contract]\nname = \"a.b\"\nversion = \"1.0.0\"\n{head}"), "old.toml")?;
/// let new = Definition::parse(
///     &format!("[contract]\nname = \"a.b\"\nversion = \"1.1.0\"\n{head}[[function]]\nname = \"reset\"\nsig = \"void()\"\n"),
///     "new.toml",
/// )?;
/// let diff = Diff::between(&old, &new);
/// assert!(diff.compatible());
/// assert!(diff.problems().is_empty());
/// assert!(!Diff::between(&new, &old).problems().is_empty()); // removes reset, version goes down
/// # Ok::<(), polyplug_contract::DefinitionError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    /// The old contract's name.
    pub old_name: String,
    /// The new contract's name.
    pub new_name: String,
    /// The old version.
    pub old: Version,
    /// The new version.
    pub new: Version,
    /// The differences, removed and changed functions in the old file's
    /// order, then added ones in the new file's.
    pub changes: Vec<Change>,
}

impl Diff {
    /// The differences from `old` to `new`.
    pub fn between(old: &Definition, new: &Definition) -> Diff {
        let mut changes = Vec::new();
        if old.stateful != new.stateful {
            changes.push(Change::Stateful { old: old.stateful });
        }
        for f in &old.functions {
            match new.function(&f.name) {
                None => changes.push(Change::Removed(f.name.clone(), f.signature.to_string())),
                Some(g) if g.signature != f.signature => changes.push(Change::Changed {
                    name: f.name.clone(),
                    old: f.signature.to_string(),
                    new: g.signature.to_string(),
                }),
                Some(_) => {}
            }
        }
        for g in &new.functions {
            if old.function(&g.name).is_none() {
                changes.push(Change::Added(g.name.clone(), g.signature.to_string()));
            }
        }
        Diff {
            old_name: old.name.clone(),
            new_name: new.name.clone(),
            old: old.version,
            new: new.version,
            changes,
        }
    }

    /// Whether the new definition serves every caller of the old one: the
    /// same contract and major, a version not lower, and no breaking
    /// change.
    pub fn compatible(&self) -> bool {
        self.old_name == self.new_name
            && self.new.major == self.old.major
            && self.new >= self.old
            && !self.changes.iter().any(Change::breaks)
    }

    /// Where the new version number claims what its definition does not
    /// have: empty when the versions tell the truth about the changes.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.old_name != self.new_name {
            problems.push(format!(
                "the definitions are of two contracts, {:?} and {:?}",
                self.old_name, self.new_name
            ));
            return problems;
        }
        if self.new < self.old {
            problems.push(format!(
                "the version goes down, {} -> {}",
                self.old, self.new
            ));
            return problems;
        }
        if self.new.major > self.old.major {
            return problems; // a new major may change anything
        }
        for change in self.changes.iter().filter(|c| c.breaks()) {
            problems.push(format!(
                "{} {} claims compatibility with {}, but {change}; that needs a major bump",
                self.new_name, self.new, self.old
            ));
        }
        let added = self.changes.iter().any(|c| !c.breaks());
        if added && self.new.minor == self.old.minor {
            problems.push(format!(
                "{} {} adds functions to {} without a minor bump",
                self.new_name, self.new, self.old
            ));
        }
        problems
    }
}
