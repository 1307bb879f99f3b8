// corpus.test is exported twice.
const one = () => 1;
export const contracts = [
  { name: "corpus.test", version: "1.0.0", functions: { version: { sig: "u32()", fn: one } } },
  { name: "corpus.test", version: "1.0.0", functions: { version: { sig: "u32()", fn: one } } },
];
