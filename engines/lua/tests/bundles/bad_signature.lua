-- Function `mix` has a signature the grammar refuses.
return {
  contracts = {
    { name = "reload.test", version = "1.0.0",
      functions = { mix = { sig = "str(u32)", fn = function(x) return x end } } },
  },
}
