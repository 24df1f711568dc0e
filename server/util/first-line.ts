/** The text up to its first line break (all of it when there is none): the headline of a multi-line message. */
export function firstLine(text: string): string {
  const end = text.search(/\r?\n/);
  return end < 0 ? text : text.slice(0, end);
}
