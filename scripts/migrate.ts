/** `npm run migration:run`: applies the checked-in migrations to DATABASE_URL (the coordinator also does at start). */
import { openDatabase } from '@vfl/database';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('set DATABASE_URL to the PostgreSQL database to migrate');
  const ds = await openDatabase(url);
  const applied: { name: string }[] = await ds.query('SELECT name FROM migrations ORDER BY id');
  console.log(`migrations applied: ${applied.map((m) => m.name).join(', ')}`);
  await ds.destroy();
}

main().catch((e) => {
  console.error(`migration failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
