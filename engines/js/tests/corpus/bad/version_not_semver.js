// The version is "1.0", not "major.minor.patch".
export const contracts = [
  { name: "corpus.test", version: "1.0",
    functions: { version: { sig: "u32()", fn: () => 1 } } },
];
