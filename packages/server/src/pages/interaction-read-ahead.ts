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
 * Call it inside the request's `ReadAhead.run`, with its reads.
 */
export function readInteractionPageAhead(ctx: Context, deps: ReadAheadDeps, reads: RequestReads): void {
  const id = cookieValue(ctx, deps, 'interaction');
  if (id === undefined) return;
  reads.find('Interaction', id).then(
    (found) => {
      if (!found || reads.over) return;
      const session = found.session as { uid?: unknown; accountId?: unknown } | undefined;
      if (typeof session?.uid === 'string') reads.findByUid('Session', session.uid);
      const prompt = found.prompt as { name?: unknown } | undefined;
      if (prompt?.name === 'consent' && typeof session?.accountId === 'string') {
        deps.accounts.readAhead(session.accountId);
      }
    },
    () => {},
  );
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
  return deps.readAhead.run((reads) => {
    const session = cookieValue(ctx, deps, 'session');
    const interaction = cookieValue(ctx, deps, 'resume');
    if (session !== undefined) reads.find('Session', session);
    if (interaction !== undefined) reads.find('Interaction', interaction);
    return next();
  });
}
