-- demo.calc 1.0.0: typed calls of every kind, a module from the bundle
-- directory, and the sandbox as a script sees it.
local helper = require("helper")

local forbidden = { "io", "os", "debug", "dofile", "loadfile" }

return {
  contracts = {
    {
      name = "demo.calc",
      version = "1.0.0",
      functions = {
        inc = { sig = "u32(u32)", fn = function(x) return x + 1 end },
        add64 = { sig = "i64(i64,i64)", fn = function(a, b) return a + b end },
        half = { sig = "f64(f64)", fn = function(x) return x / 2 end },
        small = { sig = "u8(u16)", fn = function(x) return x end },
        greet = { sig = "string(str)", fn = function(name) return helper.greeting(name) end },
        reverse = { sig = "buf(bytes)", fn = function(b) return string.reverse(b) end },
        negative = { sig = "u32()", fn = function() return -1 end },
        fraction = { sig = "i64()", fn = function() return 1.5 end },
        wrong_kind = { sig = "u32()", fn = function() return "seven" end },
        sandbox = {
          sig = "u32()",
          fn = function()
            local present = 0
            for _, name in ipairs(forbidden) do
              if _G[name] ~= nil then present = present + 1 end
            end
            if package.loadlib ~= nil or package.cpath ~= "" then present = present + 1 end
            if #package.searchers ~= 2 then present = present + 1 end
            if pcall(require, "outside") then present = present + 1 end
            return present
          end,
        },
      },
    },
  },
}
