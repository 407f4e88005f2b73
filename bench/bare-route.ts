/** The path of the bench-only route that returns a constant JSON after the app's whole middleware pipeline. */
export const BARE_PATH = '/bench/bare';
