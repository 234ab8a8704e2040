import { describe, expect, it } from 'vitest';
import { doorbellChangeFeed, eventTargetChangeFeed, type CommittedChange } from './change-feed.ts';
import { eventTargetDoorbell } from './doorbell.ts';

const change: CommittedChange = { kind: 'product', productId: 'p1' };

/** A listener that records what it hears. */
function recorder() {
  const heard: (readonly CommittedChange[] | 'gap')[] = [];
  return { heard, listener: { onChanges: (changes: readonly CommittedChange[]) => heard.push(changes), onGap: () => heard.push('gap') } };
}

describe('the change feed over an EventTarget', () => {
  it('tells this instance synchronously and the others once, never itself twice', () => {
    const shared = new EventTarget();
    const [here, there] = [eventTargetChangeFeed(shared), eventTargetChangeFeed(shared)];
    const [mine, theirs] = [recorder(), recorder()];
    here.listen(mine.listener);
    there.listen(theirs.listener);
    here.publish([change]);
    expect(mine.heard).toEqual([[change]]);
    expect(theirs.heard).toEqual([[change]]);
  });

  it('keeps local changes (the order log, read by every instance) on this instance', () => {
    const shared = new EventTarget();
    const [here, there] = [eventTargetChangeFeed(shared), eventTargetChangeFeed(shared)];
    const [mine, theirs] = [recorder(), recorder()];
    here.listen(mine.listener);
    there.listen(theirs.listener);
    here.local([change]);
    expect(mine.heard).toEqual([[change]]);
    expect(theirs.heard).toEqual([]);
  });

  it('drops what cannot go out, and reports a gap when the receiving connection came back', () => {
    let reconnected: () => void = () => {};
    const shared = new EventTarget();
    const offline = eventTargetChangeFeed(shared, { connected: () => false });
    const receiver = eventTargetChangeFeed(shared, { onReconnect: (callback) => (reconnected = callback) });
    const heard = recorder();
    receiver.listen(heard.listener);
    offline.publish([change]);
    expect(heard.heard).toEqual([]);
    reconnected();
    expect(heard.heard).toEqual(['gap']);
  });
});

describe('the change feed over a doorbell without payload', () => {
  it('makes the other instances forget everything', () => {
    const shared = new EventTarget();
    const [here, there] = [doorbellChangeFeed(eventTargetDoorbell(shared, 'in-process')), doorbellChangeFeed(eventTargetDoorbell(shared, 'in-process'))];
    const [mine, theirs] = [recorder(), recorder()];
    here.listen(mine.listener);
    there.listen(theirs.listener);
    here.publish([change]);
    expect(mine.heard).toEqual([[change]]);
    expect(theirs.heard).toEqual(['gap']);
  });
});
