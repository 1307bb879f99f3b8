// The `demo.text` 1.0.0 plugin's code, shared by the native `text-rust`
// and the wasm32 `text-wasm` (each `include!`s it): `upper` and
// `checksum` as plain Rust functions, and their `plugin!` declaration.
// `plugin!` derives the signatures from the types (`&str` is `str`,
// `&[u8]` is `bytes`, `String` is `string`) in either build.

/// `upper`: the text upper-cased.
fn upper(text: &str) -> String {
    text.to_uppercase()
}

/// `checksum`: the wrapping sum of the bytes as `u64`.
fn checksum(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0u64, |sum, &byte| sum.wrapping_add(u64::from(byte)))
}

polyplug_guest::plugin! {
    contract "demo.text" "1.0.0" {
        typed upper(text: &str) -> String = upper;
        typed checksum(bytes: &[u8]) -> u64 = checksum;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_is_unicode_aware_and_checksum_wraps_per_byte() {
        assert_eq!(upper("straße é"), "STRASSE É");
        assert_eq!(checksum(&[0xFF, 0xFF, 1]), 511);
        assert_eq!(checksum(&[]), 0);
    }
}
