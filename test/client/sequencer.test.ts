import { Sequencer, type Delivery } from '../../client/src/sequencer.js';
import type { HistoryPage } from '../../client/src/transport.js';
import type { WireItem } from '../../client/src/wire.js';

/**
 * A channel's retained history, read as the hub's history route serves it: at most `limit`
 * events, and at most `pageCap` (standing for HISTORY_PAGE_BYTES), `more` when newer ones remain.
 */
function historyOf(ids: number[], pageCap = Infinity): { read: (channel: string, after: string, limit: number) => Promise<HistoryPage>; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    read: (channel, after, limit) => {
      calls.push(`${channel}>${after}#${limit}`);
      const newer = ids.filter((id) => id > Number(after));
      const page = newer.slice(0, Math.min(limit, pageCap));
      return Promise.resolve({
        events: page.map((id) => ({ id: String(id), event: 'message', data: { n: id } })),
        more: newer.length > page.length,
      });
    },
  };
}

function event(channel: string, id: number): WireItem {
  return { type: 'event', channel, id: String(id), event: 'message', data: { n: id } };
}

function summary(deliveries: Delivery[]): string[] {
  return deliveries.map((delivery) => {
    if (delivery.item === undefined) return `position ${delivery.channel}=${delivery.position}`;
    if (delivery.item.kind === 'event') return `${delivery.item.channel}#${delivery.item.id}`;
    if (delivery.item.kind === 'gap') return `gap ${delivery.item.channel} ${delivery.item.lastEventId}->${delivery.item.firstAvailableId}`;
    return `presence ${delivery.item.sub}`;
  });
}

async function feed(sequencer: Sequencer, items: WireItem[]): Promise<string[]> {
  const out: string[] = [];
  for (const item of items) out.push(...summary(await sequencer.accept(item)));
  return out;
}

describe('Sequencer', () => {
  it('passes consecutive events and drops ones it already passed on', async () => {
    const history = historyOf([]);
    const sequencer = new Sequencer(['a'], new Map([['a', '10']]), history.read);
    expect(await feed(sequencer, [event('a', 10), event('a', 11), event('a', 12), event('a', 11), event('a', 12), event('a', 13)])).toEqual([
      'a#11',
      'a#12',
      'a#13',
    ]);
    expect(history.calls).toEqual([]);
  });

  it('fills an id jump from history before the later event, in pages', async () => {
    const history = historyOf([...Array.from({ length: 30 }, (_, index) => index + 1)]);
    const sequencer = new Sequencer(['a'], new Map([['a', '3']]), history.read, 10);
    const out = await feed(sequencer, [event('a', 30)]);
    expect(out).toEqual(Array.from({ length: 27 }, (_, index) => `a#${index + 4}`));
    expect(history.calls).toEqual(['a>3#10', 'a>13#10', 'a>23#6']);
    expect(sequencer.received.get('a')).toBe('30');
  });

  it('reads on with after=<last id> while more is true, so a hole over three byte-capped pages is filled', async () => {
    const history = historyOf(Array.from({ length: 12 }, (_, index) => index + 1), 3);
    const sequencer = new Sequencer(['a'], new Map([['a', '2']]), history.read);
    const out = await feed(sequencer, [event('a', 12)]);
    expect(out).toEqual(Array.from({ length: 10 }, (_, index) => `a#${index + 3}`));
    expect(history.calls).toEqual(['a>2#9', 'a>5#6', 'a>8#3']);
  });

  it('ends a hole in a gap, without another read, when a page says no more events remain', async () => {
    const history = historyOf([4, 5]);
    const sequencer = new Sequencer(['a'], new Map([['a', '3']]), history.read);
    expect(await feed(sequencer, [event('a', 9)])).toEqual(['a#4', 'a#5', 'gap a 5->9', 'a#9']);
    expect(history.calls).toEqual(['a>3#5']);
  });

  it('passes ephemeral events (id null) as they come: no hole, no history read, no position', async () => {
    const history = historyOf([]);
    const sequencer = new Sequencer(['a', 't'], new Map([['a', '3'], ['t', '7']]), history.read);
    const typing: WireItem = { type: 'event', channel: 't', id: null, event: 'typing', data: { who: 'x' } };
    const start: WireItem = { type: 'positions', positions: new Map([['a', '3']]) };
    // The stream's cursor has no entry for an ephemeral channel: the one a saved cursor had goes.
    expect(await feed(sequencer, [start, typing, event('a', 4), typing])).toEqual(['position t=null', 't#null', 'a#4', 't#null']);
    expect(history.calls).toEqual([]);
    expect([...sequencer.received]).toEqual([['a', '4']]);
  });

  it('turns only what history cannot fill into a gap item', async () => {
    const history = historyOf([8, 9, 10]);
    const sequencer = new Sequencer(['a'], new Map([['a', '3']]), history.read);
    expect(await feed(sequencer, [event('a', 11)])).toEqual(['gap a 3->8', 'a#8', 'a#9', 'a#10', 'a#11']);
  });

  it('gives a gap up to the live event when history has nothing before it', async () => {
    const sequencer = new Sequencer(['a'], new Map([['a', '3']]), historyOf([]).read);
    expect(await feed(sequencer, [event('a', 9), event('a', 10)])).toEqual(['gap a 3->9', 'a#9', 'a#10']);
  });

  it("relays the hub's gap and continues from its first available id", async () => {
    const sequencer = new Sequencer(['a', 'b'], new Map([['a', '3']]), historyOf([]).read);
    const out = await feed(sequencer, [
      { type: 'gap', channel: 'a', lastEventId: '3', firstAvailableId: '50' },
      event('a', 50),
      { type: 'gap', channel: 'b', lastEventId: '4', firstAvailableId: null },
      event('b', 1795631322281007),
    ]);
    expect(out).toEqual(['gap a 3->50', 'a#50', 'gap b 4->null', 'b#1795631322281007']);
  });

  it('takes the starting position for channels without one, keeps its own for the others', async () => {
    const sequencer = new Sequencer(['a', 'b'], new Map([['a', '5']]), historyOf([]).read);
    const out = await feed(sequencer, [{ type: 'positions', positions: new Map([['a', '9'], ['b', '7'], ['zz', '1']]) }, event('b', 8)]);
    expect(out).toEqual(['position b=7', 'b#8']);
    expect(sequencer.received.get('a')).toBe('5');
  });

  it('takes any first event after position 0 (from the beginning) or without a position', async () => {
    const sequencer = new Sequencer(['a', 'b'], new Map([['a', '0']]), historyOf([]).read);
    expect(await feed(sequencer, [event('a', 1795631322281007), event('b', 77)])).toEqual(['a#1795631322281007', 'b#77']);
  });

  it('ignores channels the subscription does not follow', async () => {
    const sequencer = new Sequencer(['a'], new Map(), historyOf([]).read);
    expect(await feed(sequencer, [event('other', 1), { type: 'gap', channel: 'other', lastEventId: '1', firstAvailableId: '2' }])).toEqual([]);
  });

  it('rejects without moving the position when history cannot be read', async () => {
    const sequencer = new Sequencer(['a'], new Map([['a', '3']]), () => Promise.reject(new Error('down')));
    await expect(sequencer.accept(event('a', 9))).rejects.toThrow('down');
    expect(sequencer.received.get('a')).toBe('3');
  });
});
