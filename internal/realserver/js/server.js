// zumo realserver: Microsoft's official Node.js Mobile Apps server
// (azure-mobile-apps 4.0.2) on its sqlite provider, plus the few routes that a
// real App Service would provide through EasyAuth and that our integration
// tests need (custom login, refresh) and a counters endpoint.
//
// Configuration (environment):
//   PORT                    port to listen on, on 127.0.0.1 only (required)
//   ZUMO_SECRET             HS256 key: signs our tokens and is auth.secret (required)
//   ZUMO_DB_PATH            sqlite database file (default ':memory:')
//   TOKEN_LIFETIME_SECONDS  lifetime of issued tokens (default 3600)
//   ZUMO_USERS              accepted logins, "user:password,user2:password2"
//                           (default "testuser:testpassword,otheruser:otherpassword")
//   ZUMO_LOG_LEVEL          azure-mobile-apps log level (default "warn")
'use strict';

const crypto = require('crypto');
const express = require('express');
const jwt = require('jsonwebtoken');
const azureMobileApps = require('azure-mobile-apps');

const ISSUER = 'urn:microsoft:windows-azure:zumo';
const AUDIENCE = 'urn:microsoft:windows-azure:zumo';
const DEFAULT_USERS = 'testuser:testpassword,otheruser:otherpassword';

function fail(message) {
    process.stderr.write('realserver: ' + message + '\n');
    process.exit(2);
}

const port = parseInt(process.env.PORT || '', 10);
if (!(port > 0 && port < 65536)) fail('PORT must be set to a TCP port');
const secret = process.env.ZUMO_SECRET || '';
if (!secret) fail('ZUMO_SECRET must be set');
const dbPath = process.env.ZUMO_DB_PATH || ':memory:';
const lifetime = parseInt(process.env.TOKEN_LIFETIME_SECONDS || '3600', 10);
if (!(lifetime > 0)) fail('TOKEN_LIFETIME_SECONDS must be a positive integer');

const users = new Map();
for (const pair of (process.env.ZUMO_USERS || DEFAULT_USERS).split(',')) {
    const i = pair.indexOf(':');
    if (i <= 0) continue;
    users.set(pair.slice(0, i), pair.slice(i + 1));
}

// userIdFor gives a stable App-Service-like user id: "sid:" + 32 hex digits.
function userIdFor(username) {
    return 'sid:' + crypto.createHash('sha256').update(username).digest('hex').slice(0, 32);
}

function issueToken(sub) {
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: sub, iat: now, nbf: now, exp: now + lifetime, aud: AUDIENCE, iss: ISSUER };
    return jwt.sign(claims, secret, { algorithm: 'HS256' });
}

function loginResponse(sub) {
    return { authenticationToken: issueToken(sub), user: { userId: sub } };
}

function tokenFrom(req) {
    let token = req.get('x-zumo-auth') || req.get('authorization') || '';
    if (token.toLowerCase().startsWith('bearer ')) token = token.slice(7);
    return token;
}

// ---------------------------------------------------------------------------
const counters = { logins: 0, refreshes: 0, unauthorized: 0, requests: 0 };
const app = express();
app.disable('x-powered-by');

// Count every request and every 401 answer, except those to /counters itself.
app.use(function (req, res, next) {
    if (req.path === '/counters' || req.path.startsWith('/counters/')) return next();
    counters.requests++;
    res.on('finish', function () {
        if (res.statusCode === 401) counters.unauthorized++;
    });
    next();
});

app.get('/counters', function (req, res) {
    res.json(counters);
});
app.post('/counters/reset', function (req, res) {
    counters.logins = counters.refreshes = counters.unauthorized = counters.requests = 0;
    res.json(counters);
});

// Mounted before the mobile app: its stub for /.auth/login/:provider would
// otherwise answer these with a 302.
app.post('/.auth/login/custom', express.json({ type: function () { return true; } }), function (req, res) {
    counters.logins++;
    const body = req.body || {};
    const username = typeof body.username === 'string' ? body.username : '';
    const password = typeof body.password === 'string' ? body.password : '';
    if (!username || !users.has(username) || users.get(username) !== password) {
        return res.status(401).json({ error: 'invalid username or password' });
    }
    res.json(loginResponse(userIdFor(username)));
});

app.get('/.auth/refresh', function (req, res) {
    counters.refreshes++;
    const token = tokenFrom(req);
    if (!token) return res.status(401).json({ error: 'no token: send X-ZUMO-AUTH' });
    jwt.verify(token, secret, { algorithms: ['HS256'], audience: AUDIENCE, issuer: ISSUER }, function (err, claims) {
        if (err) return res.status(401).json({ name: err.name, message: err.message });
        if (typeof claims.sub !== 'string' || !claims.sub) return res.status(401).json({ error: 'token has no sub' });
        res.json(loginResponse(claims.sub));
    });
});

// ---------------------------------------------------------------------------
const mobileApp = azureMobileApps({
    homePage: false,
    swagger: false,
    pageSize: 50,
    maxTop: 1000,
    data: { provider: 'sqlite', filename: dbPath, dynamicSchema: true },
    auth: { secret: secret },
    logging: { level: process.env.ZUMO_LOG_LEVEL || 'warn' },
});

// Anonymous table with soft delete. Columns are declared so that queries on
// an empty table work (the table is created by initialize below).
mobileApp.tables.add('todoitem', {
    softDelete: true,
    dynamicSchema: true,
    columns: { text: 'string', complete: 'boolean', priority: 'number', due: 'datetime', category: 'string' },
});

// Every operation needs a valid token.
mobileApp.tables.add('secretitem', {
    access: 'authenticated',
    softDelete: true,
    dynamicSchema: true,
    columns: { text: 'string' },
});

// Authenticated and per user: each user sees only the rows it inserted.
mobileApp.tables.add('useritem', {
    access: 'authenticated',
    perUser: true,
    dynamicSchema: true,
    columns: { text: 'string' },
});

// Custom APIs. Each method gets its own function: azure-mobile-apps stores
// access flags on the function object, so a shared function loses them.
const ECHO_HEADERS = ['accept', 'content-type', 'user-agent', 'zumo-api-version', 'x-zumo-auth',
    'x-zumo-features', 'x-zumo-installation-id', 'x-zumo-version', 'x-zumo-application', 'if-match'];

function echo(req, res) {
    const headers = {};
    for (const name of ECHO_HEADERS) {
        const value = req.get(name);
        if (value !== undefined) headers[name] = value;
    }
    const user = req.azureMobile && req.azureMobile.user;
    res.json({
        method: req.method,
        query: req.query,
        body: req.body === undefined ? null : req.body,
        headers: headers,
        userId: user ? user.id : null,
    });
}

// Text bodies are echoed as strings; JSON was already parsed by the api router.
const textBody = express.text({ type: ['text/*', 'application/octet-stream'] });

mobileApp.api.add('echo', {
    get: [function echoGet(req, res) { echo(req, res); }],
    post: [textBody, function echoPost(req, res) { echo(req, res); }],
    put: [textBody, function echoPut(req, res) { echo(req, res); }],
    patch: [textBody, function echoPatch(req, res) { echo(req, res); }],
    delete: [function echoDelete(req, res) { echo(req, res); }],
});

function whoami(req, res) {
    const user = req.azureMobile && req.azureMobile.user;
    res.json({ method: req.method, userId: user ? user.id : null, claims: user ? user.claims : null });
}

mobileApp.api.add('secret', {
    access: 'authenticated',
    get: function secretGet(req, res) { whoami(req, res); },
    post: function secretPost(req, res) { whoami(req, res); },
});

// api/status?code=418&message=teapot answers that status with {"error": message}.
function status(req, res) {
    const code = parseInt(req.query.code || '200', 10);
    if (!(code >= 200 && code <= 599)) return res.status(400).json({ error: 'bad code' });
    if (code === 204) return res.status(204).end();
    res.status(code).json({ error: req.query.message || ('status ' + code) });
}

mobileApp.api.add('status', {
    get: function statusGet(req, res) { status(req, res); },
    post: function statusPost(req, res) { status(req, res); },
});

// Bulk seeding for tests and benchmarks: POST /seed/<table> with a JSON array
// of items inserts them all in one sqlite transaction, with the same INSERT
// statements the sqlite provider runs for a client insert (so defaults,
// versions and dates are the provider's), instead of one transaction and one
// fsync per row. Items without an id get a random GUID. Answers 201
// {"inserted":N}, or 400/404 {"error":…}; nothing is inserted on error. Not
// part of azure-mobile-apps: it bypasses access checks, hooks and validation.
const sqliteStatements = require('azure-mobile-apps/src/data/sqlite/statements');
let seedData = null;
app.post('/seed/:table', express.json({ limit: '64mb', type: function () { return true; } }), function (req, res) {
    const table = mobileApp.configuration.tables[req.params.table];
    if (!table) return res.status(404).json({ error: 'no such table: ' + req.params.table });
    if (!Array.isArray(req.body)) return res.status(400).json({ error: 'the body must be a JSON array of items' });
    if (!seedData) seedData = require('azure-mobile-apps/src/data')(mobileApp.configuration);
    let statements;
    try {
        statements = req.body.map(function (item) {
            if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new Error('every item must be a JSON object');
            const row = Object.assign({}, item);
            row.id = row.id || crypto.randomUUID();
            return sqliteStatements.insert(table, row)[0]; // [1] would select the row back
        });
    } catch (err) {
        return res.status(400).json({ error: err.message });
    }
    if (statements.length === 0) return res.status(201).json({ inserted: 0 });
    seedData.execute(statements).then(function () {
        res.status(201).json({ inserted: statements.length });
    }, function (err) {
        res.status(400).json({ error: String(err && err.message || err) });
    });
});

app.use(mobileApp);

mobileApp.tables.initialize().then(function () {
    const server = app.listen(port, '127.0.0.1', function () {
        process.stdout.write('realserver: listening on http://127.0.0.1:' + port + '/ db=' + dbPath + '\n');
    });
    server.on('error', function (err) {
        fail('listen: ' + err.message);
    });
}, function (err) {
    fail('table initialization failed: ' + (err && err.stack || err));
});

function shutdown() {
    process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
