/** Differences between consecutive numbers: [1, 4, 9] -> [3, 5]. */
export function gaps(values: readonly number[]): number[] {
  return values.slice(1).map((value, i) => value - (values[i] as number));
}
