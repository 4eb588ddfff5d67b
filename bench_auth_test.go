package zumo

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkToSliceWithUser is BenchmarkToSlice for a logged-in client:
// the auth handler attaches the user's token to every request (a copy of
// the request, as the RoundTripper contract asks).
func BenchmarkToSliceWithUser(b *testing.B) {
	srv := pageServer(b)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "sid:1", "exp": time.Now().Add(24 * time.Hour).Unix(),
	}).SignedString([]byte("bench key"))
	if err != nil {
		b.Fatal(err)
	}
	c, err := NewClient(srv.URL, WithUser(NewUser("sid:1", tok)))
	if err != nil {
		b.Fatal(err)
	}
	q := GetTable[TodoItem](c, "todoitem").Where(Field("complete").Eq(false)).OrderBy("priority").Take(50)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		items, err := q.ToSlice(ctx)
		if err != nil || len(items) != 50 {
			b.Fatal(err, len(items))
		}
	}
}
