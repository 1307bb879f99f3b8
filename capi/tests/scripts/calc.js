// capi.js 1.0.0: what tests/c/scripts.c calls from C.
export const contracts = [{
  name: "capi.js",
  version: "1.0.0",
  functions: {
    add: { sig: "u32(u32,u32)", fn: (a, b) => (a + b) >>> 0 },
    upper: { sig: "string(str)", fn: (s) => s.toUpperCase() },
    fail: { sig: "u32(u32)", fn: (x) => { throw new Error("refused " + x); } },
  },
}];
