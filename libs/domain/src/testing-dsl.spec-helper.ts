// given(events).when(command).then(events) for any decider, in the style of emmett's DeciderSpecification.

import type { Decider } from './decider';
import { DomainError, type DomainErrorCode } from './domain.errors';

export function specFor<State, Command, Event>(decider: Decider<State, Command, Event>) {
  return (given: readonly Event[]) => ({
    when: (command: Command) => {
      const run = () => decider.decide(command, given.reduce((state, event) => decider.evolve(state, event), decider.initialState()));
      return {
        then(expected: readonly Event[]): void {
          expect(run()).toEqual(expected);
        },
        thenNothing(): void {
          expect(run()).toEqual([]);
        },
        thenThrows(code: DomainErrorCode): void {
          let thrown: unknown;
          try {
            run();
          } catch (error) {
            thrown = error;
          }
          expect(thrown).toBeInstanceOf(DomainError);
          expect((thrown as DomainError).code).toBe(code);
        },
      };
    },
  });
}
