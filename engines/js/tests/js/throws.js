// reload.test, throwing while the module evaluates (line 3).
const broken = null;
broken.version = 300;
export const contracts = [];
