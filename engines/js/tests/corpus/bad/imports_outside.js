// Imports a module that lies outside the bundle directory.
import { version } from "../outside.js";
export const contracts = [
  { name: "corpus.test", version: "1.0.0", functions: { version: { sig: "u32()", fn: version } } },
];
