import { parseArgs, type ParseArgsConfig } from 'node:util';
import { terminalJson, terminalLines, terminalText } from './terminal-text';

/**
 * An error keysctl expects and explains: its message is for the operator, `code` for scripts (the `--json`
 * error object), `exitCode` for the shell (2 for usage, 1 for refusals).
 */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** A usage error: printed with the command's usage, exit code 2. */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super('usage', message, 2);
  }
}

export interface Output {
  json: boolean;
  /** The result: the only thing written to stdout. */
  result(value: unknown, human: string): void;
  /** Progress and logs go to stderr so stdout stays machine-readable. */
  log(line: string): void;
}

export function output(json: boolean): Output {
  return {
    json,
    // Every output passes through terminal-text.ts: stored names and client-sent strings reach this point.
    result(value, human) {
      process.stdout.write(json ? `${terminalJson(value)}\n` : `${terminalLines(human)}\n`);
    },
    log(line) {
      process.stderr.write(`${terminalLines(line)}\n`);
    },
  };
}

export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options: { ...options, json: { type: 'boolean', default: false } }, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function requiredString(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${name} is required`);
  return value;
}

export function positiveInt(values: Record<string, unknown>, name: string, fallback?: number): number {
  const value = values[name];
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || !/^\d+$/.test(value) || Number(value) < 0) throw new UsageError(`--${name} must be a non-negative integer`);
  return Number(value);
}

export interface Progress {
  /** `done` of `total` units so far; redraws at most every few hundred ms. */
  update(done: number, total: number): void;
  /** Ends the progress display (a TTY line is cleared so the result starts on a clean line). */
  finish(): void;
  /** Units per second since the start. */
  rate(done: number): number;
}

export interface ProgressOptions {
  /** Defaults to process.stderr: progress never mixes with the result on stdout. */
  stream?: NodeJS.WriteStream | { write(chunk: string): unknown; isTTY?: boolean };
  /** Minimum time between two plain lines when the stream is not a terminal. */
  lineIntervalMs?: number;
  unit?: string;
}

/**
 * Progress for long runs: a redrawn bar with percentage and rate on a terminal, a plain line every few
 * seconds otherwise (logs, CI), so a redirected stderr is not flooded with carriage returns.
 */
export function progress(label: string, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const interval = tty ? 100 : (options.lineIntervalMs ?? 2000);
  const unit = options.unit ?? 'events';
  const started = Date.now();
  let lastDraw = started;
  let drawn = false;
  const rate = (done: number) => {
    const seconds = (Date.now() - started) / 1000;
    return seconds > 0 ? done / seconds : 0;
  };
  return {
    rate,
    update(done, total) {
      const now = Date.now();
      if (now - lastDraw < interval && done < total) return;
      if (!tty && done >= total && !drawn) return; // a short run needs no progress line at all
      lastDraw = now;
      const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100;
      const text = `${label} ${done}/${total} ${unit} (${pct}%), ${Math.round(rate(done))} ${unit}/s`;
      if (tty) {
        const width = 24;
        const filled = Math.round((pct / 100) * width);
        stream.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${text}\x1b[K`);
      } else {
        stream.write(`${text}\n`);
      }
      drawn = true;
    },
    finish() {
      if (tty && drawn) stream.write('\r\x1b[K');
    },
  };
}

/**
 * Left-aligned columns separated by two spaces, for human output. Each cell is escaped (terminalText), so a
 * value can neither add lines nor drive the terminal.
 */
export function table(headers: string[], rawRows: string[][]): string {
  const rows = rawRows.map((r) => r.map(terminalText));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [line(headers), ...rows.map(line)].map((l) => l.trimEnd()).join('\n');
}
