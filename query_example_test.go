package zumo_test

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/zumo-go/zumo"
)

// decoded prints a query string as a server reads it.
func decoded(qs string, err error) {
	if err != nil {
		fmt.Println(err)
		return
	}
	s, _ := url.QueryUnescape(qs)
	fmt.Println(s)
}

func ExampleExpr_In() {
	client, _ := zumo.NewClient("https://example.azurewebsites.net/")
	todos := zumo.GetTable[TodoItem](client, "todoitem")

	decoded(todos.Where(zumo.Field("id").In("a", "b", "c")).QueryString())
	decoded(todos.Where(zumo.Field("id").In()).QueryString()) // matches nothing
	// Output:
	// $filter=(((id eq 'a') or (id eq 'b')) or (id eq 'c'))
	// $filter=(true eq false)
}

func ExampleRaw() {
	client, _ := zumo.NewClient("https://example.azurewebsites.net/")
	todos := zumo.GetTable[TodoItem](client, "todoitem")

	q := todos.Where(zumo.Raw("priority eq 1 or priority eq 2")).Where(zumo.Field("complete").Eq(false))
	decoded(q.QueryString())
	// Output:
	// $filter=((priority eq 1 or priority eq 2) and (complete eq false))
}

func ExampleQuery_AllowFields() {
	client, _ := zumo.NewClient("https://example.azurewebsites.net/")
	todos := zumo.GetTable[TodoItem](client, "todoitem")

	// A misspelt field is an error, not an empty result.
	_, err := todos.Where(zumo.Field("prioirty").Gt(1)).QueryString()
	var unknown *zumo.UnknownFieldError
	if errors.As(err, &unknown) {
		fmt.Printf("%s: did you mean %s?\n", unknown.Field, unknown.Nearest)
	}
	// A column TodoItem does not declare is named explicitly.
	decoded(todos.Query().AllowFields("due").Where(zumo.Field("due").Ne(nil)).OrderBy("due").QueryString())
	// Output:
	// prioirty: did you mean priority?
	// $filter=(due ne null)&$orderby=due
}
