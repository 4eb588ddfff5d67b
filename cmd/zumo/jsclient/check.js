// The official JavaScript client against one backend: prints a transcript
// (one JSON line per step, with ids, versions and dates reduced to what a
// client relies on) so that the transcripts of zumo serve and of
// Microsoft's Node server can be compared line by line. Lines starting
// "known:" are steps where the two are known to differ (see run.sh).
//
//   node check.js URL USERNAME PASSWORD
//
// The backend needs a soft-delete table "todoitem", a custom login
// accepting USERNAME/PASSWORD, and an echo custom API "echo".
'use strict';

global.XMLHttpRequest = require('xmlhttprequest').XMLHttpRequest;
const { MobileServiceClient } = require('azure-mobile-apps-client');

const [url, username, password] = process.argv.slice(2);
if (!url || !username || !password) {
    process.stderr.write('usage: node check.js URL USERNAME PASSWORD\n');
    process.exit(2);
}

function out(step, value) {
    process.stdout.write(JSON.stringify({ step, value }) + '\n');
}

// known prints a step where the backends are known to differ, prefixed
// "known:" so that a comparison can leave it out and check it on its own.
function known(step, value) {
    process.stdout.write('known: ' + JSON.stringify({ step, value }) + '\n');
}

// status returns the HTTP status of a failed call.
function status(err) {
    return err && err.request ? err.request.status : String(err);
}

// shape keeps what every backend must return for an item.
function shape(item) {
    return {
        text: item.text,
        complete: item.complete,
        priority: item.priority,
        id: typeof item.id === 'string' && item.id.length > 0,
        version: typeof item.version === 'string' && item.version.length > 0,
        createdAt: !isNaN(Date.parse(item.createdAt)),
        updatedAt: !isNaN(Date.parse(item.updatedAt)),
        deleted: item.deleted,
    };
}

async function main() {
    const client = new MobileServiceClient(url);
    const todo = client.getTable('todoitem');

    try {
        await client.login('custom', { username, password: password + 'x' });
        out('login wrong password', 'succeeded');
    } catch (err) {
        out('login wrong password', status(err));
    }
    const user = await client.login('custom', { username, password });
    out('login', { userId: /^sid:/.test(user.userId), token: user.mobileServiceAuthenticationToken.split('.').length });

    const a = await todo.insert({ text: 'milk', complete: false, priority: 3 });
    const b = await todo.insert({ text: 'eggs', complete: true, priority: 1 });
    const c = await todo.insert({ id: 'item-ü 1', text: 'ham', complete: false, priority: 2 });
    out('insert', [shape(a), shape(b), shape(c)]);
    out('insert id', c.id);
    try {
        await todo.insert({ id: c.id, text: 'dup' });
        out('insert duplicate', 'succeeded');
    } catch (err) {
        out('insert duplicate', status(err));
    }

    out('lookup', shape(await todo.lookup(c.id)));
    try {
        await todo.lookup('no-such-id');
        out('lookup missing', 'succeeded');
    } catch (err) {
        out('lookup missing', status(err));
    }

    const a2 = await todo.update({ id: a.id, text: 'oat milk' });
    out('update', { text: a2.text, priority: a2.priority, versionChanged: a2.version !== a.version });
    try {
        await todo.update({ id: a.id, text: 'stale', version: a.version });
        out('update stale version', 'succeeded');
    } catch (err) {
        out('update stale version', status(err));
    }

    out('where orderBy', (await todo.where({ complete: false }).orderBy('priority').read()).map(i => i.text));
    out('orderByDescending select take skip',
        (await todo.orderByDescending('priority').select('text, priority').take(2).skip(1).read())
            .map(i => ({ text: i.text, priority: i.priority })));
    out('function filter', (await todo.where(function (p) { return this.priority >= p; }, 2).orderBy('text').read()).map(i => i.text));
    // The Node server's sqlite provider matches nothing with startswith.
    known('startswith', (await todo.where(function () { return this.text.indexOf('oat') === 0; }).read()).map(i => i.text));
    const counted = await todo.includeTotalCount().take(1).read();
    out('includeTotalCount', { rows: counted.length, totalCount: counted.totalCount });

    await todo.del({ id: b.id });
    try {
        await todo.lookup(b.id);
        out('lookup deleted', 'succeeded');
    } catch (err) {
        out('lookup deleted', status(err));
    }
    const withDeleted = await todo.where({ id: b.id }).read({ __includeDeleted: true });
    out('includeDeleted', withDeleted.map(i => ({ text: i.text, deleted: i.deleted })));

    const echoGet = await client.invokeApi('echo', { method: 'GET', parameters: { a: '1', b: 'x y' } });
    out('api GET', { method: echoGet.result.method, query: echoGet.result.query });
    const echoPost = await client.invokeApi('echo', { body: { n: 1, s: 'ü' } });
    out('api POST', { method: echoPost.result.method, body: echoPost.result.body });
    try {
        await client.invokeApi('nosuchapi', { method: 'GET' });
        out('api missing', 'succeeded');
    } catch (err) {
        out('api missing', status(err));
    }
    try {
        await client.getTable('nosuchtable').read();
        out('table missing', 'succeeded');
    } catch (err) {
        out('table missing', status(err));
    }

    // Paging through next links: 120 rows, pages of 50.
    for (let i = 0; i < 120; i++) {
        await todo.insert({ text: 'page' + String(i).padStart(3, '0'), category: 'paging' });
    }
    let pages = 0;
    let rows = 0;
    let outcome = 'ok';
    try {
        let page = await todo.where({ category: 'paging' }).read();
        for (;;) {
            pages++;
            rows += page.length;
            if (!page.nextLink || pages > 10) break;
            page = await todo.read(page.nextLink);
        }
    } catch (err) {
        outcome = 'error ' + status(err);
    }
    // The Node server's links lack the port and the path: no client can
    // follow them.
    known('paging', { rows, pages, outcome });
}

main().catch(err => {
    process.stderr.write('check.js: ' + (err && err.stack || err) + ' status=' + status(err) + '\n');
    process.exit(1);
});
