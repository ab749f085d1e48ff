/**
 * `target[key] = value`, except that `__proto__` (a valid user id or asset code) becomes an own
 * key, as JSON.parse and Object.fromEntries make it, instead of replacing the prototype.
 */
export function setOwn<V>(target: Record<string, V>, key: string, value: V): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else target[key] = value;
}
