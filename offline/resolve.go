package offline

import (
	"context"
	"encoding/json"
	"fmt"
)

// Conflict is a queued operation the server refused because the row
// changed there (409 Conflict or 412 Precondition Failed), as a Resolver
// sees it.
type Conflict struct {
	// Table and ID name the row.
	Table, ID string
	// Kind is the operation that was pushed.
	Kind OpKind
	// Client is the row as pushed (for a delete, the deleted row).
	Client json.RawMessage
	// Server is the server's current copy, looked up when the answer did
	// not carry it; nil when the row is gone from the server.
	Server json.RawMessage
	// Err is the server's answer: a *zumo.ConflictError or
	// *zumo.PreconditionFailedError of map[string]any.
	Err error
}

// A Resolver settles a conflict. It is called during Push, one conflict at
// a time per worker; an error leaves the operation queued and is reported
// in its OperationError.
type Resolver func(ctx context.Context, c *Conflict) (Resolution, error)

// Resolution is a Resolver's decision. Make one with TakeServer,
// TakeClient, TakeItem or Postpone.
type Resolution struct {
	take resolution
	item json.RawMessage
}

type resolution int

const (
	resPostpone resolution = iota
	resServer
	resClient
	resItem
)

// TakeServer drops the local change and stores the server's copy (or
// removes the local row when the server has none).
func TakeServer() Resolution { return Resolution{take: resServer} }

// TakeClient pushes the local change again over the server's version (an
// insert becomes an update; a row gone from the server is inserted again;
// a delete deletes the server's copy).
func TakeClient() Resolution { return Resolution{take: resClient} }

// TakeItem pushes item (for example a merge of both copies) as an update
// over the server's version, and stores the server's answer.
func TakeItem(item any) Resolution {
	b, err := json.Marshal(item)
	if err != nil {
		b = nil
	}
	return Resolution{take: resItem, item: b}
}

// Postpone leaves the operation queued and reports the conflict in the
// push's OperationError; a later push tries again.
func Postpone() Resolution { return Resolution{take: resPostpone} }

// ServerWins is a Resolver that always takes the server's copy.
func ServerWins(context.Context, *Conflict) (Resolution, error) { return TakeServer(), nil }

// ClientWins is a Resolver that always pushes the local change again.
func ClientWins(context.Context, *Conflict) (Resolution, error) { return TakeClient(), nil }

// Merge returns a Resolver that decodes both copies as T and pushes what f
// returns. When the server has no copy any more, or the local change is a
// delete, it takes the client's change instead of calling f.
func Merge[T any](f func(ctx context.Context, client, server T) (T, error)) Resolver {
	return func(ctx context.Context, c *Conflict) (Resolution, error) {
		if c.Server == nil || c.Kind == OpDelete {
			return TakeClient(), nil
		}
		var client, server T
		if err := json.Unmarshal(c.Client, &client); err != nil {
			return Postpone(), fmt.Errorf("offline: merge: local row: %w", err)
		}
		if err := json.Unmarshal(c.Server, &server); err != nil {
			return Postpone(), fmt.Errorf("offline: merge: server row: %w", err)
		}
		merged, err := f(ctx, client, server)
		if err != nil {
			return Postpone(), err
		}
		r := TakeItem(merged)
		if r.item == nil {
			return Postpone(), fmt.Errorf("offline: merge: the merged %T does not encode as JSON", merged)
		}
		return r, nil
	}
}
