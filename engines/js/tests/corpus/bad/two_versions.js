// Exports corpus.test at two versions; the manifest declares both.
export const contracts = [
  { name: "corpus.test", version: "1.0.0",
    functions: { version: { sig: "u32()", fn: () => 1 } } },
  { name: "corpus.test", version: "2.0.0",
    functions: { version: { sig: "u32()", fn: () => 2 } } },
];
