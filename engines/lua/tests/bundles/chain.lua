-- chain.wasm 1.0.0, in Lua: the contract the C fixture `c-caller` calls.
-- inc_via_native(x) = test.add's inc(x), through polyplug.find/call.
return {
  contracts = {
    {
      name = "chain.wasm",
      version = "1.0.0",
      functions = {
        inc_via_native = {
          sig = "u32(u32)",
          fn = function(x)
            local add = polyplug.find("test.add", "1.0.0")
            return polyplug.call(add, "inc", "u32(u32)", x)
          end,
        },
        via_c = {
          sig = "u32(u32)",
          fn = function(x)
            local caller = polyplug.find("test.caller", 1)
            return polyplug.call(caller, "call_wasm", "u32(u32)", x)
          end,
        },
        missing = {
          sig = "u32()",
          fn = function() return polyplug.find("no.such", 1) end,
        },
      },
    },
  },
}
