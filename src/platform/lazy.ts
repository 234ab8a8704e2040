/** The target behind a {@link lazyObject} proxy: the builder, then what it built. */
interface Slot<T extends object> {
  build: (() => T) | undefined;
  value: T | undefined;
}

const built = <T extends object>(slot: Slot<T>): T => {
  if (slot.value === undefined) {
    slot.value = slot.build!();
    slot.build = undefined;
  }
  return slot.value;
};

// One handler for every lazy object, so each costs a proxy and a slot, not a set of closures.
const handler: ProxyHandler<Slot<object>> = {
  get: (slot, key) => Reflect.get(built(slot), key),
  has: (slot, key) => Reflect.has(built(slot), key),
  ownKeys: (slot) => Reflect.ownKeys(built(slot)),
  getOwnPropertyDescriptor: (slot, key) => {
    const descriptor = Reflect.getOwnPropertyDescriptor(built(slot), key);
    // A proxy may not report as non-configurable a property that its target lacks.
    return descriptor ? { ...descriptor, configurable: true } : undefined;
  },
};

/**
 * An object that is built by `build` the first time one of its properties is read (or its keys
 * are listed), then behaves as that object (reads only). For per-operation scopes whose parts most
 * operations never touch: a subscription keeps its GraphQL context for as long as it lives, and
 * building every module's use cases for each of 10,000 sockets cost memory for nothing (issue 6).
 */
export function lazyObject<T extends object>(build: () => T): T {
  const slot: Slot<T> = { build, value: undefined };
  return new Proxy(slot, handler as ProxyHandler<Slot<T>>) as unknown as T;
}
