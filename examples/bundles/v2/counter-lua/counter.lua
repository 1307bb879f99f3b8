-- Example plugin counter-lua 2.0.0: contract demo.counter 1.0.0 in Lua,
-- stepping by 2. The typed functions are those of the Rust, C and C++
-- counters; a Lua contract offers no native functions and no instances,
-- so the native step and count are not here.
--
--   typed "version": u32()    -> VERSION
--   typed "step":    u32(u32) -> x + VERSION (wrapping)

local VERSION = 2

local function version()
  return VERSION
end

-- Lua integers are 64-bit: the mask wraps the sum at 2^32, as u32 does.
local function step(x)
  return (x + VERSION) & 0xffffffff
end

return {
  contracts = {
    { name = "demo.counter", version = "1.0.0",
      functions = {
        version = { sig = "u32()", fn = version },
        step = { sig = "u32(u32)", fn = step },
      } },
  },
}
