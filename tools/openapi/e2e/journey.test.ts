// The journey of a frontend through the generated client (clients/typescript)
// against a live myapi: .ci/run starts the server and sets MYAPI_URL and the
// first superuser's credentials. Compiled with --strict first, so the types
// are checked as much as the behaviour: an error's `detail` is read as a
// plain string, with no `?? ''`.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { client } from '../../../clients/typescript/src/client.gen.js';
import { createClient, type Client } from '../../../clients/typescript/src/client/index.js';
import {
  AdminService,
  AuthenticationService,
  HealthService,
  ItemsService,
  MetaService,
  UsersService,
  type ItemCreate,
  type Problem,
  type Token,
} from '../../../clients/typescript/src/index.js';

const baseUrl = required('MYAPI_URL');
const admin = { username: required('MYAPI_ADMIN_USERNAME'), password: required('MYAPI_ADMIN_PASSWORD') };
const password = 'correct horse battery';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/** A client of its own: anonymous, or sending this access token. */
function clientFor(accessToken?: string): Client {
  return createClient({ baseUrl, auth: accessToken });
}

const anonymous = clientFor();

/** The typed problem of a failed call, with its status checked. */
function problem(result: { error?: unknown; response?: Response }, status: number): Problem {
  assert.equal(result.response?.status, status, `status, body ${JSON.stringify(result.error)}`);
  assert.ok(result.error, 'an error body');
  return result.error as Problem;
}

async function register(username: string): Promise<number> {
  const { data, error } = await AuthenticationService.register({
    client: anonymous,
    body: { email: `${username}@example.com`, username, password },
  });
  assert.equal(error, undefined);
  assert.ok(data);
  return data.id;
}

async function login(username: string, secret = password): Promise<Token> {
  const { data } = await AuthenticationService.login({
    client: anonymous,
    body: { username, password: secret },
    throwOnError: true,
  });
  assert.equal(data.token_type, 'bearer');
  return data;
}

// Unique names, so the journey can run again on the same database.
const run = Date.now().toString(36);
const alice = `alice_${run}`;
const bob = `bob_${run}`;

test('health and welcome', async () => {
  const { data: health } = await HealthService.health({ client: anonymous, throwOnError: true });
  assert.equal(health.status, 'ok');
  const { data: root } = await MetaService.root({ client: anonymous, throwOnError: true });
  assert.equal(root.docs, '/docs');
});

test('register, then the login form', async () => {
  const id = await register(alice);
  const token = await login(alice);
  const { data: me } = await UsersService.getMe({ client: clientFor(token.access_token), throwOnError: true });
  assert.equal(me.id, id);
  assert.equal(me.username, alice);
  assert.equal(me.is_superuser, false);

  const taken = await AuthenticationService.register({
    client: anonymous,
    body: { email: `${alice}@example.com`, username: `${alice}_2`, password },
  });
  assert.equal(problem(taken, 400).detail, 'Email already registered');

  const wrong = await AuthenticationService.login({ client: anonymous, body: { username: alice, password: 'not the password' } });
  const detail: string = problem(wrong, 401).detail;
  assert.equal(detail, 'Incorrect username or password');
  assert.equal(wrong.response?.headers.get('WWW-Authenticate'), 'Bearer');
});

// The README's example, line for line, through the shared client.
test('the README example', async () => {
  client.setConfig({ baseUrl });
  const { data: token } = await AuthenticationService.login({ body: { username: alice, password }, throwOnError: true });
  client.setConfig({ auth: token.access_token });
  const { data: items, error } = await ItemsService.listItems({ query: { limit: 20 } });
  assert.equal(error, undefined);
  assert.ok(Array.isArray(items));
  const { data: me } = await UsersService.getMe({ throwOnError: true });
  assert.equal(me.username, alice);
});

test('422 names the field', async () => {
  const short = await AuthenticationService.register({
    client: anonymous,
    body: { email: `short_${run}@example.com`, username: 'ab', password },
  });
  const p = problem(short, 422);
  assert.match(p.detail, /username/);
  assert.equal(p.status, 422);
  assert.ok(p.errors?.some((e) => e.location === 'body.username'));

  const page = await ItemsService.listItems({ client: anonymous, query: { limit: 1000 } });
  assert.match(problem(page, 422).detail, /limit/);
});

test('items: create, read, list, change, delete', async () => {
  const token = await login(alice);
  const me = clientFor(token.access_token);
  const body: ItemCreate = { title: 'Desk lamp', price: 49.5, description: 'Brass, 1950s' };
  // The body type has no index signature: a misspelt field does not compile.
  // @ts-expect-error descripton is not a field of ItemCreate
  const misspelt: ItemCreate = { title: 'Lamp', price: 1, descripton: 'typo' };
  assert.equal(misspelt.title, 'Lamp');

  const { data: item, response } = await ItemsService.createItem({ client: me, body, throwOnError: true });
  assert.equal(response.status, 201);
  assert.equal(item.title, 'Desk lamp');
  assert.equal(item.description, 'Brass, 1950s');

  const { data: got } = await ItemsService.getItem({ client: anonymous, path: { item_id: item.id }, throwOnError: true });
  assert.deepEqual(got, item);

  const { data: list } = await ItemsService.listItems({ client: anonymous, query: { skip: 0, limit: 100 }, throwOnError: true });
  assert.ok(Array.isArray(list));
  assert.ok(list.some((it) => it.id === item.id));

  const { data: changed } = await ItemsService.updateItem({
    client: me,
    path: { item_id: item.id },
    body: { price: 45, description: null },
    throwOnError: true,
  });
  assert.equal(changed.price, 45);
  assert.equal(changed.title, 'Desk lamp');
  assert.equal(changed.description, null);

  const deleted = await ItemsService.deleteItem({ client: me, path: { item_id: item.id }, throwOnError: true });
  assert.equal(deleted.response.status, 204);
  const gone = await ItemsService.getItem({ client: anonymous, path: { item_id: item.id } });
  assert.equal(problem(gone, 404).detail, 'Item not found');
});

test('401 without a token, 403 for someone else', async () => {
  const noToken = await UsersService.getMe({ client: anonymous });
  assert.equal(problem(noToken, 401).detail, 'Not authenticated');
  const badToken = await UsersService.getMe({ client: clientFor('not-a-token') });
  assert.equal(problem(badToken, 401).detail, 'Could not validate credentials');

  await register(bob);
  const owner = clientFor((await login(alice)).access_token);
  const other = clientFor((await login(bob)).access_token);
  const { data: item } = await ItemsService.createItem({ client: owner, body: { title: 'Chair', price: 10 }, throwOnError: true });
  const theirs = await ItemsService.updateItem({ client: other, path: { item_id: item.id }, body: { title: 'Mine now' } });
  assert.equal(problem(theirs, 403).detail, 'Not enough permissions');
  const users = await UsersService.listUsers({ client: other });
  assert.equal(problem(users, 403).detail, 'Not enough permissions');
});

// The server runs with REFRESH_REUSE_GRACE_SECONDS=0: a reused token at once
// counts as stolen (the grace for retries is tested in Go, with a clock).
test('refresh rotation: the old token stops working, and its reuse ends the session', async () => {
  const first = await login(alice);
  const { data: second } = await AuthenticationService.refresh({
    client: anonymous,
    body: { refresh_token: first.refresh_token },
    throwOnError: true,
  });
  assert.notEqual(second.refresh_token, first.refresh_token);
  const { data: me } = await UsersService.getMe({ client: clientFor(second.access_token), throwOnError: true });
  assert.equal(me.username, alice);

  const reused = await AuthenticationService.refresh({ client: anonymous, body: { refresh_token: first.refresh_token } });
  assert.equal(problem(reused, 401).detail, 'Invalid refresh token');
  const revoked = await AuthenticationService.refresh({ client: anonymous, body: { refresh_token: second.refresh_token } });
  assert.equal(problem(revoked, 401).detail, 'Invalid refresh token');
});

test('logout revokes the session', async () => {
  const token = await login(alice);
  const out = await AuthenticationService.logout({ client: anonymous, body: { refresh_token: token.refresh_token }, throwOnError: true });
  assert.equal(out.response.status, 204);
  const after = await AuthenticationService.refresh({ client: anonymous, body: { refresh_token: token.refresh_token } });
  assert.equal(problem(after, 401).detail, 'Invalid refresh token');
});

test('superuser management', async () => {
  const root = clientFor((await login(admin.username, admin.password)).access_token);
  const { data: self } = await UsersService.getMe({ client: root, throwOnError: true });
  assert.equal(self.is_superuser, true);
  const carol = `carol_${run}`;
  const id = await register(carol);

  const { data: users } = await UsersService.listUsers({ client: root, query: { limit: 100 }, throwOnError: true });
  assert.ok(users.some((u) => u.id === id));
  const { data: found } = await UsersService.getUser({ client: root, path: { user_id: id }, throwOnError: true });
  assert.equal(found.username, carol);

  const { data: inactive } = await UsersService.updateUser({ client: root, path: { user_id: id }, body: { is_active: false }, throwOnError: true });
  assert.equal(inactive.is_active, false);
  const refused = await AuthenticationService.login({ client: anonymous, body: { username: carol, password } });
  assert.equal(problem(refused, 403).detail, 'Inactive user');

  const { data: promoted } = await UsersService.updateUser({
    client: root,
    path: { user_id: id },
    body: { is_active: true, is_superuser: true },
    throwOnError: true,
  });
  assert.equal(promoted.is_superuser, true);
  const { data: jobs } = await AdminService.adminJobs({ client: clientFor((await login(carol)).access_token), throwOnError: true });
  assert.ok(Array.isArray(jobs.counts));

  const demoteSelf = await UsersService.updateUser({ client: root, path: { user_id: self.id }, body: { is_superuser: false } });
  assert.equal(problem(demoteSelf, 403).detail, 'Superusers cannot demote or deactivate themselves');

  const removed = await UsersService.deleteUser({ client: root, path: { user_id: id }, throwOnError: true });
  assert.equal(removed.response.status, 204);
  const missing = await UsersService.getUser({ client: root, path: { user_id: id } });
  assert.equal(problem(missing, 404).detail, 'User not found');
});

// Last: it spends the login limit of this client address.
test('429 once the login limit is spent', async () => {
  // Three windows' worth, in case a minute turns while the loop runs.
  const limit = Number(required('MYAPI_LOGIN_LIMIT'));
  const attempts = 3 * limit;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const result = await AuthenticationService.login({ client: anonymous, body: { username: `nobody_${run}`, password: 'wrong password' } });
    if (result.response?.status === 429) {
      // The per-address login limit, or the budget of failed passwords.
      assert.match(problem(result, 429).detail, /^(Rate limit exceeded|Too many failed password attempts)/);
      assert.ok(Number(result.response.headers.get('Retry-After')) > 0, 'Retry-After');
      return;
    }
    assert.equal(problem(result, 401).detail, 'Incorrect username or password');
  }
  assert.fail(`no 429 after ${attempts} logins, with a limit of ${limit} a minute`);
});
