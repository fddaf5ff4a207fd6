/** The input rules several inputs share, stated once. */
import { Length, Matches } from 'class-validator';
import { WORKSPACE_ID_PATTERN, WORKSPACE_ID_RULE } from '../domain/workspace-id';

/** A workspace id, held to the rule every workspace id follows. */
export const IsWorkspaceId = (): PropertyDecorator => Matches(WORKSPACE_ID_PATTERN, { message: WORKSPACE_ID_RULE });

/**
 * Text without control characters other than a line break: a NUL or an escape sequence stored in
 * the log would reach every export and every terminal that shows it (PostgreSQL refuses to load a
 * NUL at all).
 */
export function NoControlCharacters(): PropertyDecorator {
  return (prototype, property) => {
    const name = String(property);
    // eslint-disable-next-line no-control-regex -- refusing control characters is the point
    Matches(/^[^\u0000-\u0009\u000B-\u001F\u007F]*$/, { message: `${name} must not contain control characters` })(
      prototype,
      name,
    );
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
