/** The input rules several inputs share, stated once. */
import { Length, Matches } from 'class-validator';
import { WORKSPACE_ID_PATTERN, WORKSPACE_ID_RULE } from '../domain/workspace-id';

/** A workspace id, held to the rule every workspace id follows. */
export const IsWorkspaceId = (): PropertyDecorator => Matches(WORKSPACE_ID_PATTERN, { message: WORKSPACE_ID_RULE });

/**
 * Control characters other than a tab and a line break (LF or CRLF; a lone CR, which makes a
 * terminal write the rest of the line over its start, is refused), C1 controls included, and
 * halves of a surrogate pair: a NUL or an escape sequence stored in the log would reach every
 * export and every terminal that shows it (PostgreSQL refuses to load a NUL at all, and a lone
 * surrogate in JSON).
 */
const TEXT =
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  /^(?:[^\u0000-\u0008\u000B-\u001F\u007F-\u009F\uD800-\uDFFF]|\r\n|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;

/** Text without the characters TEXT refuses. */
export function NoControlCharacters(): PropertyDecorator {
  return (prototype, property) => {
    const name = String(property);
    Matches(TEXT, { message: `${name} must not contain control characters` })(prototype, name);
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
