/** Hides user:password in any URL inside a text (log lines, status messages). */
export function withoutCredentials(text: string): string {
  return text.replace(/(\w+:\/\/)[^/@\s"]*@/g, '$1***@');
}
