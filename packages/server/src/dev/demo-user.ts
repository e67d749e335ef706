import { randomBytes } from 'node:crypto';
import type { AccountStore } from '../accounts/index.ts';

export const DEMO_EMAIL = 'demo@example.com';

/**
 * Seeds the demo user on a fresh in-process store, with a password generated per start (it is
 * printed once; nothing fixed ever doubles as a real credential). Returns undefined when the
 * account already exists.
 */
export async function seedDemoUser(
  accounts: AccountStore,
): Promise<{ email: string; password: string } | undefined> {
  if (await accounts.findByEmail(DEMO_EMAIL)) return undefined;
  const password = randomBytes(12).toString('base64url');
  await accounts.create({ email: DEMO_EMAIL, password, name: 'Demo Cook', emailVerified: true });
  return { email: DEMO_EMAIL, password };
}
