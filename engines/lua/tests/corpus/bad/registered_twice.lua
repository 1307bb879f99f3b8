-- corpus.test is registered twice.
local function one() return 1 end
return {
  contracts = {
    { name = "corpus.test", version = "1.0.0", functions = { version = { sig = "u32()", fn = one } } },
    { name = "corpus.test", version = "1.0.0", functions = { version = { sig = "u32()", fn = one } } },
  },
}
