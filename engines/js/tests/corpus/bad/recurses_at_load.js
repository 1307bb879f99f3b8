// Recurses without end while evaluating: the stack limit stops it.
function deeper(n) { return deeper(n + 1) + 1; }
deeper(0);
export const contracts = [];
