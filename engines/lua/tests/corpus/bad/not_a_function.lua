-- `version` has a number where its function belongs.
return {
  contracts = {
    { name = "corpus.test", version = "1.0.0",
      functions = { version = { sig = "u32()", fn = 1 } } },
  },
}
