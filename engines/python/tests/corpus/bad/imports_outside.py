# Imports `outside`, which lies next to the bundle directory, not in it.
import outside

CONTRACTS = outside.CONTRACTS
