// Package zumotest is an in-process fake Azure Mobile Apps backend for
// tests, in the spirit of net/http/httptest. It speaks the wire protocol
// (tables, OData queries, optimistic concurrency, soft delete, login and
// token refresh, custom APIs) with the behaviour of Microsoft's official
// Node.js server (azure-mobile-apps 4.x), keeps its state in memory, and
// adds hooks for tests: a controllable clock, a request log, counters and
// fault injection.
//
// # Starting a server
//
//	clock := zumotest.NewClock(time.Now())
//	srv := zumotest.NewServer(t,
//		zumotest.WithClock(clock.Now),
//		zumotest.WithTable("todoitem", zumotest.SoftDelete(), zumotest.Authenticated(),
//			zumotest.Seed(TodoItem{ID: "1", Text: "milk"})),
//		zumotest.WithUser("custom", "ann", "s3cret", "sid:ann"),
//		zumotest.WithAPI("hello", helloHandler),
//	)
//	// srv.URL is "http://127.0.0.1:port"; the server closes with the test.
//
// New returns a server that is not listening: it is an http.Handler to
// mount anywhere (http.StripPrefix works; Link headers keep the original
// path), or call Start / StartTLS and Close yourself. Every method is safe
// for concurrent use.
//
// # Routes
//
// Mobile Apps 2.0 (the default):
//
//	GET    /tables/{t}            query: $filter $orderby $skip $top $select $inlinecount=allpages __includeDeleted
//	POST   /tables/{t}            insert: 201, the row and ETag: "<version>"
//	GET    /tables/{t}/{id}       lookup: 200 or 404
//	PATCH  /tables/{t}/{id}       partial update: 200; If-Match or a body version for concurrency
//	DELETE /tables/{t}/{id}       delete: 200 with the deleted row
//	POST   /tables/{t}/{id}       undelete: 201
//	*      /api/{name}[/…]        custom APIs (WithAPI)
//	POST   /.auth/login/{provider} client-directed login
//	GET    /.auth/refresh         a new token for the same user
//	GET    /.auth/me              the current user
//	GET    /.auth/login/{provider}[/token] server-directed (browser) login with PKCE (WithBrowserLogin)
//	PUT    /push/installations/{id}   register for push (Installation, Installations)
//	DELETE /push/installations/{id}   unregister
//
// The id is one path segment, percent-decoded, so ids may contain "/", "?",
// "#" or any Unicode when the client escapes them. Table and API names are
// case-insensitive, as Express routes are.
//
// With WithLegacy the server is a Mobile Services backend instead: system
// columns are named __createdAt, __updatedAt, __version and __deleted and
// are returned only when asked for with __systemproperties (a comma list or
// *); every request must carry the X-ZUMO-APPLICATION key; login is
// POST /login/{provider}; there is no /.auth route.
//
// # Tables
//
// Rows are JSON objects with scalar values. The server adds the system
// columns id (a GUID string unless the client sends one), createdAt and
// updatedAt (RFC 3339, milliseconds, UTC, from the server clock), version
// (an opaque base64 string that changes on every write) and deleted.
// Single-item responses carry a strong ETag: "<version>".
//
//   - Insert of an existing id: 409 whose body echoes the request item, as
//     the official server does (not the stored row).
//   - createdAt, updatedAt or deleted in a body: 400 (reserved).
//   - If-Match that differs from the row's version: 412 with the current row
//     and its ETag. If-Match: * always gets 412, as on the official server.
//   - A stale version in a PATCH body without If-Match: 409 with the current
//     row.
//   - Soft delete (SoftDelete): deleted rows are hidden from lists unless
//     __includeDeleted has a non-empty value (any: "false" too; an empty
//     "__includeDeleted=" does not count), and lookups, updates and deletes
//     of them get 404 even with __includeDeleted.
//   - Paging: $top is honoured as it is, up to MaxTop (default 1000; above
//     it, 400). Without $top (or with $top=0) a list returns one page of
//     PageSize rows (default 50), and when rows remain a
//     Link: <absolute URL>; rel=next header points at them: the same
//     scheme, host:port, path and query, with $skip advanced. A page that
//     ends exactly at the last row gets no Link.
//   - $inlinecount=allpages wraps the page: {"results":[…],"count":N}, where
//     N counts every matching row before $skip/$top.
//   - $select returns exactly the listed columns, in that order (id only if
//     listed; null for a column the row lacks). It also applies to single-item
//     responses.
//   - $orderby takes several keys (a, b desc); ties, and lists without
//     $orderby, keep insertion order.
//   - $filter is the OData v3 subset the official clients write, evaluated
//     with SQL semantics (see the internal odata package). A filter that does
//     not parse is a 400 whose message gives the position:
//     {"error":"invalid $filter at position 12: …"}.
//
// Errors are JSON {"error":"message"}, except the 401s described below.
//
// # Authentication
//
// Tokens are HS256 JWTs with sub (the user id), iat, nbf, exp, iss and aud
// (both "urn:microsoft:windows-azure:zumo", what the official server checks
// when it is not hosted on App Service), idp (the provider) and a random
// jti. A token sent in X-ZUMO-AUTH (or Authorization: Bearer) is verified on
// every route except login, even on anonymous tables; failures are 401
// with the body of the jsonwebtoken package, e.g.
// {"name":"TokenExpiredError","message":"jwt expired","expiredAt":"…"} or
// {"name":"JsonWebTokenError","message":"invalid signature"}. A request
// without a token to an Authenticated table or API gets 401 with the plain
// text "You must be logged in to use this application".
//
// Login accepts, for the well-known providers (aad, apple, facebook, google,
// microsoftaccount, twitter), any non-empty provider token
// ({"access_token":…}, {"id_token":…}, {"authenticationToken":…}) and makes
// a stable user id from it; WithUser adds username/password accounts
// (typically to "custom") and WithLogin any check of your own. The answer is
// {"authenticationToken":"<jwt>","user":{"userId":"…"}}.
//
// Expire tokens without sleeping: pass a Clock's Now to WithClock and call
// Advance. RotateKey invalidates every token issued so far; IssueToken makes
// one directly.
//
// # Test hooks
//
// Requests returns the request log (method, decoded path and query, headers
// with X-ZUMO-AUTH, X-ZUMO-APPLICATION and Authorization redacted, table
// bodies, status, user); no token ever reaches it. Stats counts requests,
// logins, refreshes, 401s, faults and requests per route; Reset clears
// both. AddFault, FailNext, DelayNext and DropNext make the next requests
// (or those matching a method and path prefix) fail with a status, wait
// (real time, ending early when the client gives up), or lose their
// connection. Rows, Row, Seed and Truncate inspect and change tables
// directly.
//
// # Differences from the official Node server
//
// Each of these is deliberate: the fake is stricter or more correct where
// the official behaviour is a bug a client must merely survive, and simpler
// where the official behaviour depends on the database.
//
//   - Link header: correct and RFC 8288 (angle brackets, the request's
//     scheme, host:port and table path), and only when the page size cut a
//     list short and rows remain. The official server sends
//     "http://127.0.0.1/?%24top=50&%24skip=50; rel=next" — no port, path
//     "/", no brackets, every request parameter kept (in Node's escaping)
//     with $top and $skip last — whenever a page is full: after a full last
//     page (a link to an empty page), and also when the client's own $top
//     was satisfied ($top=2 answered with 2 rows gets a link). Clients must
//     cope with both; tests of the broken form need the real server.
//   - A $filter, $orderby or $select that does not parse is a 400 with the
//     position, not a 500, so tests can assert on it. A filter that parses
//     but cannot be evaluated on a row (ordering a string against a number,
//     arithmetic overflow) is also a 400.
//   - startswith, endswith, substringof, indexof, mod, length, year and the
//     other functions work, as on Azure SQL; on the official server's sqlite
//     provider startswith, endswith, substringof, indexof and mod silently
//     match nothing, and length and year fail with 500.
//   - tolower and toupper change every letter (Unicode case mapping); on
//     sqlite they change ASCII letters only, so tolower('ÜBER') is 'Über'.
//   - Numbers written without a fraction are integers, and div on two
//     integers truncates (5 div 2 is 2), as SQL does for INT columns and as
//     a .NET backend with int properties does. The official Node server
//     stores every number as a float (FLOAT(53) on Azure SQL, REAL on
//     sqlite), so 5 div 2 is 2.5 there.
//   - There is no schema: a row has exactly the properties written to it.
//     The official server has one (declared columns, plus those dynamic
//     schema adds): every row has every column, null when not set, so
//     inserting {"text":"x"} answers "due":null,"category":null,… and a
//     column one insert adds appears as null in every other row.
//   - A column no row has is null: (nosuch eq 'x') gives 200 [] as on the
//     official server, but (nosuch eq null) matches every row where the
//     official server gives []. Column names are case-sensitive (sqlite's
//     are not).
//   - Rows without $orderby come back in insertion order (the official
//     server promises no order).
//   - Versions are the base64 of an 8-byte counter shared by the whole
//     server (like SQL Server's rowversion), not sqlite's per-row counter
//     ("MQ==" for every new row), so a version never repeats.
//   - Property values must be scalars (string, number, boolean, null);
//     objects and arrays get 400. Numbers keep their JSON text exactly.
//   - A property named like a system column is reserved only in its own
//     generation (createdAt is an ordinary column on a legacy server).
//   - ETag is sent on single-item responses only; the official server also
//     sends Express's weak W/"…" body hash on lists, errors and APIs.
//   - Unknown routes get a JSON 404 {"error":…} (Express sends HTML);
//     unsupported methods (HEAD, PUT) get 405 with Allow (HEAD on a table is
//     a 500 on the official server).
//   - A query option given twice ($top=1&$top=2), a negative or non-numeric
//     $skip/$top and a malformed query string are 400.
//   - Request bodies are parsed as JSON whatever their Content-Type, up to
//     4 MiB (413 beyond).
//   - ZUMO-API-VERSION is checked on /tables only (as on the official Node
//     server; the .NET server also checks /api): WithStrictAPIVersion checks
//     /api too. It may also come as a ZUMO-API-VERSION query parameter. On a
//     legacy server the header is refused on /tables and /api, and the app
//     key is checked on every route.
//   - Login routes ignore a token sent with them. Server-directed (browser)
//     login and PKCE code exchange are not implemented (GET on a login route
//     is a 405). Refresh issues a fresh token for any provider but, unlike
//     App Service (which allows a grace period), refuses an expired token.
//   - /.auth/me returns a simplified App Service shape without provider
//     tokens.
//   - Token verification follows jsonwebtoken 8 (signature, then nbf, exp
//     with no clock tolerance, audience, issuer); tokens also carry idp, ver
//     and a random jti, so two tokens issued in the same second differ.
package zumotest
