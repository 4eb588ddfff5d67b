package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/zumo-go/zumo"
)

// Todo is a row of the backend's todoitem table and the JSON this service
// speaks. Version is the row's version: send it back on an update or a
// delete and a concurrent change is detected instead of overwritten.
type Todo struct {
	ID       string `json:"id,omitempty"`
	Text     string `json:"text"`
	Complete bool   `json:"complete"`
	Version  string `json:"version,omitempty"`
}

// maxList bounds what one GET /todos returns.
const maxList = 1000

type api struct {
	todos *zumo.Table[Todo]
	log   *slog.Logger
}

// newAPI returns the service's routes:
//
//	GET    /todos[?complete=true|false]  every item (at most 1,000), oldest first
//	POST   /todos                        insert; 201 with the saved item
//	GET    /todos/{id}                   one item
//	PUT    /todos/{id}                   update; 409 with the current item when the version is stale
//	DELETE /todos/{id}[?version=v]       delete; 204
func newAPI(todos *zumo.Table[Todo], log *slog.Logger) http.Handler {
	a := &api{todos: todos, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /todos", a.list)
	mux.HandleFunc("POST /todos", a.create)
	mux.HandleFunc("GET /todos/{id}", a.get)
	mux.HandleFunc("PUT /todos/{id}", a.update)
	mux.HandleFunc("DELETE /todos/{id}", a.remove)
	return mux
}

func (a *api) list(w http.ResponseWriter, r *http.Request) {
	q := a.todos.Query().OrderBy("createdAt").ThenBy("id").Take(maxList)
	switch c := r.URL.Query().Get("complete"); c {
	case "":
	case "true", "false":
		q = q.Where(zumo.Field("complete").Eq(c == "true"))
	default:
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "complete must be true or false"})
		return
	}
	items := []Todo{}
	for it, err := range q.All(r.Context()) {
		if err != nil {
			a.fail(w, r, err)
			return
		}
		items = append(items, it)
	}
	writeJSON(w, http.StatusOK, items)
}

func (a *api) create(w http.ResponseWriter, r *http.Request) {
	var in Todo
	if !readJSON(w, r, &in) {
		return
	}
	in.Version = "" // a new item has no version; the backend assigns it
	saved, err := a.todos.Insert(r.Context(), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/todos/"+saved.ID)
	writeJSON(w, http.StatusCreated, saved)
}

func (a *api) get(w http.ResponseWriter, r *http.Request) {
	item, err := a.todos.Lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, item)
}

func (a *api) update(w http.ResponseWriter, r *http.Request) {
	var in Todo
	if !readJSON(w, r, &in) {
		return
	}
	in.ID = r.PathValue("id")
	saved, err := a.todos.Update(r.Context(), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, saved)
}

func (a *api) remove(w http.ResponseWriter, r *http.Request) {
	item := Todo{ID: r.PathValue("id"), Version: r.URL.Query().Get("version")}
	if _, err := a.todos.Delete(r.Context(), item); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// readJSON decodes the request body (at most 64 KiB) into v, or answers 400.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeJSON(w, http.StatusUnsupportedMediaType, errorBody{Error: "send application/json"})
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid JSON body: " + err.Error()})
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
