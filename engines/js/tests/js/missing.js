// test.add whose `inc` has a signature and no function.
export const contracts = [
  {
    name: "test.add",
    version: "1.0.0",
    functions: { inc: { sig: "u32(u32)" } },
  },
];
