-- Registers corpus.test and corpus.extra; the manifest declares only the first.
local function one() return 1 end
return {
  contracts = {
    { name = "corpus.test", version = "1.0.0",
      functions = { version = { sig = "u32()", fn = one } } },
    { name = "corpus.extra", version = "1.0.0",
      functions = { version = { sig = "u32()", fn = one } } },
  },
}
