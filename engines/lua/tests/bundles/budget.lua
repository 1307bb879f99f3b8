-- budget.test 1.0.0: each function breaks one budget on purpose; `ok`
-- answers 7.
local function recurse(n) return recurse(n + 1) + 1 end

return {
  contracts = {
    {
      name = "budget.test",
      version = "1.0.0",
      functions = {
        ok = { sig = "u32()", fn = function() return 7 end },
        spin = { sig = "u32()", fn = function() while true do end end },
        recurse = { sig = "u32()", fn = function() return recurse(0) end },
        raise = { sig = "u32()", fn = function() error("boom") end },
        grow = {
          sig = "u32()",
          fn = function()
            local t = {}
            for i = 1, math.maxinteger do t[i] = string.rep("x", 1 << 20) .. i end
            return #t
          end,
        },
      },
    },
  },
}
