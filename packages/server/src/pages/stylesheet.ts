/**
 * The one stylesheet of every page, served from `/assets/gatehouse.css` so the CSP can say
 * `style-src 'self'` (no inline styles, no web fonts from elsewhere).
 */
export const STYLESHEET = `:root{--ink:#1d2433;--muted:#5b6478;--line:#d5d9e2;--bg:#f3f5f9;--accent:#2f5bd3;--accent-ink:#fff;--danger:#b3261e;--ok:#1e7a46;--focus:#f2b600;color-scheme:light;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;line-height:1.5;color:var(--ink);background:var(--bg)}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:flex-start;justify-content:center;padding:8vh 1rem 2rem}
.card{width:100%;max-width:26rem;background:#fff;border:1px solid var(--line);border-radius:12px;padding:2rem;box-shadow:0 8px 24px rgba(29,36,51,.08)}
.brand{margin:0 0 .25rem;font-weight:700;letter-spacing:.08em;text-transform:uppercase;font-size:.75rem;color:var(--accent)}
h1{font-size:1.5rem;margin:0 0 1rem;line-height:1.25}
p{margin:.5rem 0 1rem}
.lead{color:var(--muted)}
form{margin:0}
.field{margin-bottom:1rem}
label{display:block;font-weight:600;margin-bottom:.25rem}
.hint{display:block;color:var(--muted);font-size:.875rem;margin-top:.25rem}
label .hint{display:inline;margin:0 0 0 .25rem;font-weight:400}
input[type=email],input[type=password],input[type=text]{width:100%;font:inherit;padding:.625rem .75rem;border:1px solid #9aa3b5;border-radius:8px;background:#fff;color:var(--ink)}
input[aria-invalid=true]{border-color:var(--danger)}
input.code{text-transform:uppercase;letter-spacing:.2em;text-align:center;font-size:1.25rem}
button,.button{display:inline-block;width:100%;font:inherit;font-weight:600;padding:.625rem 1rem;border-radius:8px;border:1px solid var(--accent);background:var(--accent);color:var(--accent-ink);cursor:pointer;text-align:center;text-decoration:none}
button.secondary,.button.secondary{background:#fff;color:var(--accent)}
.actions{display:flex;gap:.75rem;margin-top:1.25rem}
.actions>*{flex:1}
a{color:var(--accent)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.message{padding:.75rem 1rem;border-radius:8px;border:1px solid}
.message-error{color:var(--danger);background:#fdf0ef;border-color:#efc2bf}
.message-notice{color:var(--ok);background:#eef8f2;border-color:#b9e0c8}
.links{margin-top:1.5rem;font-size:.9375rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;justify-content:space-between}
.scopes{padding-left:1.25rem;margin:.5rem 0 1rem}
.scopes li{margin:.25rem 0}
.client{font-weight:700}
code.user-code{display:block;font-size:1.5rem;letter-spacing:.2em;text-align:center;padding:.5rem;background:var(--bg);border-radius:8px;margin:1rem 0}
@media (prefers-color-scheme:dark){:root{--ink:#e7eaf1;--muted:#a9b1c3;--line:#333b4d;--bg:#141823;color-scheme:dark}.card,input[type=email],input[type=password],input[type=text],button.secondary,.button.secondary{background:#1c2130}.message-error{background:#3a1d1b}.message-notice{background:#16301f}}
`;
