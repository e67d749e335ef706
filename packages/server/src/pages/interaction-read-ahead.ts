import type { Context } from 'koa';
import type { AccountStore } from '../accounts/account-store.ts';
import { PROVIDER_ROUTES } from '../oidc-provider/provider-routes.ts';
import type { ReadAhead, RequestReads } from '../store/read-ahead.ts';
import type { InteractionDeps } from './context.ts';

type ReadAheadDeps = Pick<InteractionDeps, 'provider'> & {
  readonly accounts: Pick<AccountStore, 'readAhead'>;
  readonly readAhead: ReadAhead;
};

/**
 * The id in one of oidc-provider's cookies, as sent: its signature is not checked here. The
 * provider checks it and asks for this id only when it holds, so a forged cookie costs one read
 * that nothing takes.
 */
function cookieValue(ctx: Context, deps: ReadAheadDeps, type: 'interaction' | 'resume' | 'session') {
  return ctx.cookies.get(deps.provider().cookieName(type)) || undefined;
}

/**
 * GET /interaction/:uid: the page's interaction is read ahead of `interactionDetails`, and as soon
 * as it is in, what is read after it one read after another, together: the session it belongs to
 * (by uid, as `interactionDetails` looks it up) and, for the consent page, the account it names.
 * Call `done()` on the reads returned when the request is over.
 */
export function readInteractionPageAhead(ctx: Context, deps: ReadAheadDeps): RequestReads {
  const reads = deps.readAhead.begin();
  const id = cookieValue(ctx, deps, 'interaction');
  if (id === undefined) return reads;
  reads.find('Interaction', id).then(
    (found) => {
      if (!found || reads.over) return;
      const session = found.session as { uid?: unknown; accountId?: unknown } | undefined;
      if (typeof session?.uid === 'string') reads.findByUid('Session', session.uid);
      const prompt = found.prompt as { name?: unknown } | undefined;
      if (prompt?.name === 'consent' && typeof session?.accountId === 'string') {
        reads.alsoDrop(deps.accounts.readAhead(session.accountId));
      }
    },
    () => {},
  );
  return reads;
}

const RESUME_PATH = new RegExp(`^${PROVIDER_ROUTES.authorization}/[^/]+$`);

/**
 * oidc-provider's resume (`GET /authorize/:uid`) loads the browser's session, then the
 * interaction it resumes, one read after the other: both are read here, together, and handed to
 * it. Other requests pass untouched.
 */
export function readResumeAhead(
  ctx: Context,
  deps: ReadAheadDeps,
  next: () => Promise<unknown>,
): Promise<unknown> {
  if (ctx.method !== 'GET' || !RESUME_PATH.test(ctx.path)) return next();
  const reads = deps.readAhead.begin();
  const session = cookieValue(ctx, deps, 'session');
  const interaction = cookieValue(ctx, deps, 'resume');
  if (session !== undefined) reads.find('Session', session);
  if (interaction !== undefined) reads.find('Interaction', interaction);
  return next().finally(() => reads.done());
}
