// test.chain 1.0.0: calls other contracts through the polyplug global.
function viaNative(x) {
  const add = polyplug.find("test.add", 1);
  return polyplug.call(add, "inc", "u32(u32)", x);
}

function again(x) {
  const self = polyplug.find("test.chain", "1.0.0");
  return polyplug.call(self, "via_native", "u32(u32)", x);
}

function missing(x) {
  polyplug.find("no.such", 1);
  return x;
}

export const contracts = [
  {
    name: "test.chain",
    version: "1.0.0",
    functions: {
      via_native: { sig: "u32(u32)", fn: viaNative },
      again: { sig: "u32(u32)", fn: again },
      missing: { sig: "u32(u32)", fn: missing },
    },
  },
];
