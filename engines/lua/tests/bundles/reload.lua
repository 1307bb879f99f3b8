-- reload.test VERSION: `version` answers ANSWER (the test substitutes both).
return {
  contracts = {
    {
      name = "reload.test",
      version = "VERSION",
      functions = {
        version = { sig = "u32()", fn = function() return ANSWER end },
      },
    },
  },
}
