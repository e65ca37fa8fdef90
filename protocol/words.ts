// Counted nouns in the rig's messages and reports: "1 case", "3 cases", "2 entries".

/** `n` and the noun in its number: `one` for 1, else `many` (the noun and an s unless given). */
export function counted(n: number | bigint, one: string, many = `${one}s`): string {
  return `${n} ${Number(n) === 1 ? one : many}`;
}
