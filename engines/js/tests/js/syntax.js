// reload.test, with a syntax error on line 4.
export const contracts = [
  { name: "reload.test", version: "1.2.0",
    functions: { version: { sig: "u32()", fn: () => ) } } },
];
