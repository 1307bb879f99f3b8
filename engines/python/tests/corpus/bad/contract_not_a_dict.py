# CONTRACTS holds a string where a contract's dict belongs.
CONTRACTS = ["corpus.test"]
