-- capi.lua 1.0.0: what tests/c/scripts.c calls from C.
return {
  contracts = {
    {
      name = "capi.lua",
      version = "1.0.0",
      functions = {
        add = { sig = "u32(u32,u32)", fn = function(a, b) return (a + b) & 0xffffffff end },
        upper = { sig = "string(str)", fn = function(s) return string.upper(s) end },
        fail = { sig = "u32(u32)", fn = function(x) error("refused " .. x) end },
      },
    },
  },
}
