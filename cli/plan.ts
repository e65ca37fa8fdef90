// `gbcs-rig plan`: the campaign's schedule before anything moves — per bench, each case's start and
// end in bench time and what it holds of the bench, the total against the longest wait chain, and
// when a real bench would finish (harness/plan.ts). `run` writes the same plan into run.json.
import { parseArgs } from 'node:util';
import { planCampaign, planLines } from '../harness/plan.ts';
import { LIST_ONLY_RIG, RUN_ENV } from '../harness/run-context.ts';
import { plannedCase } from '../harness/plan.ts';
import { SuitesNotListed, UsageError } from './errors.ts';
import { checkGrep, listCases, loadRunRig, planBenches, suitesCommand, suitesEnv } from './run-checks.ts';
import { PLAN_USAGE } from './usage.ts';
import { counted } from '../protocol/words.ts';

export async function planCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rig: { type: 'string' },
      grep: { type: 'string' },
      bench: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      'one-at-a-time': { type: 'boolean' },
    },
  });
  if (positionals.length) throw new UsageError(`unexpected "${positionals.join(' ')}"\n${PLAN_USAGE}`);
  checkGrep(values.grep);
  // Nothing moves: a lab may plan away from its bench, without the rig's secrets or its images.
  const { rig, benches } = await loadRunRig(values.rig, values.bench, LIST_ONLY_RIG);
  const env = suitesEnv({ [RUN_ENV.rig]: rig.file ?? '', [RUN_ENV.benches]: benches.join(','), [RUN_ENV.listOnly]: '1' });
  const args = suitesCommand();
  const listed = listCases(values.grep ? [...args, '--grep', values.grep] : args, env);
  if (listed.length === 0) {
    if (!values.grep) throw new SuitesNotListed('the conformance suites list no case');
    const ids = [...new Set(listCases(args, env).map((c) => c.title.split(' ')[0]))].sort();
    throw new UsageError(`--grep ${values.grep}: matches no case; the cases: ${ids.join(', ')}`);
  }
  const cases = listed.map((c) => plannedCase(c.title, c.annotations, c.bench, c.suite));
  const plan = planCampaign(cases, planBenches(rig, benches), { oneAtATime: values['one-at-a-time'] });
  if (values.json) {
    out(JSON.stringify({ cases, plan }, null, 2));
    return 0;
  }
  out(`gbcs-rig plan: station ${rig.station.name}, ${counted(cases.length, 'case')} on ${benches.join(', ')}`);
  for (const line of planLines(plan, cases, Date.now())) out(line);
  return 0;
}
