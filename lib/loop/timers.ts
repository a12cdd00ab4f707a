/**
 * lib/loop/timers.ts — the loop's timers: a binary min-heap ordered by (deadline, creation order),
 * the count of cancelled timers still in it (compacted once they are many and over half), and the
 * two reads the iteration makes of it: the earliest live timer, and the timers due now. A
 * cancelled timer at the top of the heap is dropped in one place (#dropCancelledTop).
 */
import type { Handle, TimerHandle } from "./handles.js";

/** Compact the heap when more than this many cancelled timers are in it (and over half). */
const MIN_CANCELLED_TO_COMPACT = 100;

function before(a: TimerHandle, b: TimerHandle): boolean {
  return a.when < b.when || (a.when === b.when && a._seq < b._seq);
}

/** A binary min-heap of timers ordered by (when, creation order). */
class TimerHeap {
  #items: TimerHandle[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): TimerHandle | undefined {
    return this.#items[0];
  }

  push(item: TimerHandle): void {
    const items = this.#items;
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent]!;
      if (!before(item, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = item;
  }

  pop(): TimerHandle | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      let i = 0;
      const n = items.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && before(items[r]!, items[l]!) ? r : l;
        if (!before(items[c]!, last)) break;
        items[i] = items[c]!;
        i = c;
      }
      items[i] = last;
    }
    return top;
  }

  /** Drops every cancelled handle (marking them unscheduled) and rebuilds the heap. */
  compact(): void {
    const live = this.#items.filter((h) => {
      if (!h.cancelled()) return true;
      h._scheduled = false;
      return false;
    });
    this.#items = [];
    for (const h of live) this.push(h);
  }

  /** Removes everything, marking each handle unscheduled. */
  clear(): TimerHandle[] {
    const items = this.#items;
    this.#items = [];
    for (const h of items) h._scheduled = false;
    return items;
  }
}

/** @internal The loop's timers: the heap and its cancelled-timer bookkeeping. */
export class Timers {
  readonly #heap = new TimerHeap();
  #cancelled = 0;

  get size(): number {
    return this.#heap.size;
  }

  push(handle: TimerHandle): void {
    this.#heap.push(handle);
  }

  /** Bookkeeping for a timer cancelled while still in the heap; compacts when they are many. */
  cancelled(): void {
    this.#cancelled++;
    if (this.#cancelled > MIN_CANCELLED_TO_COMPACT && this.#cancelled * 2 > this.#heap.size) {
      this.#heap.compact();
      this.#cancelled = 0;
    }
  }

  /** The earliest live timer, dropping cancelled ones from the top of the heap. */
  liveHead(): TimerHandle | undefined {
    const heap = this.#heap;
    let head = heap.peek();
    while (head !== undefined && head.cancelled()) head = this.#dropCancelledTop();
    return head;
  }

  /** Moves every live timer due by `end` (loop clock) to `ready`, in deadline order. */
  popDue(end: number, ready: Handle[]): void {
    const heap = this.#heap;
    for (let head = this.liveHead(); head !== undefined && head.when <= end; head = this.liveHead()) {
      heap.pop();
      head._scheduled = false;
      ready.push(head);
    }
  }

  /** Removes every timer, marking each unscheduled: the loop closes. */
  clear(): TimerHandle[] {
    this.#cancelled = 0;
    return this.#heap.clear();
  }

  /** Pops the cancelled timer at the top; returns the new top. */
  #dropCancelledTop(): TimerHandle | undefined {
    const heap = this.#heap;
    heap.pop()!._scheduled = false;
    this.#cancelled--;
    return heap.peek();
  }
}
