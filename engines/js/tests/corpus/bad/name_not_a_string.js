// The contract's name is a number.
export const contracts = [
  { name: 42, version: "1.0.0",
    functions: { version: { sig: "u32()", fn: () => 1 } } },
];
