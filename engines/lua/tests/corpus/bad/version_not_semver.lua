-- The version is a number, not "major.minor.patch".
return {
  contracts = {
    { name = "corpus.test", version = 1,
      functions = { version = { sig = "u32()", fn = function() return 1 end } } },
  },
}
