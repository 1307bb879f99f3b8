// Exports no contract, though the manifest declares corpus.test.
export const contracts = [];
