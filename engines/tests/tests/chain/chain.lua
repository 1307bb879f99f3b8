-- chain.lua 1.0.0: the head of the chain. inc(x) asks chain.js.
return {
  contracts = {
    {
      name = "chain.lua",
      version = "1.0.0",
      functions = {
        inc = {
          sig = "u32(u32)",
          fn = function(x)
            local next = polyplug.find("chain.js", 1)
            return polyplug.call(next, "inc", "u32(u32)", x)
          end,
        },
      },
    },
  },
}
