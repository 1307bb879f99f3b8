# Registers nothing, though the manifest declares corpus.test.
CONTRACTS = []
