-- A module `calc.lua` requires from its bundle directory.
return {
  greeting = function(name) return "hello " .. name end,
}
