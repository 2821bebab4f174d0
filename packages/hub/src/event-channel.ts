/**
 * Runs `task`, which reports events through `emit` (possibly from concurrent work), as an async
 * generator of those events that returns the task's result (huggingface.js's `eventToGenerator`).
 */
export async function* eventChannel<E, R>(
  task: (emit: (event: E) => void) => Promise<R>,
): AsyncGenerator<E, R> {
  const queue: E[] = [];
  let wake: (() => void) | undefined;
  let settled: { ok: true; value: R } | { ok: false; error: unknown } | undefined;
  const notify = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  task((event) => {
    queue.push(event);
    notify();
  }).then(
    (value) => {
      settled = { ok: true, value };
      notify();
    },
    (error: unknown) => {
      settled = { ok: false, error };
      notify();
    },
  );
  for (;;) {
    while (queue.length > 0) {
      yield queue.shift() as E;
    }
    if (settled !== undefined) {
      if (!settled.ok) {
        throw settled.error;
      }
      return settled.value;
    }
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
}
