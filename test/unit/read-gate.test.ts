import { ReadGate } from '../../src/broker/redis/read-gate';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A read that records when it was issued and settles when told. */
function controlledRead(issued: string[], name: string): { read: () => Promise<string>; settle: () => void } {
  let settle = (): void => undefined;
  const read = (): Promise<string> => {
    issued.push(name);
    return new Promise<string>((resolve) => {
      settle = () => resolve(name);
    });
  };
  return { read, settle: () => settle() };
}

describe('ReadGate', () => {
  it('issues the reads of one turn together, and holds later ones until that batch has settled, then issues them together', async () => {
    const gate = new ReadGate();
    const issued: string[] = [];
    const [a, b] = [controlledRead(issued, 'a'), controlledRead(issued, 'b')];
    const first = [gate.run(a.read), gate.run(b.read)];
    await nextTurn();
    expect(issued).toEqual(['a', 'b']);
    const [c, d] = [controlledRead(issued, 'c'), controlledRead(issued, 'd')];
    const second = [gate.run(c.read), gate.run(d.read)];
    await nextTurn();
    expect(issued).toEqual(['a', 'b']);
    a.settle();
    b.settle();
    await expect(Promise.all(first)).resolves.toEqual(['a', 'b']);
    await nextTurn();
    expect(issued).toEqual(['a', 'b', 'c', 'd']);
    c.settle();
    d.settle();
    await expect(Promise.all(second)).resolves.toEqual(['c', 'd']);
  });

  it('rejects a read as it rejects, without holding up the next batch', async () => {
    const gate = new ReadGate();
    await expect(gate.run(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await expect(gate.run(() => Promise.resolve(1))).resolves.toBe(1);
  });
});
