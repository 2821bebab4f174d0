/**
 * Runs an async generator of events to completion, passing each event to `onEvent`, and returns its
 * result: the plain-function form of every `…Iter` API (huggingface.js `commit` over `commitIter`).
 */
export async function drain<Event, Result>(
  iterator: AsyncGenerator<Event, Result>,
  onEvent?: (event: Event) => void,
): Promise<Result> {
  for (;;) {
    const next = await iterator.next();
    if (next.done) {
      return next.value;
    }
    onEvent?.(next.value);
  }
}
