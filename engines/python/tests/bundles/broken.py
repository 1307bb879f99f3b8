# Does not parse: line 4 has a stray `)`.
CONTRACTS = [
    {
    ) }
