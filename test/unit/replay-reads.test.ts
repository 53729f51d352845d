import { MemoryEventBroker } from '../../src/broker/memory/events';
import { ReplayReads } from '../../src/hub/replay-reads';

describe('ReplayReads: the history reads of replaying streams', () => {
  let broker: MemoryEventBroker;
  let reads: ReplayReads;
  /** The ids of the five events published first. */
  let ids: number[];

  beforeEach(async () => {
    broker = new MemoryEventBroker(100);
    reads = new ReplayReads(broker);
    ids = [];
    for (let n = 1; n <= 5; n++) ids.push((await broker.publish({ channel: 'storm', event: 'message', dataJson: String(n) })).id);
  });
  afterEach(() => broker.close());

  it('lets streams resuming from the same point share one read in flight, its events and their encoded frames', async () => {
    const history = jest.spyOn(broker, 'history');
    const marks = [reads.joinableFrom(), reads.joinableFrom(), reads.joinableFrom()];
    const pages = await Promise.all(marks.map((mark) => reads.read('storm', ids[1] as number, mark)));
    expect(history).toHaveBeenCalledTimes(1);
    expect(pages[1]).toBe(pages[0]);
    expect(pages[2]?.frames).toBe(pages[0]?.frames);
    expect(pages[0]?.frames.map((frame) => frame.key)).toEqual(pages[0]?.page.events.map((event) => event.id));
    expect(pages[0]?.page.events.map((event) => event.dataJson)).toEqual(['3', '4', '5']);
  });

  it('never gives a stream a read begun before it started holding live events back (that read may miss what came between)', async () => {
    const history = jest.spyOn(broker, 'history');
    const early = reads.read('storm', ids[1] as number, reads.joinableFrom());
    // Published after the first read was taken, before the second stream holds events back.
    await broker.publish({ channel: 'storm', event: 'message', dataJson: '6' });
    const late = reads.read('storm', ids[1] as number, reads.joinableFrom());
    const [earlyPage, latePage] = await Promise.all([early, late]);
    expect(history).toHaveBeenCalledTimes(2);
    expect(earlyPage.page.events.map((event) => event.dataJson)).toEqual(['3', '4', '5']);
    expect(latePage.page.events.map((event) => event.dataJson)).toEqual(['3', '4', '5', '6']);
  });

  it('reads again once a read has settled, and keeps different pages and channels apart', async () => {
    const history = jest.spyOn(broker, 'history');
    const first = await reads.read('storm', ids[1] as number, reads.joinableFrom());
    const again = await reads.read('storm', ids[1] as number, reads.joinableFrom());
    expect(again).not.toBe(first);
    const [other, elsewhere] = await Promise.all([reads.read('storm', ids[3] as number, 0), reads.read('calm', ids[1] as number, 0)]);
    expect(other.page.events.map((event) => event.dataJson)).toEqual(['5']);
    expect(elsewhere.page.events).toEqual([]);
    expect(history).toHaveBeenCalledTimes(4);
  });
});
