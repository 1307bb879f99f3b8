-- `contracts` is a boolean.
return { contracts = true }
