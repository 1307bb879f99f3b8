//! `polyplug diff old new`: whether a contract's new definition keeps the
//! promise its version makes.

use std::path::Path;

use polyplug_contract::{Definition, Diff};

use crate::error::CliError;
use crate::generate::GenError;

/// Prints the changes from `old` to `new` and the verdict; fails (exit 1)
/// when the new version claims a compatibility its definition lacks.
pub(crate) fn run(old: &Path, new: &Path) -> Result<(), CliError> {
    let old = Definition::load(old).map_err(GenError::from)?;
    let new = Definition::load(new).map_err(GenError::from)?;
    let diff = Diff::between(&old, &new);
    println!(
        "{} {} -> {} {}",
        old.name, old.version, new.name, new.version
    );
    if diff.changes.is_empty() {
        println!("  no function changes");
    }
    for change in &diff.changes {
        let mark = if change.breaks() { "breaking" } else { "added" };
        println!("  {mark:<9} {change}");
    }
    let problems = diff.problems();
    if problems.is_empty() {
        if diff.compatible() {
            println!(
                "compatible: {} serves every caller of {}",
                new.version, old.version
            );
        } else {
            println!(
                "incompatible, as the major bump says: {} is another contract than {}",
                new.version, old.version
            );
        }
        Ok(())
    } else {
        for problem in &problems {
            eprintln!("error: {problem}");
        }
        Err(CliError::Reported)
    }
}
