// handover.counter VERSION: a stateful contract whose instances hand their
// state over across a reload, in the format of the native versions. The
// test substitutes VERSION (the contract's) and STEP (how far one step
// counts).
class Counter {
  constructor() {
    this.n = 0;
    this.armed = 0;
  }
  step() {
    this.n += STEP;
    return this.n;
  }
  count() {
    return this.n;
  }
  // 0: nothing; 1: the next save throws; 2: the next save writes a state
  // that restore refuses.
  arm(mode) {
    this.armed = mode;
    return mode;
  }
}

// The state is 8 bytes: the count, then `armed`, each a little-endian u32.
function save(counter) {
  if (counter.armed === 1) throw new Error("save armed to fail");
  const state = new DataView(new ArrayBuffer(8));
  state.setUint32(0, counter.n, true);
  state.setUint32(4, counter.armed, true);
  return new Uint8Array(state.buffer);
}

function restore(bytes) {
  if (bytes.length !== 8) throw new Error(`restore refused: ${bytes.length} bytes, not 8`);
  const state = new DataView(bytes.buffer, bytes.byteOffset, 8);
  if (state.getUint32(4, true) === 2) throw new Error("restore refused: saved armed to be refused");
  const counter = new Counter();
  counter.n = state.getUint32(0, true);
  return counter;
}

export const contracts = [
  {
    name: "handover.counter",
    version: "VERSION",
    class: Counter,
    save,
    restore,
    functions: {
      step: { sig: "u32()" },
      count: { sig: "u32()" },
      arm: { sig: "u32(u32)" },
    },
  },
];
