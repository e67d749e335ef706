import type { Configuration, ErrorOut, KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config/config.ts';
import { markUserCodeRefused } from '../security/guess-throttles.ts';
import { allowInlineScript } from '../security/security-headers.ts';
import { html, type SafeHtml } from './html.ts';
import { type PageOptions, page } from './layout.ts';
import { hintMatchesSession } from './logout-hint.ts';

type DeviceFlowPages = NonNullable<NonNullable<NonNullable<Configuration['features']>['deviceFlow']>>;
type LogoutPages = NonNullable<NonNullable<NonNullable<Configuration['features']>['rpInitiatedLogout']>>;

/**
 * oidc-provider's page hooks, rendered as Gatehouse pages (no inline style; no inline script but
 * the sign-out page's auto-submit, allowed by its hash).
 */
export interface ProviderPages {
  readonly userCodeInputSource: NonNullable<DeviceFlowPages['userCodeInputSource']>;
  readonly userCodeConfirmSource: NonNullable<DeviceFlowPages['userCodeConfirmSource']>;
  readonly successSource: NonNullable<DeviceFlowPages['successSource']>;
  readonly logoutSource: NonNullable<LogoutPages['logoutSource']>;
  readonly postLogoutSuccessSource: NonNullable<LogoutPages['postLogoutSuccessSource']>;
  readonly renderError: NonNullable<Configuration['renderError']>;
}

export interface ProviderPagesDeps {
  readonly config?: Pick<Config, 'env'> | undefined;
}

function respond(ctx: KoaContextWithOIDC, options: PageOptions): void {
  if (options.script) allowInlineScript(ctx, options.script);
  ctx.type = 'html';
  ctx.body = page(options);
}

/** Submits the page's one form as soon as it is parsed; the form's button is the fallback. */
const SUBMIT_FORM_SCRIPT = 'document.forms[0].submit();';

/**
 * oidc-provider hands each hook its own form markup, whose hidden `xsrf` field is the token
 * it checks on POST. We keep that token and action but write our own form, because the
 * provider's has an inline `onfocus` handler and no labels.
 */
function formParts(form: string, fallbackAction: string): { action: string; xsrf: string } {
  const action = /action="([^"]*)"/.exec(form)?.[1] ?? fallbackAction;
  const xsrf = /name="xsrf" value="([^"]*)"/.exec(form)?.[1] ?? '';
  // The provider escapes nothing in these two (its own values); decode the one entity it could hold.
  return { action: action.replace(/&amp;/g, '&'), xsrf };
}

function clientName(ctx: KoaContextWithOIDC): string | undefined {
  const client = ctx.oidc.client;
  return client ? (client.clientName ?? client.clientId) : undefined;
}

function userCodeMessage(err: unknown): string | undefined {
  if (!err) return undefined;
  const name = (err as { name?: unknown }).name;
  switch (name) {
    case 'NoCodeError':
      return 'Enter the code shown on your device.';
    case 'NotFoundError':
      return 'That code is not right. Check it and try again.';
    case 'ExpiredError':
      return 'That code has expired. Start again on your device to get a new one.';
    case 'AlreadyUsedError':
      return 'That code was already used. Start again on your device to get a new one.';
    case 'AbortedError':
      return 'Sign-in on the device was cancelled.';
    default:
      return 'Something went wrong. Start again on your device.';
  }
}

/** A code that is not a live one: what the user-code throttle counts as a failed guess. */
function isWrongUserCode(err: unknown): boolean {
  const name = (err as { name?: unknown } | undefined)?.name;
  return name === 'NotFoundError' || name === 'ExpiredError' || name === 'AlreadyUsedError';
}

const ERROR_WORDS: Readonly<Record<string, string>> = {
  invalid_request: 'The application sent a request that cannot be completed.',
  invalid_client: 'The application is not known here.',
  unauthorized_client: 'The application is not allowed to do this.',
  access_denied: 'Access was denied.',
  invalid_scope: 'The application asked for permissions that do not exist.',
  invalid_target: 'The application asked for an API that is not known here.',
  unsupported_response_type: 'The application asked for something this server does not support.',
  login_required: 'You need to sign in first.',
  consent_required: 'Your permission is needed first.',
  interaction_required: 'You need to sign in first.',
  temporarily_unavailable: 'The service is busy. Try again in a moment.',
};

/**
 * @example
 * const pages = createProviderPages({ config });
 * new Provider(issuer, {
 *   renderError: pages.renderError,
 *   features: {
 *     deviceFlow: { enabled: true, userCodeInputSource: pages.userCodeInputSource,
 *       userCodeConfirmSource: pages.userCodeConfirmSource, successSource: pages.successSource },
 *     rpInitiatedLogout: { enabled: true, logoutSource: pages.logoutSource,
 *       postLogoutSuccessSource: pages.postLogoutSuccessSource },
 *   },
 * });
 */
export function createProviderPages(_deps: ProviderPagesDeps = {}): ProviderPages {
  return {
    userCodeInputSource(ctx, form, _out, err) {
      const { action, xsrf } = formParts(form, ctx.oidc.urlFor('code_verification'));
      if (isWrongUserCode(err)) markUserCodeRefused(ctx);
      const code = (err as { userCode?: unknown } | undefined)?.userCode;
      const error = userCodeMessage(err);
      respond(ctx, {
        title: 'Connect a device',
        error,
        body: html`<form method="post" action="${action}" novalidate>
<input type="hidden" name="xsrf" value="${xsrf}">
<div class="field">
<label for="user_code">Code shown on your device</label>
<input id="user_code" name="user_code" type="text" class="code" autocomplete="off" autocapitalize="characters" spellcheck="false" required value="${typeof code === 'string' ? code : ''}" aria-invalid="${error && code ? 'true' : 'false'}" autofocus>
</div>
<div class="actions"><button type="submit">Continue</button></div>
</form>`,
      });
    },

    userCodeConfirmSource(ctx, form, client, _deviceInfo, userCode) {
      const { action, xsrf } = formParts(form, ctx.oidc.urlFor('code_verification'));
      const name = client.clientName ?? client.clientId;
      respond(ctx, {
        title: 'Is this your device?',
        body: html`<p class="lead"><span class="client">${name}</span> wants to sign in on a device showing this code:</p>
<code class="user-code">${userCode}</code>
<p>Continue only if you started this on your own device and the code matches.</p>
<form method="post" action="${action}">
<input type="hidden" name="xsrf" value="${xsrf}">
<input type="hidden" name="user_code" value="${userCode}">
<div class="actions">
<button type="submit" class="secondary" name="abort" value="yes">Cancel</button>
<button type="submit" name="confirm" value="yes" autofocus>Continue</button>
</div>
</form>`,
      });
    },

    successSource(ctx) {
      const name = clientName(ctx);
      respond(ctx, {
        title: 'Your device is connected',
        notice: name ? `You are signed in to ${name} on your device.` : 'You are signed in on your device.',
        body: html`<p class="lead">You can close this page and go back to your device.</p>`,
      });
    },

    logoutSource(ctx, form) {
      const { action, xsrf } = formParts(form, ctx.oidc.urlFor('end_session_confirm'));
      const name = clientName(ctx);
      if (hintMatchesSession(ctx)) {
        // The application proved it is this sign-in's (RP-Initiated Logout §2), so the user is
        // not asked; the sign-out still takes oidc-provider's own confirm step, as it does for
        // a session without an account (an auto-submitted form_post), so that step alone ends
        // the session and revokes what it must. Without JavaScript the button does the same.
        respond(ctx, {
          title: 'Signing you out',
          body: html`<p class="lead">${name ? html`<span class="client">${name}</span> is signing you out. ` : ''}You are being signed out of Gatehouse on this browser.</p>
<form method="post" action="${action}">
<input type="hidden" name="xsrf" value="${xsrf}">
<input type="hidden" name="logout" value="yes">
<div class="actions"><button type="submit" autofocus>Continue</button></div>
</form>`,
          script: SUBMIT_FORM_SCRIPT,
        });
        return;
      }
      respond(ctx, {
        title: 'Sign out?',
        body: html`<p class="lead">${name ? html`<span class="client">${name}</span> asks to sign you out. ` : ''}Do you want to sign out of Gatehouse on this browser?</p>
<form method="post" action="${action}">
<input type="hidden" name="xsrf" value="${xsrf}">
<div class="actions">
<button type="submit" class="secondary">Stay signed in</button>
<button type="submit" name="logout" value="yes" autofocus>Sign out</button>
</div>
</form>`,
      });
    },

    postLogoutSuccessSource(ctx) {
      const name = clientName(ctx);
      respond(ctx, {
        title: 'You are signed out',
        notice: name ? `You are signed out of ${name}.` : 'You are signed out.',
        body: html`<p class="lead">You can close this page.</p>`,
      });
    },

    renderError(ctx, out: ErrorOut, error) {
      // Only what the protocol error says, and only for a client mistake: a 5xx shows no
      // detail, and no page ever shows a stack, a cause or `error_detail`.
      const status = ctx.status >= 400 ? ctx.status : 500;
      const serverSide = status >= 500 || out.error === 'server_error';
      const words = serverSide
        ? 'Something went wrong on our side. Try again in a moment.'
        : ERROR_WORDS[out.error];
      const exposedDescription =
        !serverSide && (error as { expose?: unknown }).expose === true ? out.error_description : undefined;
      let detail: SafeHtml = html``;
      if (!serverSide) {
        detail = html`<p class="hint">Error code: <code>${out.error}</code>${
          exposedDescription ? html` — ${exposedDescription}` : ''
        }</p>`;
      }
      ctx.status = status;
      respond(ctx, {
        title: serverSide ? 'Something went wrong' : 'This request cannot be completed',
        error: words ?? 'The request could not be completed.',
        body: html`<p class="lead">Go back to the application and try again.</p>${detail}`,
      });
    },
  };
}
