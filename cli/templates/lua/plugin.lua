-- Plugin `{{name}}`: contract `{{name}}` 1.0.0 in Lua, made by
-- `polyplug new`. The script returns the contracts it registers; each
-- function names its typed signature.
--
--   typed "add":     u32(u32,u32) -> a + b (wrapping)
--   typed "version": u32()        -> 1
--
-- Each calling thread runs the script in a Lua state of its own; the
-- `polyplug` table finds and calls other loaded contracts
-- (`polyplug.find`, `polyplug.call`) and logs (`polyplug.log`).

-- Lua integers are 64-bit: the mask wraps the sum at 2^32, as u32 does.
local function add(a, b)
  return (a + b) & 0xffffffff
end

local function version()
  return 1
end

return {
  contracts = {
    { name = "{{name}}", version = "1.0.0",
      functions = {
        add = { sig = "u32(u32,u32)", fn = add },
        version = { sig = "u32()", fn = version },
      } },
  },
}
