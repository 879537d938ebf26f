// "Did you mean …?" for a command that does not exist: the other number of a topic (`node list`
// -> `nodes list`, `networks list` -> `network list`), else the nearest command by edit distance.
const distance = (a: string, b: string): number => {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length]!;
};

/** The command id (oclif form, `nodes:list`) the user most likely meant by `id`, if any is close. */
export function suggestCommand(id: string, ids: readonly string[]): string | undefined {
  const [topic = '', ...rest] = id.split(':');
  for (const t of [topic.endsWith('s') ? topic.slice(0, -1) : `${topic}s`]) {
    const candidate = [t, ...rest].join(':');
    if (ids.includes(candidate)) return candidate;
  }
  let best: { id: string; d: number } | undefined;
  for (const c of ids) {
    const d = distance(id, c);
    if (!best || d < best.d) best = { id: c, d };
  }
  return best && best.d <= Math.max(2, Math.floor(id.length / 4)) ? best.id : undefined;
}
