export { CookieJar, getWithCookies } from './cookie-jar.ts';
export { type FormResponse, postForm } from './post-form.ts';
export { submitForm } from './submit-form.ts';
