//! Semver between definitions: which version changes the changes allow.

use polyplug_contract::{Change, Definition, DefinitionError, Diff};

fn def(
    version: &str,
    functions: &[(&str, &str)],
    stateful: bool,
) -> Result<Definition, DefinitionError> {
    let mut text = format!(
        "[contract]\nname = \"demo.counter\"\nversion = \"{version}\"\nstateful = {stateful}\n"
    );
    for (name, sig) in functions {
        text.push_str(&format!(
            "[[function]]\nname = \"{name}\"\nsig = \"{sig}\"\n"
        ));
    }
    Definition::parse(&text, format!("{version}.toml"))
}

const V1: &[(&str, &str)] = &[("step", "u32(u32)"), ("version", "u32()")];

#[test]
fn a_minor_bump_may_add_functions() -> Result<(), DefinitionError> {
    let old = def("1.0.0", V1, false)?;
    let new = def(
        "1.1.0",
        &[
            ("step", "u32(u32)"),
            ("version", "u32()"),
            ("reset", "void()"),
        ],
        false,
    )?;
    let diff = Diff::between(&old, &new);
    assert_eq!(
        diff.changes,
        [Change::Added("reset".into(), "void()".into())]
    );
    assert!(diff.compatible());
    assert_eq!(diff.problems(), Vec::<String>::new());
    // The same addition under a patch bump claims too little.
    let patch = def(
        "1.0.1",
        &[
            ("step", "u32(u32)"),
            ("version", "u32()"),
            ("reset", "void()"),
        ],
        false,
    )?;
    let problems = Diff::between(&old, &patch).problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("without a minor bump"), "{problems:?}");
    Ok(())
}

#[test]
fn a_minor_bump_may_not_change_or_remove() -> Result<(), DefinitionError> {
    let old = def("1.0.0", V1, false)?;
    let new = def("1.1.0", &[("step", "u64(u64)")], false)?;
    let diff = Diff::between(&old, &new);
    assert_eq!(
        diff.changes,
        [
            Change::Changed {
                name: "step".into(),
                old: "u32(u32)".into(),
                new: "u64(u64)".into()
            },
            Change::Removed("version".into(), "u32()".into()),
        ]
    );
    assert!(!diff.compatible());
    let problems = diff.problems();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].contains("changes step: u32(u32) -> u64(u64)"),
        "{problems:?}"
    );
    assert!(
        problems[1].contains("removes version: u32()"),
        "{problems:?}"
    );
    let stateful = def("1.1.0", V1, true)?;
    assert!(!Diff::between(&old, &stateful).problems().is_empty());
    Ok(())
}

#[test]
fn a_major_bump_may_change_anything() -> Result<(), DefinitionError> {
    let old = def("1.4.0", V1, false)?;
    let new = def("2.0.0", &[("step", "u64(u64)")], true)?;
    let diff = Diff::between(&old, &new);
    assert!(!diff.compatible());
    assert!(diff.problems().is_empty(), "{:?}", diff.problems());
    // Down is never right.
    assert!(Diff::between(&new, &old).problems()[0].contains("goes down"));
    Ok(())
}

#[test]
fn nothing_changed_is_compatible_at_any_bump() -> Result<(), DefinitionError> {
    let old = def("1.0.0", V1, false)?;
    for v in ["1.0.0", "1.0.1", "1.1.0"] {
        let diff = Diff::between(&old, &def(v, V1, false)?);
        assert!(
            diff.changes.is_empty() && diff.compatible() && diff.problems().is_empty(),
            "{v}"
        );
    }
    Ok(())
}
