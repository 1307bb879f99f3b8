// reload.test VERSION: answers ANSWER.
export const contracts = [
  {
    name: "reload.test",
    version: "VERSION",
    functions: { version: { sig: "u32()", fn: () => ANSWER } },
  },
];
