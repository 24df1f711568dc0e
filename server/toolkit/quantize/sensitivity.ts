/**
 * Measured sensitivity and the search for a mixed-precision choice.
 *
 * Sensitivity: for each unit (units.ts), a model where only that unit is quantized to int8 and everything
 * else stays float is scored against the float model (evaluate.ts). Its cost is what quantizing that unit
 * alone takes away: class-map agreement, logit cosine, mean IoU. Units are ranked by agreement lost on the
 * worst image, then pooled agreement, then cosine.
 *
 * Search (greedy, in rank order), for the smallest set that reaches the target agreement on every image:
 *   1. all int8; done when it passes;
 *   2. raise the k most sensitive units to int16, the smallest passing k found by doubling then bisection;
 *   3. when even all-int16 fails: all int16 and the k most sensitive kept float (same search);
 *   4. prune: each raised unit, least sensitive first, is lowered one level (float -> int16 -> int8) and
 *      stays lowered when the target still holds (at most `pruneLimit` tries).
 * Every configuration the search looked at is scored for real; the result is the last passing one.
 */
import { Progress } from '../../util/progress.ts';
import type { Evaluator, Score } from './evaluate.ts';
import type { Precision, QdqOptions, QdqWriter } from './qdq-writer.ts';
import type { QuantUnit, UnitKind } from './units.ts';

export interface UnitCost {
  id: string;
  kind: UnitKind;
  label: string;
  nodes: string[];
  named: boolean;
  /** Score of the model with only this unit quantized (int8). */
  score: Score;
  rank: number;
}

export interface SearchStep {
  step: number;
  phase: 'baseline' | 'int16' | 'float' | 'prune';
  description: string;
  int16Units: number;
  floatUnits: number;
  score: Score;
  passed: boolean;
}

export interface SearchResult {
  target: number;
  reached: boolean;
  /** Unit ids raised to int16 / kept float in the chosen configuration. */
  int16: string[];
  float: string[];
  score: Score;
  history: SearchStep[];
}

export interface SensitivityOptions {
  /** Class-map agreement every evaluation image must reach (0..1), default 0.995. */
  target?: number;
  /** Most prune evaluations (default 32). */
  pruneLimit?: number;
  quiet?: boolean;
  /** Writer options except the precision choice. */
  qdq: Omit<QdqOptions, 'precision' | 'defaultPrecision'>;
}

export const DEFAULT_TARGET = 0.995;

type Assignment = Map<string, Precision>;

function precisionMap(units: readonly QuantUnit[], assignment: Assignment, fallback: Precision): Map<string, Precision> {
  const m = new Map<string, Precision>();
  for (const u of units) {
    const p = assignment.get(u.id) ?? fallback;
    for (const n of u.nodes) m.set(n, p);
  }
  return m;
}

function passes(s: Score, target: number): boolean {
  return s.worstAgreement >= target;
}

/** Cost order: most agreement lost on the worst image first, then pooled agreement, then cosine. */
export function rankUnits(costs: Omit<UnitCost, 'rank'>[]): UnitCost[] {
  return [...costs]
    .sort((a, b) => a.score.worstAgreement - b.score.worstAgreement || a.score.agreement - b.score.agreement || a.score.cosine - b.score.cosine || a.id.localeCompare(b.id))
    .map((c, i) => ({ ...c, rank: i + 1 }));
}

export class SensitivityLab {
  private evaluations = 0;

  constructor(
    private readonly writer: QdqWriter,
    private readonly evaluator: Evaluator,
    readonly units: readonly QuantUnit[],
    private readonly o: SensitivityOptions,
  ) {
    const t = o.target ?? DEFAULT_TARGET;
    if (!(t > 0 && t <= 1)) throw new RangeError(`target agreement must be a fraction in (0, 1], got ${t}`);
  }

  get evaluationCount(): number {
    return this.evaluations;
  }

  /** Scores one precision assignment (units not listed take `fallback`). */
  async score(assignment: Assignment, fallback: Precision): Promise<Score> {
    const bytes = this.writer.write({ ...this.o.qdq, precision: precisionMap(this.units, assignment, fallback), defaultPrecision: fallback }).bytes;
    this.evaluations++;
    return (await this.evaluator.score(bytes)).score;
  }

  /** One model per unit with only that unit int8; returns the units ranked by cost. */
  async measure(): Promise<UnitCost[]> {
    const progress = new Progress('sensitivity', this.units.length, this.o.quiet ?? false);
    const costs: Omit<UnitCost, 'rank'>[] = [];
    for (const u of this.units) {
      const score = await this.score(new Map([[u.id, 'int8']]), 'float');
      costs.push({ id: u.id, kind: u.kind, label: u.label, nodes: u.nodes, named: u.named, score });
      progress.tick(`${u.kind} ${(score.worstAgreement * 100).toFixed(2)}%`);
    }
    return rankUnits(costs);
  }

  /** The greedy search over ranked units (see the module comment). */
  async search(ranked: readonly UnitCost[]): Promise<SearchResult> {
    const target = this.o.target ?? DEFAULT_TARGET;
    const history: SearchStep[] = [];
    const log = (phase: SearchStep['phase'], description: string, a: Assignment, score: Score) => {
      const values = [...a.values()];
      const step: SearchStep = {
        step: history.length + 1,
        phase,
        description,
        int16Units: values.filter((p) => p === 'int16').length,
        floatUnits: values.filter((p) => p === 'float').length,
        score,
        passed: passes(score, target),
      };
      history.push(step);
      if (!this.o.quiet) process.stderr.write(`search ${step.step}: ${description}: worst-image agreement ${(score.worstAgreement * 100).toFixed(2)}%${step.passed ? ' (target reached)' : ''}\n`);
      return step.passed;
    };
    const ids = ranked.map((u) => u.id);
    const evalAssign = async (phase: SearchStep['phase'], description: string, a: Assignment) => {
      const score = await this.score(a, 'int8');
      return { ok: log(phase, description, a, score), score };
    };

    // 1. All int8.
    let current: Assignment = new Map();
    let best = await evalAssign('baseline', 'all units int8', current);
    if (!best.ok) {
      // 2./3. The smallest prefix of the ranking raised to `level` on top of `base` that passes.
      const prefixSearch = async (phase: 'int16' | 'float', base: Assignment, level: Precision, candidates: string[]) => {
        const make = (k: number) => {
          const a = new Map(base);
          for (const id of candidates.slice(0, k)) a.set(id, level);
          return a;
        };
        const tried = new Map<number, { ok: boolean; score: Score }>();
        const tryK = async (k: number) => {
          if (!tried.has(k)) tried.set(k, await evalAssign(phase, `${k} most sensitive unit${k === 1 ? '' : 's'} ${level}`, make(k)));
          return tried.get(k)!;
        };
        let lo = 0;
        let hi = -1;
        for (let k = 1; ; k = Math.min(candidates.length, k * 2)) {
          if ((await tryK(k)).ok) {
            hi = k;
            break;
          }
          lo = k;
          if (k === candidates.length) break;
        }
        if (hi < 0) return undefined;
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if ((await tryK(mid)).ok) hi = mid;
          else lo = mid;
        }
        return { assignment: make(hi), score: tried.get(hi)!.score };
      };
      const int16 = await prefixSearch('int16', new Map(), 'int16', ids);
      if (int16) {
        current = int16.assignment;
        best = { ok: true, score: int16.score };
      } else {
        const allInt16 = new Map(ids.map((id) => [id, 'int16' as Precision]));
        const floats = await prefixSearch('float', allInt16, 'float', ids);
        if (floats) {
          // With those kept float, raise only what is needed to int16 over an int8 base.
          const floatSet = new Map([...floats.assignment].filter(([, p]) => p === 'float'));
          const rest = ids.filter((id) => !floatSet.has(id));
          const mixed = await prefixSearch('int16', floatSet, 'int16', rest);
          current = mixed ? mixed.assignment : floats.assignment;
          best = { ok: true, score: mixed ? mixed.score : floats.score };
        }
      }
      // 4. Prune, least sensitive raised unit first.
      if (best.ok) {
        const limit = this.o.pruneLimit ?? 32;
        const raised = ranked.filter((u) => current.has(u.id)).reverse().slice(0, limit);
        for (const u of raised) {
          const from = current.get(u.id)!;
          const to: Precision = from === 'float' ? 'int16' : 'int8';
          const a = new Map(current);
          if (to === 'int8') a.delete(u.id);
          else a.set(u.id, to);
          const r = await evalAssign('prune', `lower ${u.label} (${u.kind}) ${from} -> ${to}`, a);
          if (r.ok) {
            current = a;
            best = r;
          }
        }
      }
    }
    const int16 = ranked.filter((u) => current.get(u.id) === 'int16').map((u) => u.id);
    const float = ranked.filter((u) => current.get(u.id) === 'float').map((u) => u.id);
    return { target, reached: best.ok, int16, float, score: best.score, history };
  }

  /** The per-node precision map of a search result (for the writer and node_info). */
  precisionOf(result: Pick<SearchResult, 'int16' | 'float'>): Map<string, Precision> {
    const a: Assignment = new Map();
    for (const id of result.int16) a.set(id, 'int16');
    for (const id of result.float) a.set(id, 'float');
    return precisionMap(this.units, a, 'int8');
  }
}
