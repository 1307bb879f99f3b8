-- Written by `polyplug gen counter.toml --lang lua` from contract demo.counter 1.0.0.
-- A stub to fill in: every function raises until it is written. Name it in a bundle's
-- [library] with `loader = "lua"`, and declare the contract under [[provides]].
--
-- A counter: each plugin version steps by its own amount.

-- The plugin's version number: 1 or 2.
local function version()
  error("demo.counter version: not written yet")
end

-- `x` plus the plugin's version; 0 when that overflows.
local function step(x)
  error("demo.counter step: not written yet")
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
