// The check's steps in a real browser: bundled with browserify into the
// page that page-server.js serves, from another origin than the backend.
// The page's address carries the backend: page.html#URL|USERNAME|PASSWORD.
// The transcript goes into <pre id="out">; the title says when it ends.
'use strict';

const { MobileServiceClient } = require('azure-mobile-apps-client');
const steps = require('./steps');

const [url, username, password] = decodeURIComponent(location.hash.slice(1)).split('|');
const pre = document.getElementById('out');
steps(MobileServiceClient, url, username, password, line => { pre.textContent += line + '\n'; })
    .then(() => { document.title = 'done'; })
    .catch(err => {
        pre.textContent += 'error: ' + (err && err.message || err) + ' status=' + steps.status(err) + '\n';
        document.title = 'failed';
    });
