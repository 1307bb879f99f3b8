// Exports its contracts under another name.
export const registration = [
  { name: "corpus.test", version: "1.0.0",
    functions: { version: { sig: "u32()", fn: () => 1 } } },
];
