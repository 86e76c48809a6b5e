// keysctl: operator CLI. Logs go to stderr; only the result goes to stdout.
async function main(argv: string[]): Promise<number> {
  const [group, action] = argv;
  console.error(`keysctl: unknown command "${[group, action].filter(Boolean).join(' ')}"`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`keysctl: ${(err as Error).message}`);
    process.exit(1);
  },
);
