// Requests to the gateway's API with the session cookie: JSON in and out,
// the CSRF header on every state change, problems as ApiError, and a
// 401 anywhere means the session has ended.

let csrfToken = null;
let sessionEnded = () => {};

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function useSession(info) {
  csrfToken = info?.csrf_token ?? null;
}

/** Called when any request is refused with 401 (except signing in). */
export function onSessionEnded(handler) {
  sessionEnded = handler;
}

export async function api(method, path, body) {
  const headers = {Accept: 'application/json'};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, {detail: 'The gateway cannot be reached. Check the connection and try again.'});
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && !(method === 'POST' && path === '/v1/session')) sessionEnded();
    throw error;
  }
  return data;
}

/** `path?k=v&…`, leaving out empty values. */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') query.append(key, value);
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}
