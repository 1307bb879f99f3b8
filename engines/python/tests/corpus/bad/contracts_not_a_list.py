# CONTRACTS is a bool, not a list of contracts.
CONTRACTS = True
