-- Registers nothing, though the manifest declares corpus.test.
return { contracts = {} }
