//! Text a plugin or a file supplied, in messages: a plugin's error message,
//! a contract name and a bundle directory holding a newline, an escape
//! sequence, a NUL or a bidi override, and a message longer than the host
//! reads. The error keeps the raw text; its message shows it escaped, on
//! one line, and says where it was cut.

use std::fmt::Display;
use std::path::Path;

use polyplug::{HostContract, LoadError, PluginMessage, Runtime, Version};
use polyplug_fixtures::{bundle, copy_bundle};
use polyplug_loader::{BundleError, is_unsafe_char};

use super::{TempDir, V1, bundle_error, call, names, refused_both, refused_reload};

/// The bytes `bad-init-message` and `c-messages` put in their messages
/// after their first word.
const RAW_TAIL: &str = "\nforged line \u{1b}[31mred\u{1b}[0m nul:\0 end \u{202e}";
/// How a message shows [`RAW_TAIL`].
const SHOWN_TAIL: &str = r"\nforged line \u{1b}[31mred\u{1b}[0m nul:\0 end \u{202e}";

/// Asserts that the message of `error` holds no control or bidi character
/// and shows each of `escaped`.
fn one_clean_line(error: &impl Display, escaped: &[&str]) {
    let text = error.to_string();
    assert!(
        !text.chars().any(is_unsafe_char),
        "{text:?} holds a control character"
    );
    names(error, escaped);
}

#[test]
fn plugin_init_message_with_control_characters() {
    let raw = format!("refused{RAW_TAIL}");
    let shown = format!("refused{SHOWN_TAIL}");
    for error in refused_both(
        "init message with control characters",
        &bundle("bad-init-message"),
        1,
    ) {
        assert!(
            matches!(&error, LoadError::InitFailed { bundle, code: 1009, message }
                if bundle == "reload-test" && *message == raw),
            "{error}"
        );
        one_clean_line(&error, &["reload-test", "1009", &shown]);
    }
}

#[test]
fn plugin_contract_name_with_control_characters() {
    let raw = "reload.test\n\u{1b}[2J";
    for error in refused_both(
        "contract name with control characters",
        &bundle("bad-contract-name"),
        1,
    ) {
        assert!(
            matches!(&error, LoadError::InvalidContract { bundle, error }
                if bundle == "reload-test" && error.contract == raw && error.field == "name"),
            "{error}"
        );
        one_clean_line(
            &error,
            &[r"contract reload.test\n\u{1b}[2J: name: ", "may hold only"],
        );
    }
}

#[test]
fn plugin_call_message_with_control_characters() {
    let runtime = Runtime::new().unwrap();
    runtime.load_bundle(bundle("c-messages")).unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let contract = guard.find("test.messages", V1).unwrap();
    let error = call(&contract, "controls", 0, 0).unwrap_err();
    assert_eq!(error.code, 1010);
    assert_eq!(error.message, format!("failed{RAW_TAIL}"), "raw bytes kept");
    assert_eq!(
        error.to_string(),
        format!("test.messages.controls failed with code 1010: failed{SHOWN_TAIL}")
    );
    one_clean_line(&error, &[]);
}

#[test]
fn host_contract_name_with_control_characters() {
    let runtime = Runtime::new().unwrap();
    let raw = "demo\r\n\u{1b}]0;title\u{7}";
    let error = runtime
        .register_host_contract(HostContract::new(raw, Version::new(1, 0, 0)))
        .unwrap_err();
    assert!(
        matches!(&error, LoadError::HostContract(e) if e.contract == raw && e.field == "name"),
        "{error}"
    );
    one_clean_line(&error, &[r"contract demo\r\n\u{1b}]0;title\u{7}: name: "]);
}

/// A directory under `dir` whose name holds a newline, an escape sequence
/// and a bidi override, and how messages show it.
fn odd_directory(dir: &TempDir) -> (std::path::PathBuf, String) {
    let odd = dir.path().join("odd\nname \u{1b}[31m\u{202e}");
    std::fs::create_dir(&odd).unwrap();
    let shown = format!(
        "{}{}",
        dir.path().display(),
        r"/odd\nname \u{1b}[31m\u{202e}"
    );
    (odd, shown)
}

#[test]
fn bundle_directory_name_with_control_characters() {
    let dir = TempDir::new("odd-directory");
    let (odd, shown) = odd_directory(&dir);
    let v2 = copy_bundle("reload-v2", &odd).unwrap();
    std::fs::remove_file(v2.join("manifest.toml")).unwrap();
    let expected = v2.join("manifest.toml");
    for error in refused_both("manifest missing in an odd directory", &v2, 0) {
        assert!(
            matches!(bundle_error(&error), BundleError::ManifestMissing { path } if *path == expected),
            "{error}"
        );
        one_clean_line(&error, &[&format!("{shown}/reload-v2/manifest.toml")]);
    }
}

#[test]
fn reload_from_an_odd_directory_of_another_bundle() {
    let dir = TempDir::new("odd-name-mismatch");
    let (odd, shown) = odd_directory(&dir);
    let other = copy_bundle("test-add", &odd).unwrap();
    let error = refused_reload("another bundle in an odd directory", &other, 0);
    assert!(
        matches!(&error, LoadError::NameMismatch { dir, found, .. }
            if dir == Path::new(&other) && found == "test-add"),
        "{error}"
    );
    one_clean_line(&error, &[&format!("from {shown}/test-add: ")]);
}

#[test]
fn plugin_call_message_longer_than_the_host_reads() {
    let runtime = Runtime::new().unwrap();
    runtime.load_bundle(bundle("c-messages")).unwrap();
    let reader = runtime.reader();
    let guard = reader.pin();
    let contract = guard.find("test.messages", V1).unwrap();
    let error = call(&contract, "long", 0, 0).unwrap_err();
    assert_eq!(error.code, 1011);
    // 65535 bytes of `a`, then `é` across the limit: it goes whole.
    let text = error.message.as_str();
    assert_eq!(text.len(), PluginMessage::MAX_BYTES - 1, "cut before `é`");
    assert!(text.bytes().all(|b| b == b'a'), "nothing but `a` kept");
    assert_eq!(error.message.truncated_from(), Some(70_000));
    let shown = error.to_string();
    let head = "test.messages.long failed with code 1011: ";
    let note = "… (truncated from 70000 bytes)";
    assert!(
        shown.starts_with(head) && shown.ends_with(note),
        "{head}…{}",
        shown
            .get(shown.len().saturating_sub(80)..)
            .unwrap_or_default()
    );
    assert_eq!(shown.len(), head.len() + text.len() + note.len());
}
