// The steps of the JavaScript client check, shared by check.js (Node, with
// an XMLHttpRequest shim) and browser.js (a real browser, bundled with
// browserify). print receives each transcript line.
'use strict';

module.exports = async function steps(MobileServiceClient, url, username, password, print) {
    function out(step, value) {
        print(JSON.stringify({ step, value }));
    }

    // known prints a step where the backends are known to differ, prefixed
    // "known:" so that a comparison can leave it out and check it on its own.
    function known(step, value) {
        print('known: ' + JSON.stringify({ step, value }));
    }

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
};

// status returns the HTTP status of a failed call.
function status(err) {
    return err && err.request ? err.request.status : String(err);
}
module.exports.status = status;

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
