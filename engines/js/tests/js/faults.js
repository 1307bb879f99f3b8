// test.faults 1.0.0: scripts that go wrong, and one that does not.
function spin() {
  for (;;) {}
}

function deep(n) {
  return deep(n + 1) + 1;
}

function fail(x) {
  throw new Error(`no good: ${x}`);
}

function hoard() {
  const kept = [];
  for (;;) {
    kept.push(new Array(100000).fill(1));
  }
}

export const contracts = [
  {
    name: "test.faults",
    version: "1.0.0",
    functions: {
      spin: { sig: "u32()", fn: () => { spin(); return 0; } },
      deep: { sig: "u32()", fn: () => deep(0) },
      fail: { sig: "u32(u32)", fn: fail },
      hoard: { sig: "u32()", fn: () => { hoard(); return 0; } },
      ok: { sig: "u32(u32)", fn: (x) => x * 3 },
    },
  },
];
