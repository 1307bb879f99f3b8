-- lua.counter TAG: a stateful contract. `new` makes an object; the
-- contract's functions are its methods, called with the object as `self`.
-- The test substitutes TAG (the answer of `tag`).
local Counter = {}
Counter.__index = Counter

function Counter.new()
  return setmetatable({ n = 0 }, Counter)
end

function Counter:bump()
  self.n = self.n + 1
  return self.n
end

function Counter:add(x)
  self.n = self.n + x
  return self.n
end

function Counter:tag()
  return TAG
end

function Counter:grow()
  local s = "x"
  while true do s = s .. s end
end

function Counter:spin()
  local i = 0
  while true do i = i + 1 end
end

return {
  contracts = {
    {
      name = "lua.counter",
      version = "1.0.0",
      new = Counter.new,
      functions = {
        bump = { sig = "u32()" },
        add = { sig = "u32(u32)" },
        tag = { sig = "u32()" },
        spin = { sig = "u32()" },
        grow = { sig = "u32()" },
      },
    },
  },
}
