/** The input rules several inputs share, stated once. */
import { Length, Matches } from 'class-validator';
import { PLAIN_TEXT, PLAIN_TEXT_RULE } from '../domain/plain-text';
import { WORKSPACE_ID_PATTERN, WORKSPACE_ID_RULE } from '../domain/workspace-id';

/** A workspace id, held to the rule every workspace id follows. */
export const IsWorkspaceId = (): PropertyDecorator => Matches(WORKSPACE_ID_PATTERN, { message: WORKSPACE_ID_RULE });

/** Text without the characters PLAIN_TEXT refuses (domain/plain-text.ts). */
export function NoControlCharacters(): PropertyDecorator {
  return (prototype, property) => {
    const name = String(property);
    Matches(PLAIN_TEXT, { message: `${name} ${PLAIN_TEXT_RULE}` })(prototype, name);
  };
}

/** Free text that must say something: 1 to `maxLength` characters, not all blank, no control characters. */
export function NotBlank(maxLength: number): PropertyDecorator {
  return (prototype, property) => {
    Matches(/\S/, { message: `${String(property)} must not be blank` })(prototype, String(property));
    Length(1, maxLength)(prototype, String(property));
    NoControlCharacters()(prototype, property);
  };
}
