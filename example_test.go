package zumo_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/zumo-go/zumo"
)

type TodoItem struct {
	ID       string `json:"id,omitempty"`
	Text     string `json:"text"`
	Complete bool   `json:"complete"`
	Priority int    `json:"priority"`
	Version  string `json:"version,omitempty"`
}

// backend is a tiny stand-in for a Mobile Apps backend.
func backend() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tables/todoitem", func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query(); strings.Contains(q.Get("$filter"), "id gt") || q.Get("$skip") != "" && q.Get("$skip") != "0" {
			_, _ = w.Write([]byte("[]")) // one row in all: none after it
			return
		}
		_ = json.NewEncoder(w).Encode([]TodoItem{{ID: "1", Text: "buy milk", Version: "AAA="}})
	})
	mux.HandleFunc("POST /tables/todoitem", func(w http.ResponseWriter, r *http.Request) {
		var it TodoItem
		_ = json.NewDecoder(r.Body).Decode(&it)
		it.ID, it.Version = "2", "AAB="
		w.Header().Set("ETag", `"AAB="`)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(it)
	})
	mux.HandleFunc("PATCH /tables/todoitem/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"ZZZ="`)
		w.WriteHeader(http.StatusPreconditionFailed)
		_ = json.NewEncoder(w).Encode(TodoItem{ID: r.PathValue("id"), Text: "changed elsewhere", Version: "ZZZ="})
	})
	mux.HandleFunc("DELETE /tables/todoitem/{id}", func(w http.ResponseWriter, r *http.Request) {
		// A soft delete: the row stays, hidden, with a new version.
		w.Header().Set("ETag", `"AAC="`)
		_ = json.NewEncoder(w).Encode(TodoItem{ID: r.PathValue("id"), Text: "buy milk", Version: "AAC="})
	})
	mux.HandleFunc("POST /tables/todoitem/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-Match") != `"AAC="` {
			w.WriteHeader(http.StatusPreconditionFailed)
			return
		}
		w.Header().Set("ETag", `"AAD="`)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(TodoItem{ID: r.PathValue("id"), Text: "buy milk", Version: "AAD="})
	})
	mux.HandleFunc("GET /api/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.example/api/moved?key=secret", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("GET /api/hello", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"greeting": "hello " + r.URL.Query().Get("name")})
	})
	return httptest.NewServer(mux)
}

func ExampleNewClient() {
	srv := backend()
	defer srv.Close()

	client, err := zumo.NewClient(srv.URL)
	if err != nil {
		log.Fatal(err)
	}
	todos := zumo.GetTable[TodoItem](client, "todoitem")
	items, err := todos.Where(zumo.Field("complete").Eq(false)).Take(10).ToSlice(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(items[0].Text)
	// Output: buy milk
}

func ExampleTable_Insert() {
	srv := backend()
	defer srv.Close()
	client, _ := zumo.NewClient(srv.URL)
	todos := zumo.GetTable[TodoItem](client, "todoitem")

	saved, err := todos.Insert(context.Background(), TodoItem{Text: "walk the dog"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(saved.ID, saved.Version)
	// Output: 2 AAB=
}

func ExamplePreconditionFailedError() {
	srv := backend()
	defer srv.Close()
	client, _ := zumo.NewClient(srv.URL)
	todos := zumo.GetTable[TodoItem](client, "todoitem")

	_, err := todos.Update(context.Background(), TodoItem{ID: "1", Text: "mine", Version: "AAA="})
	var conflict *zumo.PreconditionFailedError[TodoItem]
	if errors.As(err, &conflict) {
		// The server's copy, with the version to retry with.
		fmt.Println(conflict.Item.Text, conflict.Item.Version)
	}
	fmt.Println(errors.Is(err, zumo.ErrPreconditionFailed))
	// Output:
	// changed elsewhere ZZZ=
	// true
}

// Delete returns the server's final copy: on a soft-delete table its new
// version is what Undelete needs.
func ExampleTable_Delete() {
	srv := backend()
	defer srv.Close()
	client, _ := zumo.NewClient(srv.URL)
	todos := zumo.GetTable[TodoItem](client, "todoitem")
	ctx := context.Background()

	gone, err := todos.Delete(ctx, TodoItem{ID: "1", Version: "AAA="})
	if err != nil {
		log.Fatal(err)
	}
	back, err := todos.Undelete(ctx, gone)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(gone.Version, back.Version)
	// Output: AAC= AAD=
}

// A redirect to another origin is not followed: nothing (the app key, the
// caller's headers, a body) goes there, and the error names only the
// target's origin.
func ExampleRedirectError() {
	srv := backend()
	defer srv.Close()
	client, _ := zumo.NewClient(srv.URL)

	_, err := zumo.InvokeAPI[json.RawMessage](context.Background(), client, "moved", nil, zumo.WithMethod(http.MethodGet))
	var re *zumo.RedirectError
	if errors.As(err, &re) {
		fmt.Println(re.StatusCode, re.Origin)
	}
	fmt.Println(errors.Is(err, zumo.ErrCrossOriginRedirect))
	// Output:
	// 307 https://elsewhere.example
	// true
}

func ExampleQuery_QueryString() {
	client, _ := zumo.NewClient("https://example.azurewebsites.net/")
	todos := zumo.GetTable[TodoItem](client, "todoitem")

	base := todos.Where(zumo.Field("complete").Eq(false)) // shared, never changed
	q := base.OrderByDescending("priority").Skip(20).Take(10).Select("id", "text")
	s, _ := q.QueryString()
	fmt.Println(s)
	s, _ = todos.Where(zumo.StartsWith(zumo.Field("text"), "O'Brien")).QueryString()
	fmt.Println(s)
	// Output:
	// $filter=(complete%20eq%20false)&$orderby=priority%20desc&$skip=20&$top=10&$select=id,text
	// $filter=startswith(text,'O%27%27Brien')
}

func ExampleQuery_All() {
	srv := backend()
	defer srv.Close()
	client, _ := zumo.NewClient(srv.URL)
	todos := zumo.GetTable[TodoItem](client, "todoitem")

	for item, err := range todos.Query().OrderBy("text").All(context.Background()) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(item.Text)
	}
	// Output: buy milk
}

func ExampleInvokeAPI() {
	srv := backend()
	defer srv.Close()
	client, _ := zumo.NewClient(srv.URL)

	type hello struct {
		Greeting string `json:"greeting"`
	}
	got, err := zumo.InvokeAPI[hello](context.Background(), client, "hello", nil,
		zumo.WithMethod(http.MethodGet), zumo.WithParam("name", "gopher"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Greeting)
	// Output: hello gopher
}

// The installation id is made once and persisted; every later start reads
// the same one.
func ExampleInstallationIDFile() {
	dir, err := os.MkdirTemp("", "zumo-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "installation-id")
	first, err := zumo.InstallationIDFile(path)
	if err != nil {
		log.Fatal(err)
	}
	again, _ := zumo.InstallationIDFile(path)
	client, err := zumo.NewClient("https://myapp.azurewebsites.net/", zumo.WithInstallationID(first))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(first == again, client.InstallationID() == first)
	// Output: true true
}
