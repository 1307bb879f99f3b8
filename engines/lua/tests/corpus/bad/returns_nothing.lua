-- Forgets to return its contracts.
local function version() return 1 end
local contracts = { { name = "corpus.test", version = "1.0.0",
  functions = { version = { sig = "u32()", fn = version } } } }
