// Package offline keeps a local copy of Mobile Apps tables that an app
// reads and writes without a network, and synchronises it with the
// service: local changes are queued and pushed, server changes are pulled
// incrementally.
//
//	store, err := sqlitestore.Open("todo.db") // or offline.NewMemoryStore()
//	sc, err := offline.New(client, store, offline.WithResolver(offline.ServerWins))
//	todos := offline.GetTable[TodoItem](sc, "todoitem")
//	item, err := todos.Insert(ctx, TodoItem{Text: "milk"})   // local, queued
//	open, err := todos.Where(zumo.Field("complete").Eq(false)).OrderBy("text").ToSlice(ctx)
//	_, err = sc.Push(ctx)                                      // send the queue
//	_, err = todos.Pull(ctx, "all", todos.Query())             // fetch changes
//
// # Model
//
// A Table's writes change a row in the Store and queue an operation for
// it in the same transaction, so a process killed at any point never
// loses a queued change nor leaves a row without its operation. A row has
// at most one queued operation: later changes collapse into it as the
// official clients do (insert+update is an insert, insert+delete is
// nothing while the insert is unsent, update+delete is a delete; an
// insert of a row with an operation, or any change after a delete, fails
// with ErrQueue).
//
// Push sends the queue in order with the online table (zumo.Table): the
// offline package sits beside it and uses it. Conflicts (409, 412) go to
// the Resolver (ServerWins, ClientWins, Merge or your own); unresolved
// ones stay queued and are reported in a *PushError. Operations whose
// answer was lost are resent safely.
//
// Pull pages through the server's changes with keyset paging on
// (updatedAt, id) and keeps a delta token per table and query id, stored
// with each page in one transaction. Local queries use the online query
// builder (zumo.Expr filters, OrderBy, Skip, Take, Select) and mean what
// the service would make of the same OData.
//
// Everything is safe for concurrent use: pushes, pulls and purges run one
// at a time; local reads and writes run alongside them. docs/offline.md
// describes the model in more detail.
package offline
