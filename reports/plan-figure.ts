// The campaign plan as the report draws it (Gantt-style, inline SVG): per bench, each case's planned
// span in bench time as a pale bar, and the span it took as a bar in its verdict's colour.
import type { CaseResult } from '../harness/case.ts';
import { benchTimeText, type CampaignPlan } from '../harness/plan.ts';
import { escapeText as e } from './escape.ts';
import { verdictColour } from './timeline.ts';

const W = 960;
const LEFT = 190;
const RIGHT = 24;
const ROW = 16;
const BENCH_ROW = 20;
const AXIS = 24;

/** The figure, or '' when the run recorded no plan (a run.json from before plans). */
export function planSvg(plan: CampaignPlan | undefined, cases: readonly CaseResult[]): string {
  if (!plan || plan.benches.every((b) => b.cases.length === 0)) return '';
  const spanOf = (bench: string) => {
    const ran = cases.filter((c) => c.bench === bench);
    const from = Math.min(...ran.map((c) => Date.parse(c.startedAt)));
    return new Map(
      ran.map((c) => [c.id, { startMs: Date.parse(c.startedAt) - from, endMs: Date.parse(c.endedAt) - from, verdict: c.verdict }]),
    );
  };
  const took = new Map(plan.benches.map((b) => [b.bench, spanOf(b.bench)]));
  const endMs = Math.max(plan.totalMs, ...[...took.values()].flatMap((m) => [...m.values()].map((s) => s.endMs)), 1);
  const x = (ms: number) => LEFT + (ms / endMs) * (W - LEFT - RIGHT);
  const parts: string[] = [];
  let y = 4;
  for (const b of plan.benches) {
    // A case the bench lacks a device for takes no bench time: counted, not drawn.
    const na = b.cases.filter((s) => s.notApplicable).length;
    parts.push(
      `<text class="bench" x="4" y="${y + 14}">bench ${e(b.bench)} — ${e(benchTimeText(b.totalMs))} planned${na ? e(`; ${na} not applicable there (the bench lacks a device they need), not drawn`) : ''}</text>`,
    );
    y += BENCH_ROW;
    for (const s of b.cases.filter((x) => !x.notApplicable)) {
      const actual = took.get(b.bench)?.get(s.id);
      parts.push(
        `<g data-plan-case="${e(`${s.id}--${b.bench}`)}"><text x="8" y="${y + 11}">${e(s.id)}</text>` +
          `<rect class="planned" x="${x(s.startMs).toFixed(1)}" y="${y + 1}" width="${Math.max(1, x(s.endMs) - x(s.startMs)).toFixed(1)}" height="${ROW - 2}"><title>${e(`${s.id} planned: +${benchTimeText(s.startMs)} to +${benchTimeText(s.endMs)}`)}</title></rect>` +
          (actual
            ? `<rect class="took" data-verdict="${e(actual.verdict)}" fill="${verdictColour(actual.verdict)}" x="${x(actual.startMs).toFixed(1)}" y="${y + 4}" width="${Math.max(1, x(actual.endMs) - x(actual.startMs)).toFixed(1)}" height="${ROW - 8}"><title>${e(`${s.id} took +${benchTimeText(actual.startMs)} to +${benchTimeText(actual.endMs)}: ${actual.verdict}`)}</title></rect>`
            : '') +
          '</g>',
      );
      y += ROW;
    }
  }
  const ticks = [0, 0.25, 0.5, 0.75, 1].map(
    (f) =>
      `<text class="tick" x="${x(f * endMs).toFixed(1)}" y="${y + 16}" text-anchor="${f === 0 ? 'start' : f === 1 ? 'end' : 'middle'}">+${e(benchTimeText(f * endMs))}</text>`,
  );
  return `<svg class="plan" id="plan-figure" viewBox="0 0 ${W} ${y + AXIS}" width="${W}" height="${y + AXIS}" role="img" aria-label="campaign plan">
<style>svg.plan { border: 1px solid #ddd; background: #fff; max-width: 100%; } .plan text { font: 11px sans-serif; fill: #333; } .plan .bench { font-weight: bold; } .plan .planned { fill: #dde3ea; }</style>
${parts.join('\n')}
${ticks.join('')}
</svg>`;
}
