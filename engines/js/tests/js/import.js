// Imports another file: refused, a bundle is one module.
import { helper } from "./helper.js";
export const contracts = [
  { name: "test.add", version: "1.0.0", functions: { inc: { sig: "u32(u32)", fn: helper } } },
];
