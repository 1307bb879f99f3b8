// Throws while the module evaluates, on line 3.
const config = null;
const answer = config.answer;
export const contracts = [];
