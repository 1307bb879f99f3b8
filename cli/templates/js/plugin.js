// Plugin `{{name}}`: contract `{{name}}` 1.0.0 as an ES module, made by
// `polyplug new`. The module exports the contracts it registers; each
// function names its typed signature, and takes as many parameters as it
// lists.
//
//   typed "add":     u32(u32,u32) -> a + b (wrapping)
//   typed "version": u32()        -> 1
//
// Each calling thread evaluates the module in a QuickJS state of its own;
// the `polyplug` global finds and calls other loaded contracts
// (`polyplug.find`, `polyplug.call`) and logs (`polyplug.log`). A module
// cannot `import`.

// `>>> 0` wraps the sum at 2^32, as u32 does.
const add = (a, b) => (a + b) >>> 0;

const version = () => 1;

export const contracts = [
  {
    name: "{{name}}",
    version: "1.0.0",
    functions: {
      add: { sig: "u32(u32,u32)", fn: add },
      version: { sig: "u32()", fn: version },
    },
  },
];
