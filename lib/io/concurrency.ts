/** Bounding concurrent work: requests in flight, buffers in use. */

/** A counting semaphore: `await acquire()` resolves to the matching release function. */
export function semaphore(max: number): () => Promise<() => void> {
  let inFlight = 0;
  const waiting: (() => void)[] = [];
  const release = (): void => {
    const next = waiting.shift();
    // Hand the slot straight to the next waiter so a newcomer cannot overtake it.
    if (next) next();
    else inFlight--;
  };
  return async () => {
    if (inFlight < max) inFlight++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    return release;
  };
}
