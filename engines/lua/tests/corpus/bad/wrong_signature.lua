-- `version` has a signature the grammar refuses: `str` is an argument type.
return {
  contracts = {
    { name = "corpus.test", version = "1.0.0",
      functions = { version = { sig = "str()", fn = function() return "1" end } } },
  },
}
