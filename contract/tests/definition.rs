//! Definition files: what parses, and where each refusal points.

use polyplug_contract::{Definition, DefinitionError, ValueType};

const COUNTER: &str = r#"# A counter.
[contract]
name = "demo.counter"
version = "1.2.0"
doc = "Counts."
stateful = true

[[function]]
name = "step"
sig = "u32 ( u32 )"
args = ["x"]
doc = "The next count."

[[function]]
name = "greet"
sig = "string(str,u64)"
"#;

fn refusal(text: &str) -> DefinitionError {
    match Definition::parse(text, "bad.toml") {
        Ok(d) => unreachable!("accepted: {d:?}"),
        Err(e) => e,
    }
}

#[test]
fn a_definition_parses_in_file_order() -> Result<(), DefinitionError> {
    let d = Definition::parse(COUNTER, "counter.toml")?;
    assert_eq!(d.name, "demo.counter");
    assert_eq!(d.version.to_string(), "1.2.0");
    assert_eq!(d.doc, "Counts.");
    assert!(d.stateful);
    let names: Vec<&str> = d.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["step", "greet"]);
    assert_eq!(d.functions[0].signature.to_string(), "u32(u32)");
    assert_eq!(d.functions[0].args, ["x"]);
    assert_eq!(d.functions[1].args, ["a0", "a1"]);
    assert_eq!(d.functions[1].signature.ret, Some(ValueType::String));
    assert_eq!(d.functions[1].doc, "");
    Ok(())
}

#[test]
fn each_refusal_names_file_line_column_and_thing() {
    let head = "[contract]\nname = \"demo.counter\"\nversion = \"1.0.0\"\n";
    let cases: [(String, usize, usize, &str); 10] = [
        (
            format!("{head}[[function]]\nname = \"step\"\nsig = \"u32(u33)\"\n"),
            6,
            7,
            "\"step\"",
        ),
        (
            format!("{head}[[function]]\nname = \"type\"\nsig = \"void()\"\n"),
            5,
            8,
            "keyword",
        ),
        (
            format!("{head}[[function]]\nname = \"9x\"\nsig = \"void()\"\n"),
            5,
            8,
            "identifier",
        ),
        (
            format!(
                "{head}[[function]]\nname = \"f\"\nsig = \"void()\"\n[[function]]\nname = \"f\"\nsig = \"u8()\"\n"
            ),
            8,
            8,
            "defined twice",
        ),
        (
            format!("{head}[[function]]\nname = \"f\"\nsig = \"void(u8)\"\nargs = []\n"),
            7,
            8,
            "0 argument names",
        ),
        (
            format!(
                "{head}[[function]]\nname = \"f\"\nsig = \"void(u8,u8)\"\nargs = [\"a\", \"a\"]\n"
            ),
            7,
            14,
            "named twice",
        ),
        (
            format!("{head}[[function]]\nname = \"f\"\nsig = \"void()\"\nsg = 1\n"),
            7,
            1,
            "unknown field",
        ),
        (
            "[contract]\nname = \"Demo Counter\"\nversion = \"1.0.0\"\n".to_owned(),
            2,
            8,
            "contract.name",
        ),
        (
            "[contract]\nname = \"demo.counter\"\nversion = \"1.0\"\n".to_owned(),
            3,
            11,
            "contract.version",
        ),
        (
            "[contract]\nname = \"demo.counter\"\nversion = \"1.0.0\n".to_owned(),
            3,
            17,
            "string",
        ),
    ];
    for (text, line, column, needle) in cases {
        let err = refusal(&text);
        assert_eq!((err.line, err.column), (line, column), "{err}\n{text}");
        assert!(
            err.to_string()
                .starts_with(&format!("bad.toml:{line}:{column}: ")),
            "{err}"
        );
        assert!(err.problem.contains(needle), "{err} lacks {needle:?}");
    }
}

#[test]
fn a_missing_file_is_named() {
    let path = std::path::Path::new("/nonexistent/counter.toml");
    match Definition::load(path) {
        Ok(d) => unreachable!("{d:?}"),
        Err(e) => {
            assert_eq!(e.file, path);
            assert!(
                e.to_string().contains("counter.toml:0:0: cannot open"),
                "{e}"
            );
        }
    }
}
