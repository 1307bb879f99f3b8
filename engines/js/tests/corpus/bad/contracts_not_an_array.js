// `contracts` is a boolean.
export const contracts = true;
