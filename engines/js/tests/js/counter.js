// js.counter TAG: a stateful contract. Its `class` makes each instance
// (`new Counter()`); the contract's functions are the class's methods.
// The test substitutes TAG (the answer of `tag`).
class Counter {
  constructor() {
    this.n = 0;
  }
  bump() {
    this.n += 1;
    return this.n;
  }
  add(x) {
    this.n += x;
    return this.n;
  }
  tag() {
    return TAG;
  }
  grow() {
    const kept = [];
    for (;;) {
      kept.push(new Array(100000).fill(this.n));
    }
  }
  spin() {
    let i = 0;
    for (;;) {
      i += 1;
    }
  }
}

export const contracts = [
  {
    name: "js.counter",
    version: "1.0.0",
    class: Counter,
    functions: {
      bump: { sig: "u32()" },
      add: { sig: "u32(u32)" },
      tag: { sig: "u32()" },
      spin: { sig: "u32()" },
      grow: { sig: "u32()" },
    },
  },
];
