/**
 * A bounded FIFO between one producer and one consumer: `push` waits while the queue
 * is full (backpressure), `shift` waits while it is empty. `fail` wakes both sides
 * with an error; `close` ends the stream (shift then yields null).
 */
export class BoundedQueue<T> {
  private readonly items: T[] = [];
  private closed = false;
  private error: unknown = undefined;
  private wakeProducer: (() => void) | null = null;
  private wakeConsumer: (() => void) | null = null;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items.length;
  }

  async push(item: T): Promise<void> {
    while (this.items.length >= this.capacity && this.error === undefined) {
      await new Promise<void>((resolve) => (this.wakeProducer = resolve));
    }
    if (this.error !== undefined) throw this.error;
    this.items.push(item);
    this.wake('consumer');
  }

  async shift(): Promise<T | null> {
    while (this.items.length === 0 && !this.closed && this.error === undefined) {
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
    }
    if (this.error !== undefined) throw this.error;
    if (this.items.length === 0) return null;
    const item = this.items.shift()!;
    this.wake('producer');
    return item;
  }

  close(): void {
    this.closed = true;
    this.wake('consumer');
  }

  fail(error: unknown): void {
    if (this.error === undefined) this.error = error;
    this.wake('consumer');
    this.wake('producer');
  }

  private wake(side: 'producer' | 'consumer'): void {
    const fn = side === 'producer' ? this.wakeProducer : this.wakeConsumer;
    if (side === 'producer') this.wakeProducer = null;
    else this.wakeConsumer = null;
    fn?.();
  }
}
