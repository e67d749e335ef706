/** The demo API's default resource identifier: the `aud` of every bench access token. */
export const API_AUDIENCE = 'http://localhost:4001';
