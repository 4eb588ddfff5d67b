// Serves page.html and the browserify bundle on 127.0.0.1 (a free port,
// printed on stdout): the web page of the browser check, on an origin of
// its own.
//
//   node page-server.js BUNDLE.js
'use strict';

const fs = require('fs');
const http = require('http');

const bundle = fs.readFileSync(process.argv[2]);
const page = '<!doctype html><html><head><meta charset="utf-8"><title>running</title></head>' +
    '<body><pre id="out"></pre><script src="/bundle.js"></script></body></html>';

const server = http.createServer((req, res) => {
    const path = req.url.split('?')[0];
    if (path === '/page.html') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(page);
    } else if (path === '/bundle.js') {
        res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
        res.end(bundle);
    } else {
        res.writeHead(404);
        res.end();
    }
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\n'));
