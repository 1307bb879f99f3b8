// Written by `polyplug gen counter.toml --lang js` from contract demo.counter 1.0.0.
// A stub to fill in: every function raises until it is written. Name it in a bundle's
// [library] with `loader = "javascript"`, and declare the contract under [[provides]].
//
// A counter: each plugin version steps by its own amount.

// The plugin's version number: 1 or 2.
function version() {
  throw new Error("demo.counter version: not written yet");
}

// `x` plus the plugin's version; 0 when that overflows.
function step(x) {
  throw new Error("demo.counter step: not written yet");
}

export const contracts = [
  {
    name: "demo.counter",
    version: "1.0.0",
    functions: {
      version: { sig: "u32()", fn: version },
      step: { sig: "u32(u32)", fn: step },
    },
  },
];
