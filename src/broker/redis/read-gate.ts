/**
 * Holds reads back while the previous batch of them is in flight, then issues all that waited in
 * one turn, so the command connection's auto-pipelining sends them as one write. At light load a
 * read waits only for the end of its turn (as auto-pipelining alone would); when many streams
 * connect at once (10,000 channels, each needing its newest id), they share a few writes and
 * replies instead of one per turn, which on a loaded machine cost more than the reads themselves.
 */
export class ReadGate {
  /** Reads waiting for the next batch; null while none is in flight or scheduled. */
  private waiting: Array<() => Promise<unknown>> | null = null;

  /** Runs `read` with the next batch; settles as it does. */
  run<T>(read: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const issue = (): Promise<unknown> => read().then(resolve, reject);
      if (this.waiting !== null) {
        this.waiting.push(issue);
        return;
      }
      this.waiting = [issue];
      setImmediate(this.sendWaiting);
    });
  }

  private readonly sendWaiting = (): void => {
    const batch = this.waiting ?? [];
    // Reads asked for from now on wait for this batch's replies.
    this.waiting = [];
    void Promise.all(batch.map((issue) => issue())).then(() => {
      if (this.waiting === null || this.waiting.length === 0) this.waiting = null;
      else this.sendWaiting();
    });
  };
}
