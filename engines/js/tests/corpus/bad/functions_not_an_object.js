// `functions` is a string.
export const contracts = [
  { name: "corpus.test", version: "1.0.0", functions: "version" },
];
