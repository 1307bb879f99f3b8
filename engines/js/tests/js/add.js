// test.add 1.0.0: numbers, strings and bytes across the boundary, and
// results that do not fit their declared type.
const add = (a, b) => (a + b) >>> 0;

export const contracts = [
  {
    name: "test.add",
    version: "1.0.0",
    functions: {
      add: { sig: "u32(u32,u32)", fn: add },
      inc: { sig: "u32(u32)", fn: (x) => x + 1 },
      add64: { sig: "u64(u64,u64)", fn: (a, b) => a + b },
      neg64: { sig: "i64(i64)", fn: (x) => -x },
      neg: { sig: "i32(i32)", fn: (x) => -x },
      half: { sig: "f64(f64)", fn: (x) => x / 2 },
      small: { sig: "u8(u8)", fn: (x) => x * 2 },
      greet: { sig: "string(str)", fn: (name) => `hello, ${name}` },
      reverse: { sig: "buf(bytes)", fn: (b) => b.slice().reverse() },
      sum: { sig: "u32(bytes)", fn: (b) => b.reduce((s, x) => s + x, 0) },
      frac: { sig: "u32(u32)", fn: (x) => x + 0.5 },
      wide: { sig: "u32(u32)", fn: (x) => x * 4294967296 },
      text: { sig: "string(u32)", fn: (x) => x },
      touch: { sig: "void(u32)", fn: (x) => { globalThis.touched = x; } },
    },
  },
];
