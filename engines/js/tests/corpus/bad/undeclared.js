// Exports corpus.test and corpus.extra; the manifest declares only the first.
const one = () => 1;
export const contracts = [
  { name: "corpus.test", version: "1.0.0", functions: { version: { sig: "u32()", fn: one } } },
  { name: "corpus.extra", version: "1.0.0", functions: { version: { sig: "u32()", fn: one } } },
];
