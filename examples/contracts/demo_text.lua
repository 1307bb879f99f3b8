-- Written by `polyplug gen text.toml --lang lua` from contract demo.text 1.0.0.
-- A stub to fill in: every function raises until it is written. Name it in a bundle's
-- [library] with `loader = "lua"`, and declare the contract under [[provides]].
--
-- Text and bytes in, borrowed for the call; an owned string or a number out.

-- `text` upper-cased: all of Unicode in Rust, ASCII a-z only in C.
local function upper(text)
  error("demo.text upper: not written yet")
end

-- The wrapping sum of the bytes as u64.
local function checksum(bytes)
  error("demo.text checksum: not written yet")
end

return {
  contracts = {
    { name = "demo.text", version = "1.0.0",
      functions = {
        upper = { sig = "string(str)", fn = upper },
        checksum = { sig = "u64(bytes)", fn = checksum },
      } },
  },
}
