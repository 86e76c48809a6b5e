import { ValidateBy, type ValidationOptions } from 'class-validator';
import { nameProblem } from '@keys/domain';

/**
 * The domain's name rule (libs/domain name.rules) at the edge, so a refused name is a 400 naming `name` before any
 * lookup (an update of a missing key with a bad name is still a 400, not a 404).
 */
export function IsKeyName(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isKeyName',
      validator: {
        validate: (value: unknown) => nameProblem(value) === null,
        defaultMessage: (args) => `name ${nameProblem(args?.value) ?? 'is not valid'}.`,
      },
    },
    options,
  );
}
