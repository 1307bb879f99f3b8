// test.add whose `add` takes one parameter where its signature has two.
export const contracts = [
  {
    name: "test.add",
    version: "1.0.0",
    functions: { add: { sig: "u32(u32,u32)", fn: (a) => a } },
  },
];
