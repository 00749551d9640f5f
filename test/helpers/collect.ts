/** Every item of an async iterable, in order (the results of `extract()`, rows of a reader...). */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
