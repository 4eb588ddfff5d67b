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
const steps = require('./steps');

const [url, username, password] = process.argv.slice(2);
if (!url || !username || !password) {
    process.stderr.write('usage: node check.js URL USERNAME PASSWORD\n');
    process.exit(2);
}

steps(MobileServiceClient, url, username, password, line => process.stdout.write(line + '\n')).catch(err => {
    process.stderr.write('check.js: ' + (err && err.stack || err) + ' status=' + steps.status(err) + '\n');
    process.exit(1);
});
