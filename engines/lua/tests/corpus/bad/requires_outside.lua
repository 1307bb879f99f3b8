-- Requires a module that lies outside the bundle directory.
local outside = require("outside")
return {
  contracts = {
    { name = "corpus.test", version = "1.0.0",
      functions = { version = { sig = "u32()", fn = outside.version } } },
  },
}
