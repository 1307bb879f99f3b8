-- handover.counter VERSION: a stateful contract whose instances hand their
-- state over across a reload, in the format of the native versions. The
-- test substitutes VERSION (the contract's) and STEP (how far one step
-- counts).
local Counter = {}
Counter.__index = Counter

function Counter.new()
  return setmetatable({ n = 0, armed = 0 }, Counter)
end

function Counter:step()
  self.n = self.n + STEP
  return self.n
end

function Counter:count()
  return self.n
end

-- 0: nothing; 1: the next save raises; 2: the next save writes a state
-- that restore refuses.
function Counter:arm(mode)
  self.armed = mode
  return mode
end

-- The state is 8 bytes: the count, then `armed`, each a little-endian u32.
local function save(counter)
  if counter.armed == 1 then error("save armed to fail") end
  return string.pack("<I4I4", counter.n, counter.armed)
end

local function restore(state)
  if #state ~= 8 then error("restore refused: " .. #state .. " bytes, not 8") end
  local n, armed = string.unpack("<I4I4", state)
  if armed == 2 then error("restore refused: saved armed to be refused") end
  return setmetatable({ n = n, armed = 0 }, Counter)
end

return {
  contracts = {
    {
      name = "handover.counter",
      version = "VERSION",
      new = Counter.new,
      save = save,
      restore = restore,
      functions = {
        step = { sig = "u32()" },
        count = { sig = "u32()" },
        arm = { sig = "u32(u32)" },
      },
    },
  },
}
