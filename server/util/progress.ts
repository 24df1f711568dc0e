/**
 * A small progress reporter for long CLI work: a redrawn bar on a TTY, one line per 10% otherwise
 * (so CI logs stay readable), nothing at all when quiet (e.g. --json output on stdout).
 */
export class Progress {
  private done = 0;
  private lastDecile = -1;
  private readonly start = Date.now();
  private readonly stream: NodeJS.WriteStream = process.stderr;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly quiet = false,
  ) {}

  tick(detail = ''): void {
    this.done++;
    if (this.quiet) return;
    const fraction = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const elapsed = (Date.now() - this.start) / 1000;
    const eta = fraction > 0 ? elapsed / fraction - elapsed : 0;
    if (this.stream.isTTY) {
      const width = 24;
      const filled = Math.round(fraction * width);
      const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
      this.stream.write(`\r${this.label} [${bar}] ${this.done}/${this.total} ${elapsed.toFixed(1)}s eta ${eta.toFixed(1)}s ${detail}`.slice(0, 160).padEnd(80));
      if (this.done >= this.total) this.stream.write('\n');
    } else {
      const decile = Math.floor(fraction * 10);
      if (decile !== this.lastDecile) {
        this.lastDecile = decile;
        this.stream.write(`${this.label}: ${this.done}/${this.total} (${Math.round(fraction * 100)}%) ${elapsed.toFixed(1)}s ${detail}\n`);
      }
    }
  }
}
