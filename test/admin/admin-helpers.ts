import type request from 'supertest';

import { csrfTokenFrom } from '../helpers/test-app.js';

type Agent = ReturnType<typeof request.agent>;

/** Reads the CSRF token of the agent's session from a page that every logged-in user can open. */
export async function csrfTokenOf(agent: Agent): Promise<string> {
  const page = await agent.get('/');
  if (page.status !== 200) throw new Error(`GET / returned ${page.status}, expected 200`);
  return csrfTokenFrom(page.text);
}

/** Posts a form with the agent's CSRF token added. */
export async function postForm(agent: Agent, path: string, fields: Record<string, string | string[]> = {}) {
  const token = await csrfTokenOf(agent);
  return agent.post(path).type('form').send({ _csrf: token, ...fields });
}

/** Opens `location` and returns the text of the flash message shown there, if any. */
export async function flashAfter(agent: Agent, location: string): Promise<string | undefined> {
  const page = await agent.get(location);
  return /<p class="flash[^"]*"[^>]*>([^<]*)<\/p>/.exec(page.text)?.[1];
}
