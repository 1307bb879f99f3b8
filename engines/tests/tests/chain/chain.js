// chain.js 1.0.0: the second link. inc(x) asks chain.python.
function inc(x) {
  const next = polyplug.find("chain.python", 1);
  return polyplug.call(next, "inc", "u32(u32)", x);
}

export const contracts = [
  {
    name: "chain.js",
    version: "1.0.0",
    functions: { inc: { sig: "u32(u32)", fn: inc } },
  },
];
