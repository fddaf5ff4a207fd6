/**
 * The money rules as invariants: random sequences of allowances, purchases, grants, spends, both
 * kinds of refunds with the provider's answers in any order, disputes, holds (reserved, settled,
 * released, extended), alert rules, auto top-up, expiries and clock steps, checked after every step
 * (see money-model.ts for the rules; the holds' guarantee is one of them). A fixed seed keeps CI repeatable;
 * FC_SEED and FC_RUNS explore further from the command line.
 */
import fc from 'fast-check';
import { MoneyModel, steps } from './money-model';

const seed = Number(process.env.FC_SEED ?? 20261202);
const numRuns = Number(process.env.FC_RUNS ?? 150);

it('keeps every money invariant after every step of any history', () => {
  fc.assert(
    fc.property(steps, (history) => {
      const model = new MoneyModel();
      try {
        for (const step of history) {
          for (const command of step(model)) model.run(command);
          model.checkInvariants();
        }
      } catch (error) {
        // The steps print as their source; the commands they ran say what happened.
        throw new Error(`${String(error)}\ncommands run:\n${model.history()}`);
      } finally {
        model.close();
      }
    }),
    { seed, numRuns },
  );
});
