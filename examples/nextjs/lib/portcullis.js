// Where the Next.js server reaches Portcullis (server side only; the browser never sees it).
export const PORTCULLIS_URL = (process.env.PORTCULLIS_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
