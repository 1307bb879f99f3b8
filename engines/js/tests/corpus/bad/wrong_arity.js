// `greet` declares two parameters where its signature has one.
export const contracts = [
  { name: "corpus.test", version: "1.0.0",
    functions: { greet: { sig: "string(str)", fn: (name, extra) => name } } },
];
