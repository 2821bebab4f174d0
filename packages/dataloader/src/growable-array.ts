/** An append-only typed array that doubles its capacity (millions of items without JS array overhead). */
export class GrowableArray<T extends Int32Array | Float64Array> {
  private data: T;
  private size = 0;
  private readonly make: (capacity: number) => T;

  constructor(make: (capacity: number) => T, initialCapacity = 1024) {
    this.make = make;
    this.data = make(initialCapacity);
  }

  get length(): number {
    return this.size;
  }

  push(value: number): void {
    if (this.size === this.data.length) {
      const bigger = this.make(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.size++] = value;
  }

  /** A view of the filled part (shares memory; valid until the next `push`). */
  view(): T {
    return this.data.subarray(0, this.size) as T;
  }
}
