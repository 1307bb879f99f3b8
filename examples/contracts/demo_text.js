// Written by `polyplug gen text.toml --lang js` from contract demo.text 1.0.0.
// A stub to fill in: every function raises until it is written. Name it in a bundle's
// [library] with `loader = "javascript"`, and declare the contract under [[provides]].
//
// Text and bytes in, borrowed for the call; an owned string or a number out.

// `text` upper-cased: all of Unicode in Rust, ASCII a-z only in C.
function upper(text) {
  throw new Error("demo.text upper: not written yet");
}

// The wrapping sum of the bytes as u64.
function checksum(bytes) {
  throw new Error("demo.text checksum: not written yet");
}

export const contracts = [
  {
    name: "demo.text",
    version: "1.0.0",
    functions: {
      upper: { sig: "string(str)", fn: upper },
      checksum: { sig: "u64(bytes)", fn: checksum },
    },
  },
];
