/**
 * `npm run token -- --workspace <id> --role <ROLE> [--admin]`: prints a bearer token signed with
 * the same secret the server uses (AUTH_JWT_SECRET, or the development secret under DATA_DIR).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ROLES, type Role } from '../auth/principal';
import { DEV_SECRET_FILE, isSubject, LAST_EXP, resolveJwtSecret, signToken, SUBJECT_RULE } from '../auth/tokens';
import { isWorkspaceId, WORKSPACE_ID_RULE } from '../domain/workspace-id';
import { loadConfig } from '../server/config';

/** A token the server would refuse is refused here, with the rule, rather than printed. */
const workspaceIdArg = (value: string): string => {
  if (!isWorkspaceId(value)) throw new InvalidArgumentError(`${WORKSPACE_ID_RULE}.`);
  return value;
};
const subjectArg = (value: string): string => {
  if (!isSubject(value)) throw new InvalidArgumentError(`${SUBJECT_RULE}.`);
  return value;
};

/**
 * A token's lifetime: whole seconds, at least one (an expired token is no use to anyone), and
 * ending by 9999-12-31, past which the server refuses a token's exp.
 */
function lifetime(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError(`Not a lifetime in seconds: ${value} (a whole number from 1)`);
  }
  if (Math.floor(Date.now() / 1000) + Number(value) > LAST_EXP) {
    throw new InvalidArgumentError(`A lifetime of ${value} seconds ends after 9999-12-31: tokens must expire.`);
  }
  return Number(value);
}

const program = new Command('token')
  .description('Print a bearer token for the credits API')
  .requiredOption('--workspace <id>', 'workspace the token belongs to', workspaceIdArg)
  .addOption(new Option('--role <role>', 'role in the workspace').choices(ROLES).default('MEMBER'))
  .option('--admin', 'platform admin: may act on any workspace', false)
  .option('--subject <id>', 'user or service id (sub)', subjectArg, 'local-user')
  .option('--expires-in <seconds>', 'lifetime in seconds, a whole number from 1', lifetime, 8 * 60 * 60)
  .action((options: { workspace: string; role: Role; admin: boolean; subject: string; expiresIn: number }) => {
    let secret: string;
    try {
      const config = loadConfig();
      const madeNow = !config.jwtSecret && !existsSync(join(config.dataDir, DEV_SECRET_FILE));
      secret = resolveJwtSecret(config.jwtSecret, config.dataDir, config.production);
      if (madeNow) {
        // A server on another DATA_DIR signs with another secret: its refusal would not say why.
        process.stderr.write(
          `No server has used DATA_DIR (${config.dataDir}) yet: a new development secret was made there. ` +
            'This token works with a server started on the same DATA_DIR (or give both the same AUTH_JWT_SECRET).\n',
        );
      }
    } catch (error) {
      // A setting that cannot work (a secret too short): what is wrong, not a stack trace.
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    }
    const principal = {
      subject: options.subject,
      workspaceId: options.workspace,
      role: options.role,
      admin: options.admin,
    };
    process.stdout.write(`${signToken(principal, secret, options.expiresIn)}\n`);
  });

program.parse();
