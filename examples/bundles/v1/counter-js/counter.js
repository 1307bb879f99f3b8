// Example plugin counter-js 1.0.0: contract demo.counter 1.0.0 as an ES
// module, stepping by 1. The typed functions are those of the Rust, C and
// C++ counters; a JavaScript contract offers no native functions and no
// instances, so the native step and count are not here.
//
//   typed "version": u32()    -> VERSION
//   typed "step":    u32(u32) -> x + VERSION (wrapping)

const VERSION = 1;

const version = () => VERSION;

// `>>> 0` wraps the sum at 2^32, as u32 does.
const step = (x) => (x + VERSION) >>> 0;

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
