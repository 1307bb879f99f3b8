-- `functions` is a string.
return {
  contracts = {
    { name = "corpus.test", version = "1.0.0", functions = "version" },
  },
}
