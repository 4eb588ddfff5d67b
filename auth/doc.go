// Package auth logs users in to a Mobile Apps / Mobile Services backend and
// keeps them logged in: it reads a token's expiry, logs in again before a
// request would fail, and on a 401 logs in once for every waiting request
// and resends.
//
// auth knows about users and HTTP requests, not tables: the root package
// zumo puts its Handler in the client's chain. Nothing here needs a pointer
// back to the client; the login requests go through a Service, which holds
// the plain transport underneath the chain.
package auth
