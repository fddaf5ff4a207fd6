/** The input rules several inputs share, stated once. */
import { Length, Matches } from 'class-validator';
import { WORKSPACE_ID_PATTERN, WORKSPACE_ID_RULE } from '../domain/workspace-id';

/** A workspace id, held to the rule every workspace id follows. */
export const IsWorkspaceId = (): PropertyDecorator => Matches(WORKSPACE_ID_PATTERN, { message: WORKSPACE_ID_RULE });

/** Free text that must say something: 1 to `maxLength` characters, not all blank. */
export function NotBlank(maxLength: number): PropertyDecorator {
  return (prototype, property) => {
    Matches(/\S/, { message: `${String(property)} must not be blank` })(prototype, String(property));
    Length(1, maxLength)(prototype, String(property));
  };
}
