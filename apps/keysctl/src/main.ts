import 'reflect-metadata';
import { DomainError } from '@keys/domain';
import { ApiError } from '@keys/platform';
import * as accountsCreate from './accounts/create-account.command';
import { type Output, UsageError, output } from './cli';
import { terminalLines } from './terminal-text';
import * as keysCreate from './keys/create-key.command';
import * as auditState from './audit/account-state.command';
import * as auditHistory from './audit/key-history.command';
import * as auditVerify from './audit/verify-chain.command';
import * as replayCommand from './replay/replay.command';
import * as projectionsRebuild from './projections/rebuild-projections.command';

// keysctl: operator CLI. Logs and progress go to stderr; only the result goes to stdout.

type Command = { usage: string; run(args: string[], out: Output): Promise<number> };

const COMMANDS: Record<string, Command> = {
  'accounts create': { usage: accountsCreate.usage, run: accountsCreate.createAccount },
  'keys create': { usage: keysCreate.usage, run: keysCreate.createKey },
  'audit verify': { usage: auditVerify.usage, run: auditVerify.verifyAudit },
  'audit history': { usage: auditHistory.usage, run: auditHistory.keyHistory },
  'audit state': { usage: auditState.usage, run: auditState.accountState },
  replay: { usage: replayCommand.usage, run: replayCommand.replay },
  'projections rebuild': { usage: projectionsRebuild.usage, run: projectionsRebuild.rebuildProjections },
};

export async function main(argv: string[]): Promise<number> {
  // Two-word commands ("audit verify") first, then one-word ones ("replay").
  const words = COMMANDS[argv.slice(0, 2).join(' ')] ? 2 : 1;
  const command = COMMANDS[argv.slice(0, words).join(' ')];
  const out = output(argv.includes('--json'));
  if (!command) {
    process.stderr.write(`usage:\n${Object.values(COMMANDS).map((c) => `  ${c.usage}`).join('\n')}\n`);
    return argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' ? 0 : 2;
  }
  try {
    return await command.run(argv.slice(words), out);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`keysctl: ${terminalLines(err.message)}\nusage: ${command.usage}\n`);
      return 2;
    }
    if (err instanceof DomainError || err instanceof ApiError) {
      process.stderr.write(`keysctl: ${terminalLines(err.message)}\n`);
      return 1;
    }
    throw err;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`keysctl: ${terminalLines((err as Error).message)}\n`);
      process.exit(1);
    },
  );
}
