import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CliError, type Output, output } from './cli';
import { terminalJson, terminalLines, terminalText } from './terminal-text';

// keysctl: operator CLI. Logs and progress go to stderr; only the result goes to stdout. With --json an error
// is also one JSON object on stdout, {"error":{"message","code"}}, so a script parses stdout whatever the exit.

type Run = (args: string[], out: Output) => Promise<number>;

interface Command {
  name: string;
  usage: string;
  summary: string;
  /** Loaded only when run: `--help` and `--version` start without the database, NATS and Nest modules. */
  load(): Promise<Run>;
}

const COMMANDS: Command[] = [
  {
    name: 'accounts create',
    usage: 'keysctl accounts create --name <name> [--json]',
    summary: 'Creates an account and its first billing key, printed this once. Waits until every serving verifier has applied it.',
    load: async () => (await import('./accounts/create-account.command')).createAccount,
  },
  {
    name: 'keys create',
    usage: 'keysctl keys create --account <id> --type proxy|billing --name <name> [--expires-at <ISO-8601>] [--json]',
    summary: 'Creates a key for an account, printed this once. Waits until every serving verifier has applied it.',
    load: async () => (await import('./keys/create-key.command')).createKey,
  },
  {
    name: 'keys revoke',
    usage: 'keysctl keys revoke --key-id <id> --reason <text> [--json]',
    summary:
      'Revokes a key of any account for good (it stays visible to its owner, inactive; the reason is recorded). Waits until every serving verifier refuses it.',
    load: async () => (await import('./keys/revoke-key.command')).revokeKey,
  },
  {
    name: 'audit verify',
    usage: 'keysctl audit verify [--from <position>] [--against-stream] [--expect-head <hash>] [--json]',
    summary: "Recomputes the events' hash chain; exit 1 at the first break.",
    load: async () => (await import('./audit/verify-chain.command')).verifyAudit,
  },
  {
    name: 'audit history',
    usage: 'keysctl audit history --key <id> [--json]',
    summary: 'Every event of a key, with actor, IP address and time.',
    load: async () => (await import('./audit/key-history.command')).keyHistory,
  },
  {
    name: 'audit state',
    usage: 'keysctl audit state --account <id> --as-of <ISO-8601> [--json]',
    summary: "An account's keys as they were at an instant, replayed from its events.",
    load: async () => (await import('./audit/account-state.command')).accountState,
  },
  {
    name: 'replay',
    usage: 'keysctl replay --to-subject <subject> [--from-position N] [--to-position M] [--batch-size K] [--json]',
    summary: 'Republishes history to a NATS subject, resumable.',
    load: async () => (await import('./replay/replay.command')).replay,
  },
  {
    name: 'projections rebuild',
    usage: 'keysctl projections rebuild [--batch-size N] [--json]',
    summary: 'Rebuilds the keys and security_log read models from the events and swaps them in (as DATABASE_OWNER_URL).',
    load: async () => (await import('./projections/rebuild-projections.command')).rebuildProjections,
  },
  {
    name: 'db migrate',
    usage: 'keysctl db migrate [--create-database] [--json]',
    summary:
      'Migrates the event store to the latest schema as DATABASE_OWNER_URL (default DATABASE_URL) and grants DATABASE_URL\'s role its privileges. --create-database first creates the database if it does not exist; no other command creates or migrates one.',
    load: async () => (await import('./db/migrate.command')).migrateDatabase,
  },
];

const GROUPS = new Set(COMMANDS.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]));

const commandList = (): string => COMMANDS.map((c) => `  ${c.usage}`).join('\n');

const overview = (): string =>
  [
    'usage: keysctl <command> [options]',
    '',
    'commands:',
    commandList(),
    '',
    'keysctl <command> --help shows one command; keysctl --version its version.',
    'Settings come from the environment: DATABASE_URL, DATABASE_OWNER_URL, NATS_URL, KEYS_SUBJECT_PREFIX, ... (see docs/operations.md).',
  ].join('\n');

const commandHelp = (command: Command): string => `usage: ${command.usage}\n\n${command.summary}`;

/** The version in the package.json above this file: the same from the sources and from dist/. */
export function keysctlVersion(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown };
      if (typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json here: look one level up
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

/** Finds the command named by the leading words of `words`, or says what was given instead. */
function findCommand(words: string[]): { command: Command; args: string[] } {
  for (const n of [2, 1]) {
    const command = COMMANDS.find((c) => c.name === words.slice(0, n).join(' '));
    if (command) return { command, args: words.slice(n) };
  }
  const given = GROUPS.has(words[0]) && words[1] !== undefined && !words[1].startsWith('-') ? words.slice(0, 2).join(' ') : words[0];
  throw new CliError('unknown_command', `unknown command "${terminalText(given)}"`, 2);
}

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const out = output(json);
  let command: Command | undefined;
  try {
    // Global flags come before the command; --json is also accepted anywhere, as every command takes it.
    let i = 0;
    let help = false;
    for (; i < argv.length && argv[i].startsWith('-'); i++) {
      if (argv[i] === '--version' || argv[i] === '-V') {
        out.result({ version: keysctlVersion() }, keysctlVersion());
        return 0;
      }
      if (argv[i] === '--help' || argv[i] === '-h') help = true;
      else if (argv[i] !== '--json') throw new CliError('unknown_option', `unknown option "${terminalText(argv[i])}" before the command`, 2);
    }
    let words = argv.slice(i);
    if (words[0] === 'version') {
      out.result({ version: keysctlVersion() }, keysctlVersion());
      return 0;
    }
    if (words[0] === 'help') {
      help = true;
      words = words.slice(1).filter((w) => w !== '--json');
    }
    if (words.length === 0) {
      if (help) {
        out.result({ commands: COMMANDS.map(({ name, usage, summary }) => ({ name, usage, summary })) }, overview());
        return 0;
      }
      throw new CliError('no_command', 'no command given', 2);
    }
    const found = findCommand(words);
    command = found.command;
    if (help || found.args.includes('--help') || found.args.includes('-h')) {
      out.result({ name: command.name, usage: command.usage, summary: command.summary }, commandHelp(command));
      return 0;
    }
    // A --json given before the command still reaches the command's own options.
    const args = json && !found.args.includes('--json') ? [...found.args, '--json'] : found.args;
    await import('reflect-metadata'); // the libraries' Nest decorators need it before they load
    const run = await command.load();
    return await run(args, out);
  } catch (err) {
    return report(err, json, command);
  }
}

/** One error: `keysctl: <message>` on stderr, or {"error":{"message","code"}} on stdout with --json. */
function report(err: unknown, json: boolean, command: Command | undefined): number {
  const { message, code, exitCode } = describeError(err);
  const listCommands = code === 'unknown_command' || code === 'no_command' || code === 'unknown_option';
  if (json) {
    const error: Record<string, unknown> = { message, code };
    if (listCommands) error.commands = COMMANDS.map((c) => c.name);
    process.stdout.write(`${terminalJson({ error })}\n`);
    return exitCode;
  }
  let text = `keysctl: ${terminalLines(message)}\n`;
  if (code === 'usage' && command) text += `usage: ${command.usage}\n`;
  if (listCommands) text += `commands:\n${commandList()}\nkeysctl <command> --help shows one command.\n`;
  process.stderr.write(text);
  return exitCode;
}

function describeError(err: unknown): { message: string; code: string; exitCode: number } {
  if (err instanceof CliError) return { message: err.message, code: err.code, exitCode: err.exitCode };
  const e = err as { name?: unknown; code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  // Refusals of the write path and bad settings: compared by name so this module loads none of those libraries.
  if ((e?.name === 'DomainError' || e?.name === 'ApiError') && typeof e.code === 'string') return { message, code: e.code, exitCode: 1 };
  if (e?.name === 'ConfigError') return { message, code: 'invalid_config', exitCode: 1 };
  return { message, code: 'internal', exitCode: 1 };
}

/** The process entry: runs main on the command line and exits with its code (open pools cannot hold it). */
export function runCli(argv: string[] = process.argv.slice(2)): void {
  main(argv).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`keysctl: ${terminalLines((err as Error).message)}\n`);
      process.exit(1);
    },
  );
}

if (require.main === module) runCli();
