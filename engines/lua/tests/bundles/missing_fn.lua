-- Function `version` has a signature and no `fn`.
return {
  contracts = {
    { name = "reload.test", version = "1.0.0",
      functions = { version = { sig = "u32()" } } },
  },
}
