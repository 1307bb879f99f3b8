-- corpus.test 1.0.0: the version that serves while each bad case is tried.
local function version()
  return 1
end

local function greet(name)
  polyplug.log("info", "greeting " .. name)
  return "hello, " .. name
end

return {
  contracts = {
    { name = "corpus.test", version = "1.0.0",
      functions = {
        version = { sig = "u32()", fn = version },
        greet = { sig = "string(str)", fn = greet },
      } },
  },
}
