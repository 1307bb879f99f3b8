// Allocates past the memory limit while evaluating.
const kept = [];
for (;;) { kept.push(new Array(65536).fill(kept.length)); }
export const contracts = [];
